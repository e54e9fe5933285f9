import ArgumentParser
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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

            With --rounds it prints a summary (--json: accuracy, rounds, model, checkpoint, dashboard) and stops every node. Without --rounds it trains 10 rounds, then keeps the nodes running and the aggregator's dashboard served until Ctrl-C, which stops them all.

            Examples:
              murmur cluster --nodes 5 --rounds 5
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

    func validate() throws {
        guard (2...200).contains(nodes) else { throw ValidationError("--nodes must be in 2…200, got \(nodes)") }
        guard (0...20).contains(witnesses) else { throw ValidationError("--witnesses must be in 0…20, got \(witnesses)") }
        if let q = witnessQuorum {
            guard witnesses > 0, (1...witnesses).contains(q) else { throw ValidationError("--witness-quorum must be in 1…--witnesses, got \(q)") }
        }
        if let rounds, rounds < 1 { throw ValidationError("--rounds must be ≥ 1, got \(rounds)") }
        guard fraction > 0, fraction <= 1 else { throw ValidationError("--fraction must be in (0, 1], got \(fraction)") }
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be a port (0…65535)") }
    }

    func run() async throws {
        let roundCount = rounds ?? 10
        let federation = try SimulationOptions.parse([
            "--clients", "\(nodes)", "--rounds", "\(roundCount)", "--fraction", "\(fraction)", "--seed", "\(seed)",
        ]).config()
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
            let child = try processes.start(name: "client \(i)", config: c, file: base + "/client-\(i).json")
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
                    progress(String(format: "round %3d/%d  %@  clients %d  elapsed %.1f s", r, roundCount, acc, row["participants"] as? Int ?? 0, Date().timeIntervalSince(start)))
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

/// Set by SIGINT (Ctrl-C); the children get the same signal from the terminal and stop themselves.
final class InterruptFlag {
    private let flag = NIOLockedValueBox(false)
    private let source: DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let flag = self.flag
        source.setEventHandler { flag.withLockedValue { $0 = true } }
        source.resume()
    }

    var isSet: Bool { flag.withLockedValue { $0 } }
}

/// The cluster's `murmur node` processes: started with a JSON config, stdout read line by line,
/// stderr kept in a file (shown if the node dies), stopped with SIGTERM (then SIGKILL).
final class ChildProcesses: Sendable {
    final class Child: Sendable {
        let name: String
        let process: Process
        let stderrPath: String
        private let lines = NIOLockedValueBox<[String]>([])

        init(name: String, process: Process, stderrPath: String) {
            self.name = name
            self.process = process
            self.stderrPath = stderrPath
        }

        func read(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                var pending = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    pending += chunk
                    while let nl = pending.firstIndex(of: 0x0A) {
                        let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                        pending = Data(pending[(nl + 1)...])
                        lines.withLockedValue { $0.append(line) }
                    }
                }
            }
        }

        /// The rest of the first stdout line starting with `prefix`.
        func waitForLine(prefix: String, seconds: Double) throws -> String {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if let l = lines.withLockedValue({ $0.first { $0.hasPrefix(prefix) } }) { return String(l.dropFirst(prefix.count)) }
                guard process.isRunning else { throw ValidationError("\(name) exited: \(errorTail())") }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw ValidationError("\(name) printed no '\(prefix)' line within \(Int(seconds)) s: \(errorTail())")
        }

        func errorTail() -> String {
            let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            return String(text.suffix(800)).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    private let children = NIOLockedValueBox<[Child]>([])

    /// Writes `config` to `file` and starts `murmur node --config file`.
    func start(name: String, config: NodeConfig, file: String) throws -> Child {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: URL(fileURLWithPath: file))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        p.arguments = ["node", "--config", file, "--log-level", "warning"]
        let out = Pipe()
        p.standardOutput = out
        let errPath = file + ".stderr"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let child = Child(name: name, process: p, stderrPath: errPath)
        do { try p.run() } catch { throw ValidationError("cannot start \(name): \(error)") }
        children.withLockedValue { $0.append(child) }
        child.read(out.fileHandleForReading)
        return child
    }

    /// Throws if a node died (with the end of its log).
    func checkAlive() throws {
        for c in children.withLockedValue({ $0 }) where !c.process.isRunning {
            throw ValidationError("\(c.name) stopped (exit \(c.process.terminationStatus)): \(c.errorTail())")
        }
    }

    /// SIGTERM to every node, up to 10 s for them to exit, then SIGKILL.
    func stopAll() {
        let all = children.withLockedValue { $0 }
        for c in all where c.process.isRunning { kill(c.process.processIdentifier, SIGTERM) }
        let end = Date().addingTimeInterval(10)
        while Date() < end, all.contains(where: { $0.process.isRunning }) { Thread.sleep(forTimeInterval: 0.05) }
        for c in all where c.process.isRunning { kill(c.process.processIdentifier, SIGKILL) }
        for c in all { c.process.waitUntilExit() }
    }
}
