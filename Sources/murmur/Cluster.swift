import ArgumentParser
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MurmurCore
import MurmurFL
import MurmurNode
import NIOConcurrencyHelpers

/// `murmur cluster`: a local federation of `murmur node` processes on loopback.
struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Start a federation of murmur node processes on loopback and train the bundled digits together.",
        discussion: """
            Starts --nodes client nodes (each trains its own shard of the bundled digits, split as `murmur simulate` splits it) and one aggregator node, each a separate `murmur node` process with its own data folder, libp2p host and HTTP API. The aggregator runs the rounds over /murmur/fl/1; progress is printed as rounds complete. With the same --nodes, --rounds, --fraction and --seed, the final model CID equals that of `murmur simulate --clients N --rounds R --fraction F --seed S --out DIR`.

            --secagg, --secagg-clip, --dp, --clip, --noise, --target-epsilon, --scoring … mean what they mean for `murmur simulate` and go to every node in federation.json: with --secagg the clients serve /murmur/secagg/1 and the aggregator never sees one update; with --dp central the aggregator adds the noise, with --secagg --dp central the clients add discrete Gaussian shares. Seeded runs end with the same model CID as `murmur simulate` with the same switches. The aggregator records every round (model version, contributions, reward) in its ledger (GET /v1/ledger/state). --kill-clients F --kill-at-round R crashes that fraction of the client processes mid-round, to watch SecAgg+ recover from real dropouts.

            With --rounds it prints a summary (--json: accuracy, rounds, model, checkpoint, dashboard) and stops every node. Without --rounds it trains 10 rounds, then keeps the nodes running and the aggregator's dashboard served until Ctrl-C, which stops them all.

            Examples:
              murmur cluster --nodes 5 --rounds 5
              murmur cluster --nodes 10 --rounds 3 --secagg --kill-clients 0.3 --kill-at-round 2
              murmur cluster --nodes 20 --http-port 8080
                (then open http://127.0.0.1:8080/)
            """)

    @Option(help: "Client nodes to start (each trains one shard); one aggregator node is added.")
    var nodes = 5

    @Option(help: "Witness nodes that cosign the aggregator's log; with W > 0 a client accepts a model only from a checkpoint with --witness-quorum of their cosignatures.")
    var witnesses = 0

    @Option(help: "Witness cosignatures each checkpoint needs (default: a majority of --witnesses).")
    var witnessQuorum: Int?

    @Option(help: "Rounds to train, then print a summary and stop. Without it: 10 rounds, then serve until Ctrl-C.")
    var rounds: Int?

    @Option(help: "Fraction of the client nodes asked to train each round.")
    var fraction = 1.0

    @Option(help: "Seed of the federation (data split, initial model, batch order).")
    var seed: UInt64 = 42

    @Option(help: "The aggregator's HTTP port (dashboard at /); 0 picks a free one.")
    var httpPort = 0

    @Option(help: "Where the nodes' data folders go (default: a new temporary folder, removed at the end).")
    var dir: String?

    @Flag(help: "Print one JSON object as the summary.")
    var json = false

    // Privacy switches, named and meant as in `murmur simulate`; written to federation.json for every node.
    @Flag(help: "Secure aggregation (SecAgg+) between the nodes over /murmur/secagg/1: the aggregator learns only the sum of each round's updates.")
    var secagg = false

    @Option(help: "With --secagg: L2 bound each client applies to its update before quantisation.")
    var secaggClip: Float = 1

    @Option(help: "With --secagg: the dropout rate the SecAgg+ parameters (and distributed DP's survivor minimum) tolerate, in [0, 1). Nodes inject none: their dropouts are real.")
    var secaggDropout: Double = 0

    @OptionGroup(title: "Differential privacy (with --secagg: distributed discrete Gaussian noise added by the clients)")
    var privacy: PrivacyOptions

    @Option(help: "Score every client's contribution each round for the aggregator's ledger: participation (default), loo, gtg-shapley (not with --secagg or --dp).")
    var scoring: ContributionMethod?

    // Fault injection (docs/node.md, "Faults").
    @Option(help: "Fraction of the client nodes that crash (SIGKILL their own process) in round --kill-at-round: under --secagg half of them before sending their masked input and half after it, otherwise on the fit request. The round completes with the survivors (SecAgg+ dropout recovery); later rounds go on without the dead.")
    var killClients: Double = 0

    @Option(help: "With --kill-clients: the round in which the clients crash.")
    var killAtRound = 2

    func validate() throws {
        guard (2...200).contains(nodes) else { throw ValidationError("--nodes must be in 2…200, got \(nodes)") }
        guard (0...20).contains(witnesses) else { throw ValidationError("--witnesses must be in 0…20, got \(witnesses)") }
        if let q = witnessQuorum {
            guard witnesses > 0, (1...witnesses).contains(q) else { throw ValidationError("--witness-quorum must be in 1…--witnesses, got \(q)") }
        }
        if let rounds, rounds < 1 { throw ValidationError("--rounds must be ≥ 1, got \(rounds)") }
        guard fraction > 0, fraction <= 1 else { throw ValidationError("--fraction must be in (0, 1], got \(fraction)") }
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be a port (0…65535)") }
        guard killClients >= 0, killClients < 1 else { throw ValidationError("--kill-clients must be in [0, 1), got \(killClients)") }
        if killClients > 0 {
            guard killAtRound >= 1, killAtRound <= rounds ?? 10 else {
                throw ValidationError("--kill-at-round must be a round of the run (1…\(rounds ?? 10)), got \(killAtRound)")
            }
        }
    }

    /// The federation every node trains: `murmur simulate`'s flags with the same values, so the
    /// same switches give the same `SimulationConfig` (and model CID).
    func federationConfig(rounds: Int) throws -> SimulationConfig {
        var arguments = ["--clients", "\(nodes)", "--rounds", "\(rounds)", "--fraction", "\(fraction)", "--seed", "\(seed)"]
        if secagg {
            arguments += ["--secagg", "--secagg-clip", "\(secaggClip)", "--secagg-dropout", "\(secaggDropout)"]
        } else if secaggClip != 1 || secaggDropout != 0 {
            throw ValidationError("--secagg-clip and --secagg-dropout need --secagg")
        }
        if let dp = privacy.dp {
            arguments += ["--dp", dp.rawValue, "--clip", privacy.clip, "--delta", "\(privacy.delta)", "--accountant", privacy.accountant.rawValue,
                          "--dp-sampling", privacy.dpSampling.rawValue, "--noise-source", privacy.noiseSource.rawValue]
            if let noise = privacy.noise { arguments += ["--noise", "\(noise)"] }
            if let epsilon = privacy.targetEpsilon { arguments += ["--target-epsilon", "\(epsilon)"] }
        } else {
            _ = try privacy.config()  // refuses --noise/--target-epsilon without --dp
        }
        if let scoring { arguments += ["--scoring", scoring.rawValue] }
        return try SimulationOptions.parse(arguments).config()
    }

    /// The clients that crash under --kill-clients (a seeded pick) and where: under --secagg
    /// alternately before (`ShareBundle`) and after (`UnmaskRequest`) their masked input.
    func victims() -> [Int: String] {
        let count = Int((killClients * Double(nodes)).rounded())
        guard count > 0 else { return [:] }
        var ids = Array(0..<nodes)
        var rng = SeededRNG(seed: seed, stream: 0xC1A5_4B11)
        for i in stride(from: ids.count - 1, to: 0, by: -1) { ids.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        var out = [Int: String]()
        for (k, id) in ids.prefix(count).sorted().enumerated() {
            out[id] = secagg ? (k % 2 == 0 ? "ShareBundle" : "UnmaskRequest") : "fit"
        }
        return out
    }

    func run() async throws {
        let roundCount = rounds ?? 10
        let federation = try federationConfig(rounds: roundCount)
        // Settings a node would refuse (e.g. --dp local) are refused here, before any process starts.
        do { _ = try FederationEngine(config: federation, role: .client(index: 0, aggregator: Identity().peerID), identity: Identity()) } catch {
            throw ValidationError("\(error)")
        }
        let victims = victims()
        let base = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("murmur-cluster-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let federationFile = base + "/federation.json"
        try JSONEncoder().encode(federation).write(to: URL(fileURLWithPath: federationFile))
        let aggregatorKey = base + "/aggregator/identity.key"
        try FileManager.default.createDirectory(atPath: base + "/aggregator", withIntermediateDirectories: true)
        let aggregatorID = try NodeKeys.identity(at: aggregatorKey).identity.peerID

        let processes = ChildProcesses()
        let interrupted = InterruptFlag()
        defer {
            processes.stopAll()
            if dir == nil { try? FileManager.default.removeItem(atPath: base) }
        }
        let start = Date()
        progress("starting \(nodes) client nodes and an aggregator in \(base)…")
        let witnessSetup = try startWitnesses(base: base, aggregatorID: aggregatorID.description, processes: processes)
        var addresses: [String] = []
        for i in 0..<nodes {
            var c = NodeConfig()
            c.roles = [.client]
            c.dataDir = base + "/client-\(i)"
            c.federation = federationFile
            c.clientIndex = i
            c.aggregator = aggregatorID.description
            witnessSetup?.configureClient(&c)
            let crash = victims[i].map { "\(killAtRound):\($0)" }
            let child = try processes.start(name: "client \(i)", config: c, file: base + "/client-\(i).json", crashAt: crash)
            addresses.append(try child.waitForLine(prefix: "p2p ", seconds: 60))
        }
        var a = NodeConfig()
        a.roles = [.aggregator]
        a.dataDir = base + "/aggregator"
        a.identityFile = aggregatorKey
        a.federation = federationFile
        a.clients = addresses
        a.httpPort = httpPort
        witnessSetup?.configureAggregator(&a)
        let aggregator = try processes.start(name: "aggregator", config: a, file: base + "/aggregator.json")
        let url = try aggregator.waitForLine(prefix: "http ", seconds: 60)
        progress("dashboard: \(url)/  (\(nodes + 1 + witnesses) nodes up in \(String(format: "%.1f", Date().timeIntervalSince(start))) s)")
        if !victims.isEmpty {
            progress("fault injection: clients \(victims.keys.sorted().map(String.init).joined(separator: ", ")) crash (SIGKILL) in round \(killAtRound)"
                     + (secagg ? " during SecAgg+" : " on the fit request"))
        }

        var shown = Set<Int>()
        var final: [String: Any]?
        while final == nil {
            if interrupted.isSet { throw ExitCode(130) }
            try processes.checkAlive()
            let rows = (try? await Self.getJSON(url + "/v1/rounds?limit=1000"))?["rounds"] as? [[String: Any]] ?? []
            for row in rows.sorted(by: { ($0["round"] as? Int ?? 0) < ($1["round"] as? Int ?? 0) }) {
                guard let r = row["round"] as? Int else { continue }
                if !shown.contains(r) {
                    shown.insert(r)
                    let acc = (row["accuracy"] as? Double).map { String(format: "accuracy %6.2f %%", 100 * $0) } ?? "accuracy    –   "
                    let detail = (row["detail"] as? String).map { "  " + $0 } ?? ""
                    progress(String(format: "round %3d/%d  %@  clients %d  elapsed %.1f s", r, roundCount, acc, row["participants"] as? Int ?? 0, Date().timeIntervalSince(start)) + detail)
                }
                if row["model"] is String { final = row }
            }
            if final == nil { try await Task.sleep(for: .milliseconds(300)) }
        }
        let checkpoint = try? await Self.getText(url + "/checkpoint")
        let model = final?["model"] as? String ?? ""
        let accuracy = final?["accuracy"] as? Double ?? .nan
        let seconds = Date().timeIntervalSince(start)
        if json {
            let object: [String: Any] = [
                "accuracy": accuracy, "rounds": roundCount, "model": model, "checkpoint": checkpoint ?? NSNull(),
                "nodes": nodes + 1 + witnesses, "clients": nodes, "seconds": seconds, "dashboard": url + "/",
                "secagg": secagg, "dp": privacy.dp?.rawValue ?? NSNull(), "epsilon": final?["epsilon"] ?? NSNull(),
                "killed": victims.keys.sorted(), "ledger": try await Self.ledgerSummary(url),
                "round_details": try await Self.roundDetails(url),
                "witnesses": witnesses, "witness_quorum": witnessSetup?.quorum ?? 0,
                "cosignatures": checkpoint.map(ClusterWitnesses.cosignatureCount) ?? 0,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "done: test accuracy %.2f %% after %d rounds on %d nodes in %.1f s", 100 * accuracy, roundCount, nodes + 1 + witnesses, seconds))
            print("model: \(model)")
            if let checkpoint { print("checkpoint:\n" + checkpoint.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")) }
        }
        if rounds == nil {
            progress("serving the dashboard at \(url)/ — Ctrl-C stops every node")
            while !interrupted.isSet {
                try processes.checkAlive()
                try await Task.sleep(for: .milliseconds(300))
            }
            progress("stopping \(nodes + 1 + witnesses) nodes…")
        }
    }

    func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The aggregator ledger's size, digest, round, current model and credit balances.
    static func ledgerSummary(_ url: String) async throws -> [String: Any] {
        let o = try await getJSON(url + "/v1/ledger/state")
        let state = o["state"] as? [String: Any] ?? [:]
        return ["size": o["size"] ?? NSNull(), "digest": o["digest"] ?? NSNull(), "round": state["round"] ?? NSNull(),
                "model": state["model"] ?? NSNull(), "balances": state["balances"] ?? [:]]
    }

    /// Each round's detail line from `/v1/rounds` (e.g. who entered the SecAgg+ sum), by round.
    static func roundDetails(_ url: String) async throws -> [String] {
        let rows = (try await getJSON(url + "/v1/rounds?limit=1000"))["rounds"] as? [[String: Any]] ?? []
        var byRound = [Int: String]()
        for row in rows { if let r = row["round"] as? Int { byRound[r] = row["detail"] as? String ?? byRound[r] ?? "" } }
        return byRound.keys.sorted().map { byRound[$0] ?? "" }
    }

    static func getText(_ url: String) async throws -> String {
        guard let u = URL(string: url) else { throw ValidationError("bad URL \(url)") }
        let request = URLRequest(url: u, timeoutInterval: 10)
        let (data, response) = try await Task { try await URLSession.shared.data(for: request) }.value
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw ValidationError("\(url): HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)") }
        return String(decoding: data, as: UTF8.self)
    }

    static func getJSON(_ url: String) async throws -> [String: Any] {
        let text = try await getText(url)
        return (try JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }
}
