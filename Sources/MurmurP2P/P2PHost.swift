import Crypto
import MurmurCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Serves one protocol on inbound streams (the stream is closed or reset by the handler).
public typealias StreamHandler = @Sendable (P2PStream) async throws -> Void

/// A libp2p node over TCP: dials and listens with Noise + yamux and serves stream protocols.
///
/// Built-in: `/ipfs/ping/1.0.0`, `/ipfs/id/1.0.0` and `/ipfs/id/push/1.0.0`; more protocols
/// come from `Configuration.handlers` (e.g. `EchoProtocol` for `/murmur/echo/1.0.0`).
public final class P2PHost: Sendable {
    /// Knobs of a host.
    public struct Configuration: Sendable {
        /// Extra protocols served on inbound streams.
        public var handlers: [String: StreamHandler] = [:]
        /// Protocols whose handlers run on the connection's event loop
        /// (`P2PConnection.taskExecutor`) instead of Swift's cooperative pool: each read and write
        /// then completes on the loop's thread, with no hand-off between threads (the sink of
        /// `murmur bench p2p`, an echo). Only for handlers that move bytes; one that computes or
        /// blocks holds up every connection on the loop.
        public var eventLoopHandlers: Set<String> = []
        /// A connection must finish multistream + Noise + yamux within this.
        public var handshakeTimeout: TimeAmount = .seconds(10)
        /// A connection with no bytes either way for this long is closed.
        public var idleTimeout: TimeAmount = .seconds(120)
        /// yamux limits.
        public var yamux = YamuxSession.Configuration()
        /// Sent in identify.
        public var agentVersion = "murmur/0.1"
        /// Called on the event loop for each connection a peer dialed to us, once authenticated.
        public var onInboundConnection: (@Sendable (P2PConnection) -> Void)?
        /// Called on the event loop when a peer breaks the connection layer (multistream, Noise,
        /// yamux) and the connection is closed; `remotePeer` is nil before the handshake.
        /// For peer scoring (MurmurNode's `PeerGuard`).
        public var onProtocolViolation: (@Sendable (P2PConnection, P2PError) -> Void)?
        /// Called when a handler of an inbound stream throws (the stream is then reset), with the
        /// stream (its `protocolID` and `connection.remotePeer`) and the error. For peer scoring.
        public var onStreamError: (@Sendable (P2PStream, any Error) -> Void)?
        /// Asked with an inbound TCP connection's remote address before any byte is read; false
        /// closes it (a connection gater for refused addresses). Nil admits everyone.
        public var acceptInbound: (@Sendable (Multiaddr) -> Bool)?
        /// Defaults: 10 s handshake, 120 s idle.
        public init() {}
    }

    /// Our identity.
    public let identity: Identity
    /// Our peer id.
    public var peerID: PeerID { identity.peerID }
    /// The knobs.
    public let configuration: Configuration
    let group: any EventLoopGroup
    private let listenAddresses = NIOLockedValueBox<[Multiaddr]>([])
    /// Live connections by peer, the address book, connection observers (P2PSwarm.swift).
    let swarm = SwarmState()

