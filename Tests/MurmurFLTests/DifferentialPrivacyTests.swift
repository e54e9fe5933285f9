import Foundation
import MurmurPrivacy
import MurmurTestSupport
import Testing
@testable import MurmurFL

@Suite(.ownThreads) struct DifferentialPrivacyTests {
    func result(_ client: Int, _ delta: [Float], samples: Int = 10) -> FitResult {
        FitResult(client: client, delta: delta, sampleCount: samples, trainLoss: 0)
    }

    /// With σ = 0 the wrapper is clip-then-sum over the fixed denominator (McMahan et al. 2018 f̃_f).
    @Test func clipsEachDeltaAndUsesFixedDenominator() throws {
        let dp = try DifferentialPrivacy(base: FedAvg(), mode: .central, noiseMultiplier: 0, clipNorm: 1,
                                         denominator: 4, parameterCount: 2, noise: .seeded, seed: 1)
        // ‖(3,4)‖ = 5 → (0.6, 0.8); (0.3, 0) is inside the ball. Sample counts are ignored.
        let out = try dp.combine([result(0, [3, 4], samples: 100), result(1, [0.3, 0], samples: 1)])
        #expect(abs(out[0] - 0.9 / 4) < 1e-6 && abs(out[1] - 0.8 / 4) < 1e-6)
    }

    @Test func centralNoiseHasStdSigmaTimesClipOverDenominator() throws {
        let n = 20_000
        let dp = try DifferentialPrivacy(base: FedAvg(), mode: .central, noiseMultiplier: 2, clipNorm: 0.5,
                                         denominator: 10, parameterCount: n, noise: .seeded, seed: 7)
        let out = try dp.combine([])  // an empty Poisson round still releases noise
        #expect(out.count == n)
        let mean = out.reduce(0.0) { $0 + Double($1) } / Double(n)
        let std = (out.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n) - mean * mean).squareRoot()
        #expect(abs(std - 0.1) < 0.003)  // σC/D = 2·0.5/10; 3 standard errors ≈ 0.0015
        #expect(abs(mean) < 0.003)
    }

    @Test func seededNoiseReproducesAndSecureNoiseDiffers() throws {
        func run(_ kind: NoiseSourceKind) throws -> [Float] {
            try DifferentialPrivacy(base: FedAvg(), mode: .local, noiseMultiplier: 1, clipNorm: 1, denominator: 1,
                                    parameterCount: 8, noise: kind, seed: 3).combine([result(0, [Float](repeating: 0, count: 8))])
        }
        #expect(try run(.seeded) == run(.seeded))
        #expect(try run(.secure) != run(.secure))
    }

    @Test func adaptiveClipNormMovesTowardsMedian() throws {
        let adaptive = AdaptiveClipping(initialClipNorm: 0.1, countNoiseStd: 0.01)
        var dp = try DifferentialPrivacy(base: FedAvg(), mode: .central, noiseMultiplier: 0, clipNorm: 0.1, adaptive: adaptive,
                                         denominator: 4, parameterCount: 1, noise: .seeded, seed: 1)
        var global: [Float] = [0]
        // All four norms (1…4) exceed C = 0.1, so C grows by e^{0.2·0.5} per round until it reaches them.
        for round in 1...40 {
            try dp.aggregate(global: &global, results: (1...4).map { result($0, [Float($0)]) }, round: round)
        }
        #expect(dp.currentClipNorm > 1.5 && dp.currentClipNorm < 3.5)
    }

    @Test func poissonSelectionIsIndependentAndSeeded() {
        let online = Array(0..<1000)
        let a = ClientSelection.poisson(0.1).select(from: online, round: 1, seed: 5)
        #expect(a == ClientSelection.poisson(0.1).select(from: online, round: 1, seed: 5))
        #expect(a != ClientSelection.poisson(0.1).select(from: online, round: 2, seed: 5))
        #expect(a.count > 60 && a.count < 140)  // Binomial(1000, 0.1): mean 100, sd 9.5
        #expect(ClientSelection.poisson(0.001).allowsEmptyRound)
        #expect(throws: FLError.self) { try ClientSelection.poisson(0).validate() }
    }

    @Test func simulationReportsEpsilonEachRound() async throws {
        var c = SimulationConfig()
        c.clients = 10
        c.rounds = 3
        c.fraction = 0.5
        c.localEpochs = 1
        c.hidden = [16]
        var dp = DPConfig()
        dp.noiseMultiplier = 1
        dp.delta = 1e-5
        c.dp = dp
        let a = try await Simulation(config: c).run()
        let eps = a.history.compactMap(\.epsilon)
        #expect(eps.count == 3 && eps[0] < eps[1] && eps[1] < eps[2])
        var acc = RDPAccountant()
        try acc.compose(GaussianEvent(noiseMultiplier: 1, sampling: .poisson(rate: 0.5), count: 3))
        #expect(abs(eps[2] - (try acc.epsilon(delta: 1e-5))) < 1e-12)
        #expect(try await Simulation(config: c).run().parameters == a.parameters)  // seeded noise
    }

    @Test func calibratedSimulationMeetsTarget() throws {
        var dp = DPConfig()
        dp.targetEpsilon = 2
        let plan = try dp.plan(clients: 100, fraction: 0.1, rounds: 50)
        #expect(plan.epsilons.last! <= 2 && plan.epsilons.last! > 1.98)
        dp.adaptiveClipping = true
        // σ_b = expected clients / 20 = 0.5 is too little room for the count query at 10 clients…
        #expect(throws: FLError.self) { try dp.plan(clients: 100, fraction: 0.1, rounds: 50) }
        // …but fine at 100 expected clients (σ_b = 5): the update noise makes up the difference.
        let plain = try { var d = dp; d.adaptiveClipping = false; return try d.plan(clients: 1000, fraction: 0.1, rounds: 50) }()
        let adaptive = try dp.plan(clients: 1000, fraction: 0.1, rounds: 50)
        #expect(adaptive.updateNoiseMultiplier > adaptive.effectiveNoiseMultiplier)
        #expect(abs(adaptive.effectiveNoiseMultiplier - plain.effectiveNoiseMultiplier) < 1e-12)
    }

    @Test func invalidSettingsAreRejected() {
        var dp = DPConfig()
        #expect(throws: FLError.self) { try dp.validate() }  // neither --noise nor --target-epsilon
        dp.noiseMultiplier = 1
        dp.delta = 1
        #expect(throws: FLError.self) { try dp.validate() }
        dp.delta = 1e-5
        dp.mode = .local
        dp.adaptiveClipping = true
        #expect(throws: FLError.self) { try dp.validate() }
    }
}
