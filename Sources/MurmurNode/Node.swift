import Foundation
import Hummingbird
import Logging
import MurmurCore
import MurmurLog
import MurmurLogHTTP
import MurmurML
import MurmurP2P
import NIOCore
import ServiceLifecycle

/// Where federated rounds plug into a node: the stream protocols it serves and a loop that runs rounds.
/// Why: the daemon (this module) and the networked round protocol (MurmurNode/Rounds) are built separately;
/// the node starts the engine once P2P and HTTP are up and cancels it on shutdown.
public protocol RoundEngine: Sendable {
    /// Stream protocols served on inbound libp2p streams (e.g. `/murmur/fl/1`), added before the host starts.
    var protocolHandlers: [String: StreamHandler] { get }
    /// Runs rounds until cancelled, recording each with `node.recordRound(_:)` (which `GET /v1/rounds` reads).
    func run(_ node: NodeContext) async throws
}

extension RoundEngine {
    /// No extra protocols.
    public var protocolHandlers: [String: StreamHandler] { [:] }
}

/// What a node's parts share: settings, identity, P2P host, storage, ledger, metrics, logger.
/// Why: handed to the round engine and the HTTP handlers so neither needs the `Node` itself.
public struct NodeContext: Sendable {
    /// The validated configuration.
    public let config: NodeConfig
    /// The node's key (its peer id is the P2P identity and the receipts' device).
    public let identity: Identity
    /// The libp2p host.
    public let host: P2PHost
    /// `node.sqlite`.
    public let store: NodeStore
    /// The node's log and ledger.
    public let ledger: NodeLedger
    /// Prometheus metrics.
    public let metrics: NodeMetrics
    /// The witness role's tlog-witness (served at `POST /add-checkpoint`), nil without the role.
    public let witness: WitnessService?
    /// The witness's cosigning verifier key (`name+hex+base64`), nil without the role.
    public let witnessKey: String?
    /// One line per notable event.
    public let logger: Logger
    /// The node's scores of its peers (protocol errors lower them; low scores are disconnected and refused).
    public let peerGuard: PeerGuard
    /// The receipts the node issued at `POST /v1/infer`, served to verifiers on `/murmur/receipts/1`.
    public let receipts: ReceiptJournal

    /// Stores a round's progress, updates the rounds gauge and logs it.
    public func recordRound(_ record: RoundSummary) throws(NodeError) {
        try store.recordRound(record)
        metrics.update(roundsCompleted: try store.completedRounds())
        logger.info("round \(record.round) \(record.status.rawValue)\(record.model.map { " model \($0)" } ?? "") participants \(record.participants)")
    }
}

/// Where a started node can be reached.
public struct NodeEndpoints: Sendable, Equatable {
    /// The HTTP API's base URL, e.g. http://127.0.0.1:8080.
    public var http: URL
    /// The libp2p listen addresses, each ending in `/p2p/<peer id>`.
    public var p2p: [Multiaddr]
}

