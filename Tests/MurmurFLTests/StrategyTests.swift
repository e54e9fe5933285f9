import MurmurTestSupport
import Testing
@testable import MurmurFL

@Suite(.ownThreads) struct StrategyTests {
    let results = [
        FitResult(client: 0, delta: [1, 2], sampleCount: 1, trainLoss: 0),
        FitResult(client: 1, delta: [4, -1], sampleCount: 3, trainLoss: 0),
    ]

    @Test func weightedMeanIsSampleWeighted() throws {
        // (1·[1,2] + 3·[4,−1]) / 4 = [3.25, −0.25]
        #expect(try weightedMeanDelta(results) == [3.25, -0.25])
        #expect(throws: FLError.self) {
            try weightedMeanDelta([FitResult(client: 0, delta: [1], sampleCount: 1, trainLoss: 0), results[0]])
        }
    }

    @Test func fedAvgAndProx() throws {
        var w: [Float] = [10, 10]
        var s = FedAvg()
        try s.aggregate(global: &w, results: results, round: 1)
        #expect(w == [13.25, 9.75])
        let prox = FedProx(mu: 0.3)
        #expect(prox.configureFit(round: 1, plan: LocalTrainingPlan(epochs: 1, batchSize: 1, learningRate: 0.1)).proximalMu == 0.3)
    }

    @Test func fedAvgMAccumulatesMomentum() throws {
        var w: [Float] = [0, 0]
        var s = FedAvgM(parameterCount: 2, serverLearningRate: 1, momentum: 0.5)
        try s.aggregate(global: &w, results: results, round: 1)  // v = Δ̄ = [3.25, −0.25]
        #expect(w == [3.25, -0.25])
        try s.aggregate(global: &w, results: results, round: 2)  // v = 0.5·v + Δ̄ = [4.875, −0.375]
        #expect(w == [8.125, -0.625])
    }

    /// One adaptive step by hand (Reddi et al. 2021, Alg. 2) with Δ̄ = [3.25, −0.25], m₀ = 0, v₋₁ = τ².
    @Test func adaptiveOptimizersFollowThePaper() throws {
        let d: [Double] = [3.25, -0.25]
        let eta = 0.1, b1 = 0.9, b2 = 0.99, tau = 1e-3
        func expected(_ vUpdate: (Double, Double) -> Double, beta1: Double) -> [Double] {
            d.map { g in
                let m = (1 - beta1) * g
                let v = vUpdate(tau * tau, g * g)
                return eta * m / (v.squareRoot() + tau)
            }
        }
        let cases: [(any Strategy, [Double])] = [
            (FedAdam(parameterCount: 2, serverLearningRate: 0.1), expected({ b2 * $0 + (1 - b2) * $1 }, beta1: b1)),
            (FedYogi(parameterCount: 2, serverLearningRate: 0.1), expected({ v, g2 in v - (1 - b2) * g2 * (v > g2 ? 1 : -1) }, beta1: b1)),
            (FedAdagrad(parameterCount: 2, serverLearningRate: 0.1), expected({ $0 + $1 }, beta1: 0)),
        ]
        for (strategy, want) in cases {
            var s = strategy
            var w: [Float] = [0, 0]
            try s.aggregate(global: &w, results: results, round: 1)
            for (a, b) in zip(w, want) { #expect(abs(Double(a) - b) < 1e-5, "\(s.name): \(a) vs \(b)") }
        }
    }

    @Test func everyStrategyKindBuilds() {
        for k in StrategyKind.allCases {
            #expect(k.make(parameterCount: 3, mu: 0.1, serverLearningRate: nil, serverMomentum: 0.9).name == k.rawValue)
        }
    }
}
