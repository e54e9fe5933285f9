import MurmurCore
import MurmurTensor
import MurmurTestSupport
import Testing
@testable import MurmurFL

@Suite(.ownThreads) struct SecureAggregationTests {
    /// The plaintext mean of the deltas clipped to L2 ≤ 1 (what secure aggregation must give).
    func clippedMean(_ rs: [FitResult], d: Int) -> [Float] {
        var expected = [Float](repeating: 0, count: d)
        for r in rs {
            var x = r.delta
            Vec.clip(&x, maxNorm: 1)
            Vec.axpy(1 / Float(rs.count), x, &expected)
        }
        return expected
    }

    func results(n: Int, d: Int, seed: UInt64) -> [FitResult] {
        var rng = SeededRNG(seed: seed)
        return (0..<n).map { i in
            FitResult(client: i * 3, delta: (0..<d).map { _ in Float(rng.nextGaussian()) * 0.1 }, sampleCount: 1 + i, trainLoss: 0)
        }
    }

    /// The securely aggregated mean equals the plaintext mean of the clipped deltas, up to the
    /// quantisation step (2C / 2^16 per coordinate).
    @Test func secureMeanMatchesPlaintextMean() throws {
        let rs = results(n: 6, d: 40, seed: 1)
        var s = SecureAggregation(base: FedAvg(), settings: SecAggSettings(), seed: 9)
        var global = [Float](repeating: 0, count: 40)
        try s.aggregate(global: &global, results: rs, round: 3)
        let expected = clippedMean(rs, d: 40)
        let step = 2 * 1 / Float(1 << 16)
        for (a, b) in zip(global, expected) { #expect(abs(a - b) <= 2 * step, "\(a) vs \(b)") }
    }

    /// Small cohorts (Poisson-sampled DP rounds pick 2 or 3 clients) still aggregate: the
    /// complete-graph fallback keeps k/2 < t ≤ k, down to a pair (t = 1).
    @Test(arguments: [2, 3, 4, 5]) func smallCohortsAggregate(_ n: Int) throws {
        let rs = results(n: n, d: 12, seed: UInt64(n))
        var s = SecureAggregation(base: FedAvg(), settings: SecAggSettings(), seed: 4)
        let p = try s.parameters(n: n)
        #expect(p.threshold <= p.degree && 2 * p.threshold > p.degree)
        var global = [Float](repeating: 0, count: 12)
        try s.aggregate(global: &global, results: rs, round: 1)
        let expected = clippedMean(rs, d: 12)
        for (a, b) in zip(global, expected) { #expect(abs(a - b) <= 4 / Float(1 << 16), "\(a) vs \(b)") }
    }

    /// Clients dropping at protocol stages still leave a valid aggregate of the survivors, and a
    /// round where too many drop fails with a clear error instead of a wrong model.
    @Test func dropoutsAtStages() throws {
        let rs = results(n: 20, d: 16, seed: 2)
        var settings = SecAggSettings()
        settings.stageDropout = 0.15
        var s = SecureAggregation(base: FedAvg(), settings: settings, seed: 4)
        var global = [Float](repeating: 0, count: 16)
        try s.aggregate(global: &global, results: rs, round: 1)
        #expect(global.allSatisfy(\.isFinite) && global.contains { $0 != 0 })
        settings.stageDropout = 0.95
        var failing = SecureAggregation(base: FedAvg(), settings: settings, seed: 4)
        #expect(throws: FLError.self) { try failing.aggregate(global: &global, results: rs, round: 1) }
    }

    @Test func simulationWithSecAggLearnsAndRefusesBadCombinations() async throws {
        var c = SimulationConfig()
        c.clients = 10
        c.rounds = 3
        c.fraction = 0.6
        c.hidden = [16]
        c.secagg = SecAggSettings()
        let r = try await Simulation(config: c).run()
        #expect(r.final.accuracy > 0.3, "accuracy \(r.final.accuracy)")
        var bad = c
        bad.aggregator = .krum
        #expect(throws: FLError.self) { try Simulation(config: bad) }
        bad = c
        bad.dp = DPConfig()
        bad.dp?.noiseMultiplier = 1
        bad.dp?.mode = .local  // distributed DP covers central mode only
        #expect(throws: FLError.self) { try Simulation(config: bad) }
        bad.dp?.mode = .central
        bad.dp?.accountant = .pld  // the DDG bound is an RDP bound
        #expect(throws: FLError.self) { try Simulation(config: bad) }
    }
}