/// A Murmur node: opens its data directory (`node.sqlite`, keys), listens on libp2p, dials its bootstrap
/// peers and the peer book, serves the HTTP API and runs the round engine, until graceful shutdown
/// (SIGINT/SIGTERM through ServiceLifecycle, `POST /v1/admin/shutdown`, or `shutdown()`).
/// Why: `murmur node` and `murmur cluster` are this type plus a command line (issue 11, items 1 and 4).
public actor Node: Service {
    /// The node's shared parts.
    public nonisolated let context: NodeContext
    /// The bearer token for `/v1/admin/*`.
    public nonisolated let adminToken: String
    /// The file the admin token is kept in, or nil when it came from the configuration.
    public nonisolated let adminTokenFile: String?
    /// Whether the identity was created by this start (first start).
    public nonisolated let identityCreated: Bool
    /// CIDs of the models imported from `config.models` at start.
    public nonisolated let importedModels: [String]
    /// The verifier role's spot checker (runs every `spot_check_interval` while the node runs); nil without the role.
    public nonisolated let spotChecker: SpotChecker?
    let engine: (any RoundEngine)?
    let switchboard = ShutdownSwitch()
    var endpoints: NodeEndpoints?
    var startFailure: NodeError?
    var waiters: [CheckedContinuation<NodeEndpoints, any Error>] = []

    /// Opens the data directory and prepares the P2P host; nothing listens until `run()`.
    public init(config: NodeConfig, roundEngine: (any RoundEngine)? = nil, logger: Logger = Logger(label: "murmur.node")) throws(NodeError) {
        try self.init(config: config, roundEngine: roundEngine, logger: logger, handshakeTimeout: .seconds(10))
    }

    /// As the public initializer, with the P2P handshake timeout chosen (tests set a long one to tell a
    /// prompt stop from one that waited for a hanging dial).
    init(config: NodeConfig, roundEngine: (any RoundEngine)?, logger: Logger, handshakeTimeout: TimeAmount) throws(NodeError) {
        try config.validate(source: "configuration")
        do { try FileManager.default.createDirectory(atPath: config.dataDir, withIntermediateDirectories: true) } catch {
            throw .storage("cannot create data_dir '\(config.dataDir)': \(error.localizedDescription)")
        }
        let (identity, created) = try NodeKeys.identity(at: config.identityPath)
        let store = try NodeStore(path: config.databasePath)
        let origin = config.logOrigin ?? "murmur.node/\(identity.peerID.description.prefix(16))"
        let signer = try NodeKeys.logSigner(at: config.dataDir + "/log.key", origin: origin)
        let ledger = try NodeLedger(store: store, origin: origin, signer: signer)
        let token = try NodeKeys.adminToken(configured: config.adminToken, path: config.adminTokenPath)
        adminToken = token.token
        adminTokenFile = token.file
        var imported = [String]()
        for folder in config.models {
            do {
                let (artifact, _) = try ModelArtifact.read(from: URL(fileURLWithPath: folder))
                imported.append(try store.putModel(artifact).description)
            } catch let e as NodeError { throw e } catch {
                throw .config(source: "configuration", key: "models", message: "cannot load '\(folder)': \(error)")
            }
        }
        var hostConfig = P2PHost.Configuration()
        hostConfig.agentVersion = "murmur-node/0.1"
        hostConfig.handshakeTimeout = handshakeTimeout
        for (proto, handler) in roundEngine?.protocolHandlers ?? [:] { hostConfig.handlers[proto] = handler }
        let scores = PeerScores(records: (try? store.peerScores()) ?? [])
        let peerGuard = PeerGuard(scores: scores, logger: logger) { record in
            do { try store.savePeerScore(record) } catch { logger.warning("peer scores: \(error)") }
        }
        // Spot checks (Verify/): every node serves the receipts it issued, and its models by CID so a verifier can fetch them.
        hostConfig.handlers[ReceiptsProtocol.id] = { try await ReceiptsProtocol.serve($0, store: store) }
        if hostConfig.handlers[BlockProtocol.id] == nil {
            hostConfig.handlers[BlockProtocol.id] = { try await BlockProtocol.serve($0, store: NodeBlockStore(store)) }
        }
        hostConfig.onStreamError = { stream, error in peerGuard.streamError(stream, error) }
        hostConfig.onProtocolViolation = { connection, error in peerGuard.protocolViolation(connection, error) }
        hostConfig.acceptInbound = { remote in peerGuard.admits(remote) }
        let host = P2PHost(identity: identity, configuration: hostConfig)
        peerGuard.attach(host)
        var witness: WitnessService?, witnessKey: String?
        if config.has(.witness) {
            do {
                let name = "murmur.witness/\(identity.peerID.description.prefix(16))"
                let dir = FileManager.default.fileExists(atPath: config.witnessPath + "/witness.vkey")
                    ? WitnessDirectory(path: config.witnessPath) : try WitnessDirectory.create(path: config.witnessPath, name: name)
                witness = try WitnessService(directory: dir, logs: config.witnessLogs.map { try VerifierKey($0) })
                witnessKey = try dir.verifierKey().description
            } catch { throw .identity("the witness in \(config.witnessPath): \(error)") }
        }
        let metrics = NodeMetrics()
        metrics.update(peers: 0, roundsCompleted: try store.completedRounds(), logEntries: store.logSizeHint(), maxBodyBytes: config.maxBodyBytes)
        let ctx = NodeContext(config: config, identity: identity, host: host, store: store, ledger: ledger, metrics: metrics,
                              witness: witness, witnessKey: witnessKey, logger: logger, peerGuard: peerGuard,
                              receipts: ReceiptJournal(store: store))
        context = ctx
        spotChecker = config.has(.verifier) ? SpotChecker(context: ctx, settings: .from(config)) : nil
        identityCreated = created
        importedModels = imported
        engine = roundEngine
        let starts = (Int((try? store.metadata("starts")) ?? "0") ?? 0) + 1
        try store.setMetadata("starts", String(starts))
    }

    /// Runs the node until graceful shutdown; returns normally after a clean stop.
    public func run() async throws {
        let ctx = context
        let log = ctx.logger
        let responder: NodeAPI.CountingResponder
        do {
            responder = try NodeAPI.responder(NodeAPI.Services(context: ctx, adminToken: adminToken, switchboard: switchboard, started: Date()))
        } catch {
            failStart(error)
            throw error
        }
        let server: any Channel
        do {
            server = try await ctx.host.listen(Multiaddr(ctx.config.listen))
        } catch {
            let e = NodeError.startup("cannot listen on \(ctx.config.listen): \(error)")
            failStart(e)
            throw e
        }
        for a in ctx.host.addresses { log.info("p2p listening on \(a)") }
        let observer = ctx.host.observeConnections { event in Self.observe(event, ctx) }
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        var httpLogger = Logger(label: "murmur.node.http")
        httpLogger.logLevel = .warning
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(ctx.config.httpHost, port: ctx.config.httpPort), serverName: "murmur-node"),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? ctx.config.httpPort) },
            logger: httpLogger
        )
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: httpLogger)
        await switchboard.attach(group)
        let engine = self.engine
        var failure: (any Error)?
        // Not awaited at shutdown: a dial that hangs in its handshake (bounded by the host's handshake
        // timeout) must not hold up a stop; it is cancelled and finishes on its own.
        let dialing = Task { await Self.connectKnownPeers(ctx) }
        defer { dialing.cancel() }
        // Not awaited either: a receipt pull in flight is bounded by its own deadline.
        let spotChecks = spotChecker.map { checker in Task { await checker.run() } }
        defer { spotChecks?.cancel() }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    for await port in ports {
                        await self.didStart(port: port)
                        break
                    }
                }
                if let engine {
                    tasks.addTask {
                        do { try await engine.run(ctx) } catch is CancellationError {} catch { log.error("round engine stopped: \(error)") }
                    }
                }
                do { try await group.run() } catch { failure = error }
                portSink.finish()
                tasks.cancelAll()
            }
        } onGracefulShutdown: { [switchboard] in
            Task { await switchboard.trigger() }
        }
        ctx.host.removeConnectionObserver(observer)
        try? await server.close()
        await ctx.host.closeConnections()
        if endpoints == nil { failStart(.startup("the HTTP server did not start on \(ctx.config.httpHost):\(ctx.config.httpPort): \(failure.map { "\($0)" } ?? "stopped")")) }
        log.info("stopped")
        if let failure { throw NodeError.startup("HTTP server: \(failure)") }
    }

    /// Asks a running node to stop gracefully (in-flight requests finish); safe to call before `run()` or twice.
    public func shutdown() async { await switchboard.trigger() }

    /// Waits until the P2P host listens and the HTTP server accepts connections; throws if start failed.
    public func waitUntilStarted() async throws -> NodeEndpoints {
        if let endpoints { return endpoints }
        if let startFailure { throw startFailure }
        return try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    func didStart(port: Int) {
        let host = context.config.httpHost.contains(":") ? "[\(context.config.httpHost)]" : context.config.httpHost
        guard let url = URL(string: "http://\(host):\(port)") else { return failStart(.startup("bad HTTP address \(host):\(port)")) }
        let e = NodeEndpoints(http: url, p2p: context.host.addresses)
        endpoints = e
        context.logger.info("http api at \(url)")
        for w in waiters { w.resume(returning: e) }
        waiters = []
    }

    func failStart(_ e: NodeError) {
        startFailure = e
        for w in waiters { w.resume(throwing: e) }
        waiters = []
    }

    /// Keeps the peer book and the peers gauge current; logs connects and disconnects.
    nonisolated static func observe(_ event: ConnectionEvent, _ ctx: NodeContext) {
        switch event {
        case .connected(let peer, let conn):
            ctx.logger.info("peer connected \(peer) (\(conn.isDialer ? "dialed" : "inbound"))")
            ctx.peerGuard.connected(peer, conn)
            // Inbound connections come from an ephemeral port, so only dialed addresses go into the book.
            let addrs = conn.isDialer ? (conn.remoteAddress.map { [$0.withoutPeer.description] } ?? []) : []
            let source = conn.isDialer ? "dialed" : "inbound"
            // Off the event loop: the peer book write waits for an fsync.
            Task {
                do { try ctx.store.rememberPeer(peer.description, addresses: addrs, source: source) } catch {
                    ctx.logger.warning("peer book: \(error)")
                }
            }
        case .disconnected(let peer, _, let remaining):
            if remaining == 0 { ctx.logger.info("peer disconnected \(peer)") }
        }
        ctx.metrics.update(peers: ctx.host.connectedPeers.count)
    }

    /// Dials the bootstrap peers and every dialable peer in the book, each at most once, concurrently.
    static func connectKnownPeers(_ ctx: NodeContext) async {
        var targets = [(Multiaddr, String)]()
        for b in ctx.config.bootstrap { if let m = try? Multiaddr(b) { targets.append((m, "bootstrap")) } }
        let book = (try? ctx.store.peers()) ?? []
        for p in book where p.peerID != ctx.identity.peerID.description {
            guard let a = p.addresses.last, let m = try? Multiaddr(a + "/p2p/" + p.peerID),
                  !targets.contains(where: { $0.0.peerID == m.peerID }) else { continue }
            targets.append((m, "book"))
        }
        await withTaskGroup(of: Void.self) { g in
            for (addr, source) in targets {
                g.addTask {
                    do {
                        _ = try await connect(addr, source: source, ctx)
                    } catch is CancellationError {
                    } catch {
                        ctx.logger.warning("cannot reach \(source) peer \(addr): \(error)")
                    }
                }
            }
        }
    }

    /// Dials `addr` (which must end in `/p2p/<id>`), remembers it in the peer book; returns the peer id.
    static func connect(_ addr: Multiaddr, source: String, _ ctx: NodeContext) async throws -> PeerID {
        guard let peer = addr.peerID else { throw NodeError.config(source: source, key: "bootstrap", message: "\(addr) has no /p2p/<peer id>") }
        ctx.host.addAddresses([addr], for: peer)
        _ = try await ctx.host.connect(addr)
        try ctx.store.rememberPeer(peer.description, addresses: [addr.withoutPeer.description], source: source)
        return peer
    }
}

