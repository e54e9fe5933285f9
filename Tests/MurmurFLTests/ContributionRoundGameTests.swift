import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurFL

/// Sub-model reconstruction: v(S) = u(server step from w_t along the coalition's average).
@Suite(.ownThreads) struct ContributionRoundGameTests {
    /// Three clients, d = 2, linear utility u(w) = w₀ + w₁.
    static let results = [
        FitResult(client: 0, delta: [1, 0], sampleCount: 1, trainLoss: 0),
        FitResult(client: 1, delta: [0, 2], sampleCount: 3, trainLoss: 0),
        FitResult(client: 2, delta: [2, 2], sampleCount: 4, trainLoss: 0),
    ]
    static let global: [Float] = [1, 1]
    static func sum(_ w: [Float]) -> Double { Double(w.reduce(0, +)) }

    /// FedAvg, server lr 0.5. Δ̄_N = (1·[1,0] + 3·[0,2] + 4·[2,2]) / 8 = [9/8, 14/8], sum 23/8;
    /// without 0: (6 + 16)/7 = 22/7; without 1: ([1,0] + [8,8]) / 5 → 17/5; without 2: 7/4.
    /// LOO_i = 0.5·(23/8 − sum Δ̄_{N∖i}).
    @Test func leaveOneOutHandComputed() throws {
        var game = RoundGame(
            players: Self.results.map(CoalitionAveraging.samples.player), global: Self.global,
            strategy: FedAvg(serverLearningRate: 0.5), round: 1, utility: Self.sum)
        #expect(try game.value([]) == 2)
        #expect(abs(try game.value([0, 1, 2]) - (2 + 0.5 * 23 / 8)) < 1e-6)
        let loo = try LeaveOneOut.values(&game)
        let expected = [23.0 / 8 - 22.0 / 7, 23.0 / 8 - 17.0 / 5, 23.0 / 8 - 7.0 / 4].map { 0.5 * $0 }
        for i in 0..<3 { #expect(abs(loo[i] - expected[i]) < 1e-6, "client \(i): \(loo[i]) vs \(expected[i])") }
    }

    /// v(N) is the model the round's real aggregation produced (FedAvg's weighted mean + step).
    @Test func fullCoalitionIsTheRealRound() throws {
        var strategy: any Strategy = FedAvgM(parameterCount: 2, serverLearningRate: 1, momentum: 0.9)
        var real = Self.global
        try strategy.aggregate(global: &real, results: Self.results, round: 1)  // round 1 primes the momentum
        let before = strategy
        var next = real
        try strategy.aggregate(global: &next, results: Self.results, round: 2)
        let game = RoundGame(
            players: Self.results.map(CoalitionAveraging.samples.player), global: real,
            strategy: before, round: 2, utility: Self.sum)
        #expect(game.model([2, 0, 1]) == next)
        #expect(game.model([]) == real)
    }

    /// Secure-aggregation averaging: every update clipped to L2 ≤ C, then the plain mean.
    @Test func uniformAveragingClipsAndIgnoresSamples() throws {
        let players = Self.results.map(CoalitionAveraging.uniform(clip: 1).player)
        #expect(players.allSatisfy { $0.weight == 1 })
        let game = RoundGame(players: players, global: [0, 0], strategy: FedAvg(), round: 1, utility: Self.sum)
        let s = Float(0.5.squareRoot())
        let expected: [Float] = [(1 + 0 + s) / 3, (0 + 1 + s) / 3]
        let got = game.model([0, 1, 2])
        #expect(abs(got[0] - expected[0]) < 1e-6 && abs(got[1] - expected[1]) < 1e-6)
    }
}