    /// A host for `identity` on `group` (NIO's shared group by default).
    public init(identity: Identity, configuration: Configuration = .init(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.identity = identity
        self.configuration = configuration
        self.group = group
    }

    /// Protocols every host serves unless a configured handler replaces them.
    static let builtinProtocols = [PingProtocol.id, IdentifyProtocol.id, IdentifyProtocol.pushID]

    /// Every protocol served on inbound streams, sorted.
    public var servedProtocols: [String] {
        // A configured handler may replace a built-in one: each protocol once.
        Set(Self.builtinProtocols + Array(configuration.handlers.keys)).sorted()
    }

    func handler(for proto: String) -> StreamHandler? {
        if let configured = configuration.handlers[proto] { return configured }
        switch proto {
        case IdentifyProtocol.id: return { [self] s in try await IdentifyProtocol.serve(s, host: self) }
        case IdentifyProtocol.pushID: return IdentifyProtocol.servePush
        case PingProtocol.id: return PingProtocol.serve
        default: return nil
        }
    }

    /// Pushes our identify message to every connected peer (`/ipfs/id/push/1.0.0`), as the spec
    /// asks after our listen addresses or protocols change; `listen` does it by itself. Returns
    /// how many peers took it (a peer that does not serve push, or fails, is skipped).
    @discardableResult
    public func pushIdentify() async -> Int {
        await withTaskGroup(of: Bool.self) { group in
            for c in connections { group.addTask { (try? await IdentifyProtocol.push(c)) != nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
    }

    /// The addresses we listen on, each ending in `/p2p/<our id>`.
    public var addresses: [Multiaddr] { listenAddresses.withLockedValue { $0 }.map { $0.with(peer: peerID) } }

    private func initialize(_ channel: any Channel, isDialer: Bool, expectedPeer: PeerID?) -> EventLoopFuture<P2PConnection> {
        let conn = P2PConnection(host: self, eventLoop: channel.eventLoop, isDialer: isDialer, expectedPeer: expectedPeer)
        do {
            // Up to 2 MiB queued in NIO before stream data waits in yamux (bounded memory).
            try channel.syncOptions?.setOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 2 * 1024 * 1024))
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(IdleStateHandler(allTimeout: configuration.idleTimeout))
            try sync.addHandler(P2PConnectionHandler(connection: conn))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        track(conn, channel: channel)
        return channel.eventLoop.makeSucceededFuture(conn)
    }

    /// Dials `address` (`/ip4|ip6|dns/…/tcp/…[/p2p/…]`); returns once Noise and yamux are up.
    ///
    /// A trailing `/p2p/<id>` is checked against the key the peer proves in the handshake.
    public func dial(_ address: Multiaddr) async throws -> P2PConnection {
        let (hostName, port) = try address.tcpEndpoint()
        let expected = address.peerID
        let conn = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(configuration.handshakeTimeout)
            .connect(host: hostName, port: port) { channel in
                self.initialize(channel, isDialer: true, expectedPeer: expected)
            }
        _ = try await conn.established.futureResult.get()
        return conn
    }

    /// Listens on `address` (`/ip4|ip6/…/tcp/PORT`, port 0 picks one); `addresses` then lists it.
    ///
    /// Serves until `group` shuts down or the returned server channel is closed.
    @discardableResult
    public func listen(_ address: Multiaddr) async throws -> any Channel {
        let (hostName, port) = try address.tcpEndpoint()
        let onInbound = configuration.onInboundConnection
        let accept = configuration.acceptInbound
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                if let accept, let remote = child.remoteAddress.flatMap({ try? Multiaddr(socketAddress: $0) }), !accept(remote) {
                    return child.close()
                }
                return self.initialize(child, isDialer: false, expectedPeer: nil).map { conn in
                    if let onInbound { conn.established.futureResult.whenSuccess { _ in onInbound(conn) } }
                }
            }
            .bind(host: hostName, port: port).get()
        if let local = channel.localAddress {
            let bound = try Multiaddr(socketAddress: local)
            listenAddresses.withLockedValue { $0.append(bound) }
            // Peers we are already connected to learn the new address (identify push).
            if swarm.connectionCount > 0 { Task { await self.pushIdentify() } }
        }
        return channel
    }
}

extension Multiaddr {
    /// The `/ip4|ip6/…/tcp/…` form of a socket address.
    public init(socketAddress: SocketAddress) throws {
        guard let ip = socketAddress.ipAddress, let port = socketAddress.port else {
            throw P2PError.invalidMultiaddr("socket address \(socketAddress) has no IP and port")
        }
        switch socketAddress {
        case .v4: self.init([.ip4(try Self.parseIPv4(ip)), .tcp(UInt16(port))])
        case .v6: self.init([.ip6(try Self.parseIPv6(ip)), .tcp(UInt16(port))])
        default: throw P2PError.invalidMultiaddr("socket address \(socketAddress) is not IPv4 or IPv6")
        }
    }
}