/// Triggers a graceful shutdown of the node's HTTP service group, also when asked before the group exists.
actor ShutdownSwitch {
    var group: ServiceGroup?
    var requested = false

    func attach(_ g: ServiceGroup) async {
        group = g
        if requested { await g.triggerGracefulShutdown() }
    }

    func trigger() async {
        requested = true
        await group?.triggerGracefulShutdown()
    }
}

extension NodeStore {
    /// The node log's size as last stored in the ledger snapshot (0 before the first start).
    func logSizeHint() -> UInt64 { ((try? ledgerSnapshot()) ?? nil)?.size ?? 0 }
}

extension Node {
    /// Runs the node until SIGINT or SIGTERM (graceful: in-flight requests finish) or an admin shutdown.
    /// Why: `murmur node` is this call; the service group turns signals into a graceful shutdown.
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: self, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: context.logger))
        try await group.run()
    }

    /// A logger writing one line per event to standard error at level `levelName` (trace … critical);
    /// no global bootstrap, so embedders keep theirs.
    public static func standardErrorLogger(levelName: String) throws(NodeError) -> Logger {
        guard let level = Logger.Level(rawValue: levelName) else {
            throw .config(source: "flags", key: "log-level", message: "'\(levelName)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        var l = Logger(label: "murmur.node") { StreamLogHandler.standardError(label: $0) }
        l.logLevel = level
        return l
    }
}
