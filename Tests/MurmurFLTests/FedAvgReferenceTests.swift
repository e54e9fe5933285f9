import Foundation
import MurmurCore
import MurmurML
import MurmurTestSupport
import Testing
@testable import MurmurFL

/// One FedAvg (and one FedProx) round computed by Murmur and by an independent NumPy
/// implementation (scripts/reference/fedavg_numpy.py, float64) from the same initial weights,
/// client data, batch order and hyper-parameters must agree to 1e-5.
@Suite(.ownThreads) struct FedAvgReferenceTests {
    func problem(mu: Float) throws -> (json: [String: Any], clients: [SimulatedClient], initial: [Float], plan: LocalTrainingPlan, model: ModelConfig) {
        let (train, _) = Digits.split()
        let model = ModelConfig(architecture: .mlp(hidden: [16, 12]), inputShape: [64], classCount: 10)
        let initial = try Network(config: model, seed: 11).parameters
        var rng = SeededRNG(seed: 3)
        let parts = try Partitioner.dirichlet(alpha: 1).partition(train.subset(Array(0..<90)), clients: 3, rng: &rng)
        let clients = parts.enumerated().map { i, idx in SimulatedClient(id: i, data: train.subset(idx), model: model) }
        let plan = LocalTrainingPlan(epochs: 2, batchSize: 8, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3, proximalMu: mu)
        let net = try Network(config: model, seed: 11)
        var jsonClients = [[String: Any]]()
        for c in clients {
            var r = SimulatedClient.batchOrderRNG(seed: 5, round: 1, client: c.id)
            let orders = (0..<plan.epochs).map { _ in Trainer.epochOrder(count: c.data.count, rng: &r) }
            jsonClients.append(["features": c.data.features.map(Double.init), "labels": c.data.labels.map(Int.init), "epoch_orders": orders])
        }
        let layout = net.parameterLayout.map { ["name": $0.name, "shape": $0.shape, "offset": $0.offset] as [String: Any] }
        let json: [String: Any] = [
            "layout": layout, "parameter_count": net.parameterCount, "initial": initial.map(Double.init),
            "lr": Double(plan.learningRate), "momentum": Double(plan.momentum), "weight_decay": Double(plan.weightDecay),
            "prox_mu": Double(mu), "batch_size": plan.batchSize, "classes": 10, "server_lr": 1.0, "clients": jsonClients,
        ]
        return (json, clients, initial, plan, model)
    }

    func check(strategy: any Strategy, mu: Float) async throws {
        let (json, clients, initial, plan, _) = try problem(mu: mu)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-fedavg-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: json).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let out = try await PythonReference.run("fedavg_numpy.py", [file.path])
        let reference = (try JSONSerialization.jsonObject(with: out) as? [String: Any])?["parameters"] as? [Double] ?? []
        #expect(reference.count == initial.count)

        let transport = InMemoryTransport(clients: clients, ids: clients.map(\.id), seed: 5)
        let settings = RoundSettings(rounds: 1, selection: .fraction(1), plan: plan, seed: 5, evaluateEvery: 0)
        var s = strategy
        let (ours, history) = try await RoundRunner(transport: transport, settings: settings, evaluator: nil).run(strategy: &s, initial: initial)
        #expect(history.count == 1 && history[0].completed == 3)
        var maxErr = 0.0
        for (a, b) in zip(ours, reference) { maxErr = max(maxErr, abs(Double(a) - b)) }
        #expect(maxErr < 1e-5, "max |swift − numpy| = \(maxErr)")
        // The round must actually have moved the model, or the comparison proves nothing.
        var moved = 0.0
        for (a, b) in zip(initial, reference) { moved = max(moved, abs(Double(a) - b)) }
        #expect(moved > 1e-2)
    }

    @Test func fedAvgRoundMatchesNumPy() async throws {
        try await check(strategy: FedAvg(), mu: 0)
    }

    @Test func fedProxRoundMatchesNumPy() async throws {
        try await check(strategy: FedProx(mu: 0.5), mu: 0.5)
    }
}
