import ArgumentParser

/// `murmur simulate`: a federation of simulated devices with every knob exposed.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a federation of devices training one model together.",
        discussion: """
            Examples:
              murmur simulate --rounds 50 --strategy fedadam
              murmur simulate --partition shards --shards-per-client 2 --model cnn
              murmur simulate --dataset synthetic --synthetic-alpha 1 --synthetic-beta 1 --partition column --clients 30 --model logreg
              murmur simulate --dataset data.csv --label-column label --json > result.json
            The same --seed gives the same final model, bit for bit.
            """
    )

    @OptionGroup var options: SimulationOptions

    @Option(help: "Write the HTML report, history.json, model.safetensors and model.json to DIR.")
    var out: String?

    @Flag(help: "Print one JSON object (accuracy, loss, rounds, clients, seconds, history, …) on stdout; progress goes to stderr.")
    var json = false

    func run() async throws {
        try await SimulationDriver.run(config: try options.config(), out: out, json: json, title: "Murmur simulation")
    }
}

/// `murmur demo`: the default federation, with a report.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo: 100 devices learn handwritten digits together (FedAvg, MLP, non-IID).",
        discussion: """
            100 simulated devices each hold a few of the bundled UCI handwritten digits, split
            non-IID (Dirichlet α = 0.5). In each of 30 rounds 20 devices train an MLP locally
            and the server averages their updates (FedAvg). The test split is never seen by any
            device. An HTML report with plots and the final model are written to --out.
            """
    )

    @Option(help: "Report folder.")
    var out: String = "murmur-report"

    @Option(help: "Seed.")
    var seed: UInt64 = 42

    @Option(help: "Rounds.")
    var rounds: Int = 30

    @Flag(help: "Print one JSON summary object instead of the text summary.")
    var json = false

    func run() async throws {
        var config = try SimulationOptions.parse([]).config()
        config.seed = seed
        config.aggregator = .mean  // the demo shows plain FedAvg averaging, not simulate's robust default
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1") }
        config.rounds = rounds
        try await SimulationDriver.run(config: config, out: out, json: json, title: "Murmur demo: 100 devices learn digits")
    }
}
