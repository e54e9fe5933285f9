import ArgumentParser
import Foundation
import MurmurFL

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

    @Option(help: ArgumentHelp(
        "Keep the federation's ledger in DIR (new or empty): signed model-version, contribution and reward records per round in a Merkle log.",
        discussion: "Contributions are scored with --scoring (participation when not given). Inspect it with `murmur ledger verify|state|history DIR`."))
    var ledger: String?

    func run() async throws {
        var config = try options.config()
        if ledger != nil, config.scoring == nil { config.scoring = ContributionScoring(method: .participation) }
        try await SimulationDriver.run(config: config, out: out, json: json, title: "Murmur simulation", ledger: ledger)
    }
}

/// `murmur demo`: the default federation, with a report.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo: 100 devices learn handwritten digits together (FedAvg, MLP, non-IID, SecAgg+, distributed DP).",
        discussion: """
            100 simulated devices each hold a few of the bundled UCI handwritten digits, split
            non-IID (Dirichlet α = 0.5). In each of 30 rounds about 20 devices (Poisson sampling,
            q = 0.2) train an MLP locally, clip their update to L2 ≤ 0.3, add their share of
            discrete Gaussian noise, and submit it through secure aggregation (SecAgg+): the
            server learns only the noisy sum, calibrated so that the whole run is
            (ε = 8, δ = 1e-5) client-level differentially private (distributed DP-FedAvg,
            docs/privacy.md). The test split is never seen by any device. An HTML report with plots
            and the final model are written to --out.
            --no-secagg lets the server see each clipped update and add the noise itself (central
            DP); --no-dp runs without noise (higher accuracy, no privacy guarantee).
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

    @Option(help: "Client-level privacy budget ε for the whole run (δ = 1e-5).")
    var epsilon: Double = 8

    @Flag(help: "Turn differential privacy off (plain FedAvg).")
    var noDp = false

    @Flag(help: "Turn secure aggregation off: the server sees every clipped update (and adds the DP noise itself).")
    var noSecagg = false

    func run() async throws {
        var config = SimulationConfig()
        config.seed = seed
        config.aggregator = .mean  // the demo shows plain FedAvg averaging, not simulate's robust default
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1") }
        guard epsilon > 0, epsilon.isFinite else { throw ValidationError("--epsilon must be > 0") }
        config.rounds = rounds
        if !noDp {
            var dp = DPConfig()
            dp.mode = .central
            dp.clipNorm = 0.3
            dp.targetEpsilon = epsilon
            dp.delta = 1e-5
            config.dp = dp
        }
        if !noSecagg { config.secagg = SecAggSettings() }
        // The demo keeps its ledger beside the report (replacing the previous run's) and ends with
        // the top contributors, the rewards paid and the log's checkpoint.
        if config.scoring == nil { config.scoring = ContributionScoring(method: .participation) }
        let ledgerPath = URL(fileURLWithPath: out).appendingPathComponent("ledger").path
        try? FileManager.default.removeItem(atPath: ledgerPath)
        try await SimulationDriver.run(config: config, out: out, json: json, title: "Murmur demo: 100 devices learn digits", ledger: ledgerPath)
    }
}
