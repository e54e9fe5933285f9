import MurmurTestSupport
import Testing
@testable import MurmurFL

/// Wrappers keep the wrapped strategy's client configuration and server step (`WrappingStrategy`).
@Suite(.ownThreads) struct WrappingStrategyTests {
    @Test func wrappersForwardConfigureFitAndTheServerStep() throws {
        let plan = LocalTrainingPlan(epochs: 1, batchSize: 8, learningRate: 0.1)
        let base = FedProx(mu: 0.25, serverLearningRate: 0.5)
        let wrappers: [any Strategy] = [
            SecureAggregation(base: base, settings: SecAggSettings(), seed: 1),
            CollusionStrategy(base: base, attack: .alie, malicious: [0]),
            RobustStrategy(base: base, aggregator: CoordinateMedian(), initial: [0, 0]),
        ]
        for var w in wrappers {
            #expect(w.configureFit(round: 3, plan: plan).proximalMu == 0.25, "\(w.name)")
            var global: [Float] = [1, 1], expected: [Float] = [1, 1]
            var b: any Strategy = base
            b.applyServerUpdate([2, -2], to: &expected, round: 1)
            w.applyServerUpdate([2, -2], to: &global, round: 1)
            #expect(global == expected, "\(w.name)")
        }
    }
}
