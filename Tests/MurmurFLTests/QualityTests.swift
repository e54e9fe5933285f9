import MurmurCore
import MurmurML
import MurmurTestSupport
import Testing
@testable import MurmurFL

/// Seeded quality bars from the foundation issue (not timed): federated and centralized training
/// of the demo MLP on the digits test split.
@Suite(.ownThreads) struct QualityTests {
    /// 100 clients, Dirichlet α = 0.5, FedAvg + MLP must reach ≥ 93 % test accuracy within 50 rounds.
    @Test func fedAvgReaches93PercentWithin50Rounds() async throws {
        try await onOwnThreads {
            var c = SimulationConfig()
            c.rounds = 50
            c.seed = 42
            let result = try await Simulation(config: c).run()
            let best = result.history.compactMap(\.accuracy).max() ?? 0
            #expect(best >= 0.93, "best accuracy \(best)")
            #expect(result.final.accuracy >= 0.90, "final accuracy \(result.final.accuracy)")
        }
    }

    /// Centralized training of the same MLP on the whole training split must reach ≥ 96 %.
    @Test func centralizedMLPReaches96Percent() async throws {
        try await onOwnThreads {
            let (train, test) = Digits.split()
            let c = SimulationConfig()
            let net = try Network(config: ModelConfig(architecture: .mlp(hidden: c.hidden), inputShape: [64], classCount: 10), seed: 42)
            var opt = SGD(learningRate: 0.05, momentum: 0.9)
            var rng = SeededRNG(seed: 42)
            _ = Trainer.train(net, on: train, epochs: 30, batchSize: 32, optimizer: &opt, rng: &rng)
            let e = net.evaluate(test)
            #expect(e.accuracy >= 0.96, "accuracy \(e.accuracy)")
        }
    }
}
