import MurmurCore
import NIOConcurrencyHelpers
import NIOCore

/// A change in the set of live, authenticated connections of a `P2PHost`.
public enum ConnectionEvent: Sendable {
    /// A connection to `peer` finished Noise + yamux (either direction).
    case connected(PeerID, P2PConnection)
    /// A connection to `peer` closed; `remaining` connections to it are still open.
    case disconnected(PeerID, P2PConnection, remaining: Int)
}

/// The host's live connections by peer, its address book, and connection observers.
///
/// Protocols that talk to peers by id (gossipsub, Kademlia, block exchange) use this instead of
/// dialing anew for every message: `P2PHost.connect(to:)` reuses a live connection to the peer
/// and dials a known address only when there is none.
final class SwarmState: Sendable {
    private struct State {
        var connections: [PeerID: [P2PConnection]] = [:]
        var addresses: [PeerID: [Multiaddr]] = [:]
        var observers: [UInt64: @Sendable (ConnectionEvent) -> Void] = [:]
        var nextObserver: UInt64 = 1
    }
    private let state = NIOLockedValueBox(State())

    func register(_ conn: P2PConnection, peer: PeerID) {
        let observers = state.withLockedValue { s -> [@Sendable (ConnectionEvent) -> Void] in
            s.connections[peer, default: []].append(conn)
            return Array(s.observers.values)
        }
        for o in observers { o(.connected(peer, conn)) }
    }

    func unregister(_ conn: P2PConnection, peer: PeerID) {
        let (observers, remaining) = state.withLockedValue { s -> ([@Sendable (ConnectionEvent) -> Void], Int) in
            var list = s.connections[peer] ?? []
            list.removeAll { $0 === conn }
            s.connections[peer] = list.isEmpty ? nil : list
            return (Array(s.observers.values), list.count)
        }
        for o in observers { o(.disconnected(peer, conn, remaining: remaining)) }
    }

    func connections(to peer: PeerID) -> [P2PConnection] { state.withLockedValue { $0.connections[peer] ?? [] } }
    var connectedPeers: [PeerID] { state.withLockedValue { Array($0.connections.keys) } }
    var connectionCount: Int { state.withLockedValue { $0.connections.values.reduce(0) { $0 + $1.count } } }
    /// Every live connection, read under one lock.
    var allConnections: [P2PConnection] { state.withLockedValue { $0.connections.values.flatMap { $0 } } }

    func addAddresses(_ addrs: [Multiaddr], for peer: PeerID) {
        state.withLockedValue { s in
            var known = s.addresses[peer] ?? []
            for a in addrs.map({ $0.withoutPeer }) where !known.contains(a) { known.append(a) }
            // Bounded: a peer cannot grow our address book without limit.
            s.addresses[peer] = Array(known.suffix(8))
        }
    }

    func addresses(for peer: PeerID) -> [Multiaddr] { state.withLockedValue { $0.addresses[peer] ?? [] } }

    func observe(_ f: @escaping @Sendable (ConnectionEvent) -> Void) -> UInt64 {
        state.withLockedValue { s in
            let id = s.nextObserver
            s.nextObserver += 1
            s.observers[id] = f
            return id
        }
    }

    func removeObserver(_ id: UInt64) { _ = state.withLockedValue { $0.observers.removeValue(forKey: id) } }
}

extension P2PHost {
    /// Peers with at least one live, authenticated connection.
    public var connectedPeers: [PeerID] { swarm.connectedPeers }

    /// Live connections (all peers).
    public var connectionCount: Int { swarm.connectionCount }

    /// Live connections to `peer`, oldest first.
    public func connections(to peer: PeerID) -> [P2PConnection] { swarm.connections(to: peer) }

    /// Every live connection.
    public var connections: [P2PConnection] { swarm.allConnections }

    /// Closes every live connection, all at once (each `close` may wait up to its linger for
    /// its peer), and returns when they are closed.
    public func closeConnections() async {
        await withTaskGroup(of: Void.self) { group in
            for c in connections { group.addTask { await c.close() } }
        }
    }

    /// Remembers `addresses` (without `/p2p/…`) as ways to reach `peer` (at most 8 are kept).
    public func addAddresses(_ addresses: [Multiaddr], for peer: PeerID) { swarm.addAddresses(addresses, for: peer) }

    /// Known addresses of `peer` (from `addAddresses`, dials and inbound connections).
    public func addresses(for peer: PeerID) -> [Multiaddr] { swarm.addresses(for: peer) }

    /// Calls `observer` on every connect and disconnect (on an event loop: do not block);
    /// returns a token for `removeConnectionObserver`.
    @discardableResult
    public func observeConnections(_ observer: @escaping @Sendable (ConnectionEvent) -> Void) -> UInt64 {
        swarm.observe(observer)
    }

    /// Stops calling the observer registered under `token`.
    public func removeConnectionObserver(_ token: UInt64) { swarm.removeObserver(token) }

    /// A live connection to `peer`, or a new one dialed from its known addresses (first that works).
    ///
    /// Throws `P2PError.noAddress` when there is no connection and no known address.
    public func connect(to peer: PeerID) async throws -> P2PConnection {
        if let live = swarm.connections(to: peer).last { return live }
        let known = swarm.addresses(for: peer)
        guard !known.isEmpty else { throw P2PError.noAddress(peer.description) }
        var lastError: any Error = P2PError.noAddress(peer.description)
        for address in known {
            do { return try await dial(address.with(peer: peer)) } catch { lastError = error }
        }
        throw lastError
    }

    /// `connect(to:)` for a multiaddr ending in `/p2p/<id>`: reuses a live connection to that
    /// peer, else dials the address (and remembers it).
    public func connect(_ address: Multiaddr) async throws -> P2PConnection {
        guard let peer = address.peerID else { return try await dial(address) }
        if let live = swarm.connections(to: peer).last { return live }
        swarm.addAddresses([address], for: peer)
        return try await dial(address)
    }

    /// Opens a stream to `peer` speaking the first of `protocols` it accepts (connecting first if needed).
    public func newStream(to peer: PeerID, _ protocols: [String]) async throws -> P2PStream {
        try await connect(to: peer).openStream(protocols)
    }

    /// Tracks `conn` in the swarm from authentication until its channel closes.
    func track(_ conn: P2PConnection, channel: any Channel) {
        conn.established.futureResult.whenSuccess { peer in
            if conn.isDialer, let addr = conn.remoteAddress { self.swarm.addAddresses([addr], for: peer) }
            self.swarm.register(conn, peer: peer)
            channel.closeFuture.whenComplete { _ in self.swarm.unregister(conn, peer: peer) }
        }
    }
}
