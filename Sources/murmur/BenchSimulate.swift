import ArgumentParser
import Foundation
import MurmurCore
import MurmurFL
import MurmurML

/// `murmur bench simulate`: simulated client updates per second vs Flower's simulation engine
/// running the same model as a NumPy client.
struct BenchSimulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Client updates/s: 1,000 clients × 1 local epoch of the MLP, vs Flower 1.42's simulation with a NumPy client.",
        discussion: """
            Both sides run the same federation: N clients, each with S random digits-shaped samples
            (64 features, 10 classes), an MLP 64-128-10, 1 local epoch of SGD with batch 16, FedAvg,
            every client in every round. The figure is completed client updates per second over the
            rounds (Flower's start-up excluded: the reference times its rounds from inside its
            server app).
            """)

    @OptionGroup var options: BenchOptions

    @Option(help: "Number of clients (all take part each round).")
    var clients = 1000

    @Option(help: "Samples per client.")
    var samples = 32

    @Option(help: "Rounds to time.")
    var rounds = 3

    func run() async throws {
        guard clients >= 1, samples >= 1, rounds >= 1 else { throw ValidationError("--clients, --samples and --rounds must be ≥ 1") }
        let model = ModelConfig(architecture: .mlp(hidden: [128]), inputShape: [64], classCount: 10)
        var rng = SeededRNG(seed: 1)
        let apps: [SimulatedClient] = (0..<clients).map { id in
            let f = (0..<(samples * 64)).map { _ in rng.nextFloat() }
            let l = (0..<samples).map { _ in Int32(rng.next() % 10) }
            return SimulatedClient(id: id, data: Dataset(name: "bench", features: f, labels: l, sampleShape: [64], classCount: 10), model: model)
        }
        let transport = InMemoryTransport(clients: apps, ids: apps.map(\.id), seed: 1)
        let settings = RoundSettings(
            rounds: rounds, selection: .fraction(1),
            plan: LocalTrainingPlan(epochs: 1, batchSize: 16, learningRate: 0.05), seed: 1, evaluateEvery: 0)
        var strategy: any Strategy = FedAvg()
        let initial = try Network(config: model, seed: 1).parameters
        options.progress("murmur: \(clients) clients × \(rounds) rounds…")
        let start = Date()
        _ = try await RoundRunner(transport: transport, settings: settings, evaluator: nil).run(strategy: &strategy, initial: initial) { r in
            options.progress(String(format: "  round %d: %.3f s", r.round, r.seconds))
        }
        let ours = Double(clients * rounds) / Date().timeIntervalSince(start)
        var object: [String: Any] = [
            "benchmark": "simulate", "clients": clients, "samples_per_client": samples, "rounds": rounds,
            "client_updates_per_second": ours,
        ]
        var table = [String(format: "murmur: %.0f client updates/s (%d clients × %d rounds)", ours, clients, rounds)]
        if !options.noReference {
            options.progress("flower: \(clients) clients × \(rounds) rounds (this takes a while)…")
            let ref = try options.reference("flower_sim.py", ["--clients", String(clients), "--samples", String(samples), "--rounds", String(rounds)])
            if let theirs = (ref["client_updates_per_second"] as? NSNumber)?.doubleValue, theirs > 0 {
                object["flower_client_updates_per_second"] = theirs
                object["ratio_vs_flower"] = ours / theirs
                if let v = ref["flwr"] as? String { object["flower_version"] = v }
                table.append(String(format: "flower: %.1f client updates/s; ratio %.1f×", theirs, ours / theirs))
            }
        }
        try options.emit(object, table: table)
    }
}
