import Foundation
import MurmurCore
import MurmurLog
import MurmurP2P

/// A job a node does; a node may combine several (issue 11: client, aggregator, witness, verifier, log operator).
/// Why: the round engine and the API decide what to run and serve from the roles.
public enum NodeRole: String, Codable, Sendable, CaseIterable, Comparable {
    /// Trains on its local data folder when a round asks it to.
    case client
    /// Runs rounds: selects clients, aggregates their updates, publishes the model.
    case aggregator
    /// Cosigns log checkpoints after checking consistency (c2sp.org/tlog-witness).
    case witness
    /// Spot-checks its peers' inference receipts by re-execution (`/murmur/receipts/1`, `GET /v1/spot-checks`).
    case verifier
    /// Keeps the node's log and serves its checkpoint and tiles (c2sp.org/tlog-tiles).
    case logOperator = "log-operator"

    /// Sorted by declaration order.
    public static func < (a: NodeRole, b: NodeRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!  // every case is in allCases
    }
}

/// Every setting of a node, read from a TOML or JSON file (`murmur node --config FILE`) and overridden by flags.
/// Why: one value that says how a node runs, checked once at start with errors that name the key.
public struct NodeConfig: Codable, Sendable, Equatable {
    /// What the node does; at least one role.
    public var roles: [NodeRole] = [.client]
    /// Where `node.sqlite`, the identity key, the log key and the admin token live (created if missing).
    public var dataDir: String = "murmur-node"
    /// libp2p listen address, e.g. `/ip4/127.0.0.1/tcp/4001` (port 0 picks one).
    public var listen: String = "/ip4/127.0.0.1/tcp/0"
    /// Peers to dial at start, each `/ip4/…/tcp/…/p2p/<peer id>`.
    public var bootstrap: [String] = []
    /// The HTTP API's interface.
    public var httpHost: String = "127.0.0.1"
    /// The HTTP API's port; 0 picks a free one (printed at start).
    public var httpPort: Int = 0
    /// Bearer token for `/v1/admin/*`; nil: one is generated on first start and kept in `DATA_DIR/admin.token`.
    public var adminToken: String?
    /// The node's Ed25519 key (hex seed, mode 0600); nil: `DATA_DIR/identity.key`. Created on first start.
    public var identityFile: String?
    /// The client role's local training data (a folder); nil if the node has none.
    public var dataFolder: String?
    /// Model folders (`model.json` + `model.safetensors`) put into the block index at start and served.
    public var models: [String] = []
    /// The largest request body the API reads; larger ones get 413.
    public var maxBodyBytes: Int = 1 << 20
    /// The node log's origin line; nil: `murmur.node/<first 16 chars of the peer id>`.
    public var logOrigin: String?
    /// With the witness role: verifier keys (`name+hex+base64`) of the logs this node cosigns at `POST /add-checkpoint`.
    public var witnessLogs: [String] = []
    /// A federation to train in: a JSON file of MurmurFL's `SimulationConfig` (data set,
    /// partition, model, strategy, rounds, seed), the same on every node (`murmur cluster` writes it).
    public var federation: String?
    /// With `federation` and the client role: which shard of the partition this node trains (0-based).
    public var clientIndex: Int?
    /// With `federation` and the client role: the aggregator's peer id (the only peer whose rounds it answers).
    public var aggregator: String?
    /// With `federation` and the aggregator role: every client node's address, `/…/p2p/<id>`, in shard order.
    public var clients: [String] = []
    /// The federation log's verifier key (the aggregator's `log.verifier_key`): clients accept only models
    /// logged there, and every node watches its gossiped checkpoints for split views.
    public var federationLog: String?
    /// Witnesses whose cosignatures a checkpoint needs: `KEY` (clients) or `KEY URL` (the aggregator submits there).
    public var witnesses: [String] = []
    /// Distinct witness cosignatures required; nil: all of `witnesses`.
    public var witnessQuorum: Int?
    /// With the verifier role: seconds between spot-check batches (receipts pulled from every connected peer).
    public var spotCheckInterval: Int = 10
    /// With the verifier role: the percentage of pulled receipts re-executed (integers only, like every setting).
    public var spotCheckPercent: Int = 10

    /// The defaults: a client on loopback with free ports, data in `./murmur-node`.
    public init() {}

    /// The identity key's path.
    public var identityPath: String { identityFile ?? dataDir + "/identity.key" }
    /// The node's SQLite file.
    public var databasePath: String { dataDir + "/node.sqlite" }
    /// The witness role's key and state folder (c2sp.org/tlog-witness).
    public var witnessPath: String { dataDir + "/witness" }
    /// Where a generated admin token is kept.
    public var adminTokenPath: String { dataDir + "/admin.token" }

    /// Whether the node has `role`.
    public func has(_ role: NodeRole) -> Bool { roles.contains(role) }

