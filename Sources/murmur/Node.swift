import ArgumentParser
import Foundation
import MurmurNode

/// `murmur node`: run a node (P2P host, HTTP API, metrics) from a config file and flags.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a Murmur node: libp2p peer, HTTP API (/v1/…), Prometheus /metrics, log and ledger in one SQLite file.",
        discussion: """
            Settings come from --config FILE (TOML, or JSON when the name ends in .json) and every one of them is also a flag; flags win. Relative paths in the file are relative to the file. Example node.toml:

              # roles: client, aggregator, witness, verifier, log-operator
              roles = ["client", "verifier"]
              # node.sqlite, identity.key, log.key, admin.token
              data_dir = "node1"
              # libp2p; tcp/0 picks a port
              listen = "/ip4/127.0.0.1/tcp/4001"
              # e.g. ["/ip4/127.0.0.1/tcp/4002/p2p/12D3KooW…"]
              bootstrap = []
              # 0 picks a port
              http_port = 8080
              # model folders served and used by /v1/infer
              models = ["run1"]

            Then:
              murmur node --config node.toml
              curl -s http://127.0.0.1:8080/v1/status
              TOKEN=$(cat node1/admin.token)
              curl -s -X POST -H "Authorization: Bearer $TOKEN" \\
                   http://127.0.0.1:8080/v1/admin/shutdown

            Prints its libp2p addresses, the HTTP URL and where the admin token is; logs one line per event to stderr; stops cleanly (exit 0) on SIGINT, SIGTERM or POST /v1/admin/shutdown. A restarted node keeps its identity, peer book, log and ledger. See docs/node.md.
            """)

    @Option(help: "Configuration file (TOML or JSON). Without it, the defaults and the flags.")
    var config: String?

    @Option(name: .customLong("role"), help: "A role (repeat to combine): client, aggregator, witness, verifier, log-operator. Replaces the file's roles.")
    var roles: [String] = []

    @Option(help: "Data directory (node.sqlite, keys, admin token); created if missing. Default: murmur-node.")
    var dataDir: String?

    @Option(help: "libp2p listen multiaddr, e.g. /ip4/127.0.0.1/tcp/4001 (tcp/0 picks a port).")
    var listen: String?

    @Option(help: "A peer to dial at start, /ip4/…/tcp/…/p2p/<peer id> (repeat). Replaces the file's list.")
    var bootstrap: [String] = []

    @Option(help: "HTTP interface (default 127.0.0.1).")
    var httpHost: String?

    @Option(help: "HTTP port (default 0: pick a free one and print it).")
    var httpPort: Int?

    @Option(help: "Admin bearer token (≥ 16 characters); default: generated once into DATA_DIR/admin.token.")
    var adminToken: String?

    @Option(help: "Identity key file (hex Ed25519 seed), created on first start; default DATA_DIR/identity.key.")
    var identityFile: String?

    @Option(help: "The client role's local training data: a folder with one .csv or .csv.gz file (features, then the integer label per row); in a federation it replaces the seeded shard of the bundled digits.")
    var dataFolder: String?

    @Option(name: .customLong("model"), help: "A model folder (model.json + model.safetensors) to serve (repeat). Replaces the file's list.")
    var models: [String] = []

    @Option(help: "Largest request body in bytes (default 1048576); larger ones get 413.")
    var maxBodyBytes: Int?

    @Option(help: "The node log's origin line (default murmur.node/<peer id prefix>).")
    var logOrigin: String?

    @Option(name: .customLong("witness-log"), help: "With the witness role: a log verifier key (name+hex+base64) to cosign for (repeat). Replaces the file's list.")
    var witnessLogs: [String] = []

    @Option(help: "A federation to train in: a SimulationConfig JSON file, the same on every node (murmur cluster writes one). Its secagg, dp and scoring settings (murmur simulate's --secagg, --dp, …) apply to every node.")
    var federation: String?

    @Option(help: "With --federation and the client role: this node's shard (0-based).")
    var clientIndex: Int?

    @Option(help: "With --federation and the client role: the aggregator's peer id.")
    var aggregator: String?

    @Option(name: .customLong("client"), help: "With --federation and the aggregator role: a client's /…/p2p/<id> address, in shard order (repeat). Replaces the file's list.")
    var clients: [String] = []

    @Option(help: "The federation log's verifier key (the aggregator's log.verifier_key): models are accepted only from it.")
    var federationLog: String?

    @Option(name: .customLong("witness"), help: "A witness whose cosignature checkpoints need: 'KEY' or 'KEY URL' (repeat). Replaces the file's list.")
    var witnesses: [String] = []

    @Option(help: "Distinct witness cosignatures a checkpoint needs (default: all --witness).")
    var witnessQuorum: Int?

    @Option(help: "With the verifier role: seconds between spot-check batches (default 10).")
    var spotCheckInterval: Int?

    @Option(help: "With the verifier role: percent of the peers' receipts re-executed, 0…100 (default 10).")
    var spotCheckPercent: Int?

    @Option(help: "Log level on stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    /// The file's settings (or the defaults) with the flags applied, validated.
    func resolvedConfig() throws -> NodeConfig {
        var c = NodeConfig()
        if let config {
            do { c = try ConfigFile.load(config) } catch { throw ValidationError("\(error)") }
        }
        if !roles.isEmpty {
            c.roles = try roles.map { name in
                guard let r = NodeRole(rawValue: name) else {
                    throw ValidationError("--role '\(name)': roles are \(NodeRole.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return r
            }
        }
        if let dataDir { c.dataDir = dataDir }
        if let listen { c.listen = listen }
        if !bootstrap.isEmpty { c.bootstrap = bootstrap }
        if let httpHost { c.httpHost = httpHost }
        if let httpPort { c.httpPort = httpPort }
        if let adminToken { c.adminToken = adminToken }
        if let identityFile { c.identityFile = identityFile }
        if let dataFolder { c.dataFolder = dataFolder }
        if !models.isEmpty { c.models = models }
        if let maxBodyBytes { c.maxBodyBytes = maxBodyBytes }
        if let logOrigin { c.logOrigin = logOrigin }
        if !witnessLogs.isEmpty { c.witnessLogs = witnessLogs }
        if let federation { c.federation = federation }
        if let clientIndex { c.clientIndex = clientIndex }
        if let aggregator { c.aggregator = aggregator }
        if !clients.isEmpty { c.clients = clients }
        if let federationLog { c.federationLog = federationLog }
        if !witnesses.isEmpty { c.witnesses = witnesses }
        if let witnessQuorum { c.witnessQuorum = witnessQuorum }
        if let spotCheckInterval { c.spotCheckInterval = spotCheckInterval }
        if let spotCheckPercent { c.spotCheckPercent = spotCheckPercent }
        do { try c.validate(source: config.map { "\($0) with flags" } ?? "flags") } catch { throw ValidationError("\(error)") }
        return c
    }

    func run() async throws {
        let cfg = try resolvedConfig()
        let node: Node
        do {
            // Fault injection for tests and `murmur cluster --kill-clients`: die by SIGKILL at ROUND:MESSAGE.
            let fault = try ProcessInfo.processInfo.environment["MURMUR_FAULT_CRASH_AT"].map {
                try FaultPoint(parsing: $0) { _ = kill(getpid(), SIGKILL) }
            }
            let engine: (any RoundEngine)? = try FederationEngine.from(cfg, fault: fault) ?? TransparencyEngine.from(cfg)
            node = try Node(config: cfg, roundEngine: engine, logger: Node.standardErrorLogger(levelName: logLevel))
        } catch {
            throw ValidationError("\(error)")
        }
        if node.identityCreated { emit("created identity \(cfg.identityPath) (peer id \(node.context.identity.peerID))") }
        let announce = Task {
            guard let e = try? await node.waitUntilStarted() else { return }
            for a in e.p2p { emit("p2p \(a)") }
            emit("http \(e.http.absoluteString)")
            emit("admin token in \(node.adminTokenFile ?? "the configuration (admin_token)")")
        }
        defer { announce.cancel() }
        do { try await node.runUntilSignalled() } catch { throw ValidationError("\(error)") }
        FileHandle.standardError.write(Data("stopped\n".utf8))
    }
}
