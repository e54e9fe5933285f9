import ArgumentParser
import Foundation
import MurmurFL
import MurmurNode

/// `murmur bench cluster`: the round protocol over libp2p against the same federation simulated
/// in memory — rounds per minute, bytes per client per round, and the network's overhead.
struct BenchCluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Rounds/min and bytes per client per round over libp2p on loopback vs the same federation simulated in memory.",
        discussion: """
            For each --nodes value: the bundled digits split over N clients (Dirichlet 0.5, as `murmur simulate`), the MLP 64-128-10, every client every round, 1 local epoch. The simulated run uses the in-memory transport; the networked run (LoopbackFederation) gives each client its own libp2p host (Noise + yamux over 127.0.0.1) serving /murmur/fl/1 and the aggregator another, all in this process, so the difference is the network stack: framing, encryption, loopback TCP and the fit/evaluate messages. Both runs end with the same model (checked). `ratio_vs_simulation_N` is networked time over simulated time (1 would be free networking). Figures of the evaluation on the test set are included in both.
            """)

    @OptionGroup var options: BenchOptions

    @Option(help: "Client counts, comma-separated.")
    var nodes = "20,100"

    @Option(help: "Rounds per run.")
    var rounds = 3

    func run() async throws {
        let counts = try parseList(nodes, flag: "--nodes")
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1") }
        var object: [String: Any] = ["benchmark": "cluster", "rounds": rounds]
        var table: [String] = []
        for n in counts {
            let config = try SimulationOptions.parse([
                "--clients", "\(n)", "--rounds", "\(rounds)", "--fraction", "1", "--local-epochs", "1", "--seed", "5",
            ]).config()
            options.progress("\(n) clients: simulated…")
            let simulation = try Simulation(config: config)
            var start = Date()
            let simulated = try await simulation.run()
            let simSeconds = Date().timeIntervalSince(start)
            options.progress("\(n) clients: over libp2p (\(n + 1) hosts on loopback)…")
            let federation = try await LoopbackFederation.start(simulation, deadline: .seconds(300))
            start = Date()
            let networked = try await federation.run()
            let netSeconds = Date().timeIntervalSince(start)
            let (sent, received) = federation.transport.traffic.totals
            await federation.shutdown()
            guard networked.parameters.map(\.bitPattern) == simulated.parameters.map(\.bitPattern) else {
                throw ValidationError("the networked run with \(n) clients did not end with the simulated model")
            }
            let perClientRound = Double(sent + received) / Double(n * rounds)
            object["simulated_rounds_per_minute_\(n)"] = Double(rounds) / simSeconds * 60
            object["rounds_per_minute_\(n)"] = Double(rounds) / netSeconds * 60
            object["bytes_per_client_round_\(n)"] = perClientRound
            object["ratio_vs_simulation_\(n)"] = netSeconds / simSeconds
            table.append(String(format: "%4d clients  simulated %7.1f rounds/min  libp2p %7.1f rounds/min  (%.2f× the time)  %.0f bytes per client per round",
                                n, Double(rounds) / simSeconds * 60, Double(rounds) / netSeconds * 60, netSeconds / simSeconds, perClientRound))
        }
        try options.emit(object, table: table)
    }
}