    /// Checks values that need more than a type: ranges, multiaddrs, token length; `source` names the file or "flags".
    public func validate(source: String) throws(NodeError) {
        func fail(_ key: String, _ m: String) -> NodeError { .config(source: source, key: key, message: m) }
        guard !roles.isEmpty else { throw fail("roles", "name at least one of \(NodeRole.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard Set(roles).count == roles.count else { throw fail("roles", "a role is listed twice") }
        guard !dataDir.isEmpty else { throw fail("data_dir", "must not be empty") }
        do {
            let m = try Multiaddr(listen)
            _ = try m.tcpEndpoint()
        } catch {
            throw fail("listen", "'\(listen)' is not a TCP multiaddr such as /ip4/127.0.0.1/tcp/4001 (\(error))")
        }
        for b in bootstrap {
            let m: Multiaddr
            do { m = try Multiaddr(b) } catch { throw fail("bootstrap", "'\(b)' is not a multiaddr (\(error))") }
            guard m.peerID != nil else { throw fail("bootstrap", "'\(b)' must end in /p2p/<peer id> so the peer can be authenticated") }
        }
        guard !httpHost.isEmpty else { throw fail("http_host", "must not be empty") }
        guard (0...65535).contains(httpPort) else { throw fail("http_port", "\(httpPort) is not a port (0…65535; 0 picks a free one)") }
        if let t = adminToken {
            guard t.count >= 16, t.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw fail("admin_token", "must be at least 16 printable ASCII characters without spaces (or leave it out to have one generated)")
            }
        }
        if let f = dataFolder {
            var dir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: f, isDirectory: &dir), dir.boolValue else {
                throw fail("data_folder", "'\(f)' is not a directory")
            }
        }
        for m in models {
            guard FileManager.default.fileExists(atPath: m + "/model.json") else {
                throw fail("models", "'\(m)' has no model.json (a model folder as `murmur simulate --out` writes)")
            }
        }
        guard (1024...(64 << 20)).contains(maxBodyBytes) else { throw fail("max_body_bytes", "\(maxBodyBytes) is outside 1024…67108864") }
        for k in witnessLogs {
            do { _ = try VerifierKey(k) } catch { throw fail("witness_logs", "'\(k.prefix(60))' is not a log verifier key (name+hex(id)+base64, as in /v1/status log.verifier_key): \(error)") }
        }
        if let f = federation {
            guard FileManager.default.fileExists(atPath: f) else { throw fail("federation", "'\(f)' does not exist (a JSON SimulationConfig, as `murmur cluster` writes)") }
            if has(.aggregator) {
                guard !clients.isEmpty else { throw fail("clients", "the aggregator of a federation needs every client's address") }
                for a in clients {
                    guard let m = try? Multiaddr(a), m.peerID != nil else { throw fail("clients", "'\(a)' is not a multiaddr ending in /p2p/<peer id>") }
                }
            } else if has(.client) {
                guard let i = clientIndex, i >= 0 else { throw fail("client_index", "a client of a federation needs its shard index (0 or more)") }
                guard let a = aggregator, (try? PeerID(parsing: a)) != nil else {
                    throw fail("aggregator", "a client of a federation needs the aggregator's peer id (12D3KooW…)")
                }
            }
        }
        do { _ = try TransparencySettings.from(self) } catch {
            let key = error.description.contains("witness_quorum") ? "witness_quorum" : error.description.contains("federation_log") ? "federation_log" : "witnesses"
            throw fail(key, error.description)
        }
        guard (1...86_400).contains(spotCheckInterval) else { throw fail("spot_check_interval", "\(spotCheckInterval) is outside 1…86400 seconds") }
        guard (0...100).contains(spotCheckPercent) else { throw fail("spot_check_percent", "\(spotCheckPercent) is outside 0…100 (percent of receipts re-executed)") }
        if let o = logOrigin, o.isEmpty || o.contains(where: { $0.isNewline || $0 == "+" }) {
            throw fail("log_origin", "must be a non-empty line without '+' (a C2SP origin such as example.com/log)")
        }
    }

    /// The file keys, in the order of the reference table in docs/node.md.
    public static let keys = [
        "roles", "data_dir", "listen", "bootstrap", "http_host", "http_port", "admin_token",
        "identity_file", "data_folder", "models", "max_body_bytes", "log_origin", "witness_logs",
        "federation", "client_index", "aggregator", "clients", "federation_log", "witnesses", "witness_quorum",
        "spot_check_interval", "spot_check_percent",
    ]

    enum CodingKeys: String, CodingKey {
        case roles, dataDir = "data_dir", listen, bootstrap, httpHost = "http_host", httpPort = "http_port"
        case adminToken = "admin_token", identityFile = "identity_file", dataFolder = "data_folder", models
        case maxBodyBytes = "max_body_bytes", logOrigin = "log_origin", witnessLogs = "witness_logs"
        case federation, clientIndex = "client_index", aggregator, clients
        case federationLog = "federation_log", witnesses, witnessQuorum = "witness_quorum"
        case spotCheckInterval = "spot_check_interval", spotCheckPercent = "spot_check_percent"
    }
}
