import MurmurCore
import NIOConcurrencyHelpers

/// A Kademlia DHT node (`/ipfs/kad/1.0.0`) on a `P2PHost`: peer routing, values, providers.
///
/// Spec: libp2p/specs kad-dht/README.md (k = 20, α = 3, SHA-256 XOR distance), after
/// Maymounkov & Mazières 2002. It serves the protocol on inbound streams when the host's
/// configuration went through `Kademlia.register(in:)` (server mode; `makeHost` does it), and
/// adds every peer whose identify lists the kad protocol to its routing table on connect.
public actor Kademlia: ProviderRouting {
    /// The protocol id.
    public static let protocolID = "/ipfs/kad/1.0.0"

    /// Knobs of a DHT node.
    public struct Configuration: Sendable {
        /// Bucket size and lookup width (Kademlia's k).
        public var k = 20
        /// Requests in flight per lookup (Kademlia's α).
        public var alpha = 3
        /// One request/response exchange must finish within this.
        public var requestTimeout: Duration = .seconds(10)
        /// GET_VALUE stops once this many peers returned a valid record (our own copy counts).
        public var getValueQuorum = 2
        /// Validates records stored here and values fetched (default: `/pk/` + latest-wins fallback).
        public var validator: any RecordValidator = NamespacedValidator()
        /// The largest record value stored or accepted.
        public var maxValueSize = 64 * 1024
        /// How long provider records count (go-libp2p: 48 h).
        public var providerValidity: Duration = .seconds(48 * 3600)
        /// Defaults: k = 20, α = 3, 10 s per request, quorum 2.
        public init() {}
    }

    /// Adds the inbound `/ipfs/kad/1.0.0` handler to a host configuration (before the host exists).
    ///
    /// A host's handlers are fixed at creation while a `Kademlia` needs its host, so the handler
    /// finds the `Kademlia` later created on that host (the same pattern as `Gossipsub.register`).
    /// A host without it makes a client-only DHT node: it queries, it does not answer.
    public static func register(in configuration: inout P2PHost.Configuration) {
        configuration.handlers[protocolID] = serveInbound
    }

    /// The host it runs on.
    public nonisolated let host: P2PHost
    /// Its knobs.
    public nonisolated let configuration: Configuration
    /// Whether it answers kad requests (its host went through `register(in:)`).
    public nonisolated var isServer: Bool { host.servedProtocols.contains(Self.protocolID) }
    var table: RoutingTable
    var records: RecordStore
    var providers: ProviderStore
    /// Values we put and keys we provide, for `republish()` (bounded by what the caller puts).
    var originated: [[UInt8]: [UInt8]] = [:]
    var provided: Set<[UInt8]> = []
    private let observer = NIOLockedValueBox<UInt64?>(nil)

    /// A DHT node on `host` (a server if the host's configuration went through `register(in:)`).
    public init(host: P2PHost, configuration: Configuration = .init()) {
        self.host = host
        self.configuration = configuration
        table = RoutingTable(local: host.peerID, bucketSize: configuration.k)
        records = RecordStore(validator: configuration.validator, maxValueSize: configuration.maxValueSize)
        providers = ProviderStore(validity: configuration.providerValidity)
        Self.registry.withLockedValue { $0[ObjectIdentifier(host)] = Weak(node: self) }
        let token = host.observeConnections { [weak self] event in
            guard case .connected(let peer, let conn) = event, let self else { return }
            Task { await self.identifyAndAdd(peer, conn) }
        }
        observer.withLockedValue { $0 = token }
    }

    deinit {
        if let token = observer.withLockedValue({ $0 }) { host.removeConnectionObserver(token) }
        let key = ObjectIdentifier(host)
        Self.registry.withLockedValue { r in if r[key]?.node == nil { r[key] = nil } }
    }

    /// A weak reference to a node (the registry must not keep nodes alive).
    private struct Weak: Sendable {
        weak var node: Kademlia?
    }
    /// The node of each host, for the inbound handler.
    private static let registry = NIOLockedValueBox<[ObjectIdentifier: Weak]>([:])

    @Sendable private static func serveInbound(_ stream: P2PStream) async throws {
        guard let node = registry.withLockedValue({ $0[ObjectIdentifier(stream.connection.host)]?.node }) else {
            await stream.reset()
            return
        }
        try await node.serve(stream)
    }

    /// A host serving the DHT (plus `hostConfiguration`'s handlers) and its DHT node.
    public static func makeHost(
        identity: Identity, hostConfiguration: P2PHost.Configuration = .init(), configuration: Configuration = .init()
    ) -> Kademlia {
        var hostConfiguration = hostConfiguration
        register(in: &hostConfiguration)
        return Kademlia(host: P2PHost(identity: identity, configuration: hostConfiguration), configuration: configuration)
    }

    // MARK: routing table

    /// Peers in the routing table.
    public var routingTablePeers: [PeerID] { table.peers }

    /// Adds `peer` (a DHT server we can reach) to the routing table; on a full bucket, checks
    /// that the least recently seen peer still answers a ping and evicts it if not.
    func add(_ peer: PeerID) {
        guard case .bucketFull(let oldest) = table.insert(peer) else { return }
        let host = host
        let timeout = configuration.requestTimeout
        Task {
            let alive = (try? await Self.withTimeout(timeout) { _ = try await PingProtocol.ping(try await host.connect(to: oldest)) }) != nil
            self.pinged(oldest, alive: alive)
        }
    }

    private func pinged(_ peer: PeerID, alive: Bool) {
        if alive { _ = table.insert(peer) } else { table.remove(peer) }
    }

    /// Drops a peer that failed a request (a waiting replacement takes its slot).
    func failed(_ peer: PeerID) { table.remove(peer) }

    /// Runs identify on a new connection; a peer that serves kad goes into the routing table
    /// with its listen addresses in the host's address book.
    private func identifyAndAdd(_ peer: PeerID, _ conn: P2PConnection) async {
        guard let info = try? await Self.withTimeout(configuration.requestTimeout, { try await IdentifyProtocol.identify(conn) }) else { return }
        let addrs = info.listenAddrs.compactMap { try? Multiaddr(bytes: $0) }
        if !addrs.isEmpty { host.addAddresses(addrs, for: peer) }
        if info.protocols.contains(Self.protocolID) { add(peer) }
    }

    /// Connects to `peers` (multiaddrs ending in `/p2p/<id>`), adds them to the routing table,
    /// then looks up our own id so that the peers nearest us learn of us and we of them.
    ///
    /// Spec: kad-dht "Bootstrap process". Returns the routing table size; throws `noPeers`
    /// when none of `peers` could be reached.
    @discardableResult
    public func bootstrap(peers: [Multiaddr]) async throws -> Int {
        let host = host
        let reached = await withTaskGroup(of: PeerID?.self) { group in
            for address in peers {
                group.addTask {
                    guard let conn = try? await host.connect(address) else { return nil }
                    return conn.remotePeer
                }
            }
            var out: [PeerID] = []
            for await p in group { if let p { out.append(p) } }
            return out
        }
        for p in reached { add(p) }
        guard !table.peers.isEmpty else { throw KademliaError.noPeers }
        _ = try await closestPeers(host.peerID.multihash.bytes)
        return table.count
    }

    /// Runs `body`, throwing `P2PError.timeout` after `timeout` (the body is cancelled, not awaited).
    static func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let pending = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        let work = NIOLockedValueBox<Task<Void, Never>?>(nil)
        func finish(_ result: Result<T, any Error>) {
            pending.withLockedValue { c in
                c?.resume(with: result)
                c = nil
            }
        }
        return try await withCheckedThrowingContinuation { cont in
            pending.withLockedValue { $0 = cont }
            let sleeper = Task {
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                finish(.failure(P2PError.timeout("did not finish within \(timeout)")))
                work.withLockedValue { $0?.cancel() }
            }
            work.withLockedValue { w in
                w = Task {
                    do { finish(.success(try await body())) } catch { finish(.failure(error)) }
                    sleeper.cancel()
                }
            }
        }
    }
}
