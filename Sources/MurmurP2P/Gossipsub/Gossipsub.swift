import Foundation
import MurmurCore
import NIOConcurrencyHelpers

/// Gossipsub v1.1 on a `P2PHost`: one long-lived outbound stream per peer carrying
/// length-prefixed `PubsubRPC` frames, a heartbeat task, and local subscribers.
///
/// Spec: libp2p/specs pubsub/gossipsub/gossipsub-v1.1.md. Speaks `/meshsub/1.1.0`, and
/// `/meshsub/1.0.0` and `/floodsub/1.0.0` with older peers. The protocol logic is the pure
/// `GossipsubRouter`; this type only moves bytes and time. Usage:
///
///     var config = P2PHost.Configuration()
///     Gossipsub.register(in: &config)            // serve inbound pubsub streams
///     let host = P2PHost(identity: id, configuration: config)
///     let pubsub = try Gossipsub(host: host)
///     for await m in pubsub.subscribe("t") { … }  // elsewhere: try pubsub.publish("t", bytes)
public final class Gossipsub: Sendable {
    /// Protocol ids we offer, most preferred first.
    public static let protocolIDs = GossipsubRouter.PeerProtocol.allCases.map(\.rawValue)

    /// Adds the inbound pubsub stream handlers to a host configuration (before the host exists).
    ///
    /// Needed because a host's handlers are fixed at creation; the handlers find the
    /// `Gossipsub` created later for that host.
    public static func register(in configuration: inout P2PHost.Configuration) {
        for p in protocolIDs { configuration.handlers[p] = serve }
    }

    private struct PeerLink {
        var id: UInt64
        var frames: AsyncStream<[UInt8]>.Continuation
        /// Frames queued but not yet written.
        var pending = 0
    }
    private struct State {
        var router: GossipsubRouter
        var links: [PeerID: PeerLink] = [:]
        var subscribers: [String: [UInt64: AsyncStream<PubsubMessage>.Continuation]] = [:]
        var nextID: UInt64 = 1
        var closed = false
        var heartbeat: Task<Void, Never>?
        var observer: UInt64?
    }

    /// The host it runs on.
    public let host: P2PHost
    /// The router knobs.
    public let parameters: GossipsubParameters
    private let state: NIOLockedValueBox<State>
    private let start = ContinuousClock.now

    /// Starts gossipsub on `host` (whose configuration went through `register(in:)`): opens a
    /// pubsub stream to every connected and future peer and runs the heartbeat.
    ///
    /// `scoring` nil turns peer scoring off. Throws on inconsistent parameters.
    public init(host: P2PHost, parameters: GossipsubParameters = .init(), scoring: PeerScoreParameters? = PeerScoreParameters()) throws {
        try parameters.validate()
        try scoring?.validate()
        self.host = host
        self.parameters = parameters
        let seqno = UInt64(max(Date().timeIntervalSince1970, 0) * 1e9)
        state = NIOLockedValueBox(State(router: GossipsubRouter(
            identity: host.identity, parameters: parameters, scoring: scoring,
            seed: UInt64.random(in: 0...UInt64.max), initialSeqno: seqno)))
        Self.attach(self, to: host)
        let token = host.observeConnections { [weak self] event in
            guard let self else { return }
            switch event {
            case .connected(let peer, let conn): self.ensureLink(peer, conn)
            case .disconnected(let peer, _, let remaining): if remaining == 0 { self.dropPeer(peer) }
            }
        }
        let interval = parameters.heartbeatInterval
        // The host closes connections idle for `idleTimeout`; a quiet topic must not lose its
        // mesh, so pubsub connections get a yamux ping well within it.
        let keepalive = min(30, Double(host.configuration.idleTimeout.nanoseconds) / 3e9)
        let task = Task { [weak self] in
            var lastKeepalive = 0.0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                guard let self else { return }
                let now = self.now()
                self.perform(self.state.withLockedValue { $0.closed ? [] : $0.router.heartbeat(now: now) })
                if now - lastKeepalive >= keepalive {
                    lastKeepalive = now
                    self.keepAlive()
                }
            }
        }
        state.withLockedValue {
            $0.heartbeat = task
            $0.observer = token
        }
        for peer in host.connectedPeers {
            if let conn = host.connections(to: peer).last { ensureLink(peer, conn) }
        }
    }

    // MARK: public API

    /// Joins `topic` and returns its messages (ours included) until the stream is dropped or
    /// `close()`; the last subscriber leaving a topic leaves it. Buffers up to 1024 messages.
    public func subscribe(_ topic: String) -> AsyncStream<PubsubMessage> {
        let (stream, continuation) = AsyncStream<PubsubMessage>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let now = now()
        let (id, actions) = state.withLockedValue { s -> (UInt64, [GossipsubRouter.Action]) in
            let id = s.nextID
            s.nextID += 1
            guard !s.closed else { return (id, []) }
            s.subscribers[topic, default: [:]][id] = continuation
            return (id, s.router.subscribe(topic, now: now))
        }
        if state.withLockedValue({ $0.closed }) { continuation.finish() }
        continuation.onTermination = { [weak self] _ in self?.removeSubscriber(topic, id) }
        perform(actions)
        return stream
    }

    /// Signs and publishes `data` on `topic` (joined or not); returns the message sent.
    @discardableResult
    public func publish(_ topic: String, _ data: [UInt8]) throws -> PubsubMessage {
        let now = now()
        let (message, actions) = try state.withLockedValue { s in
            guard !s.closed else { throw P2PError.closed("gossipsub was closed") }
            return try s.router.publish(topic, data, now: now)
        }
        perform(actions)
        return message
    }

    /// Sets the validator for `topic`: it sees every new message before delivery and forwarding.
    public func addValidator(_ topic: String, _ validator: @escaping PubsubValidator) {
        state.withLockedValue { $0.router.setValidator(topic, validator) }
    }

    /// The current score of `peer` (0 when scoring is off or the peer is unknown).
    public func peerScore(_ peer: PeerID) -> Double {
        let now = now()
        return state.withLockedValue { $0.router.score(peer, now: now) }
    }

    /// Our mesh peers for `topic`.
    public func meshPeers(_ topic: String) -> [PeerID] { state.withLockedValue { $0.router.meshPeers(topic) } }

    /// Connected peers that announced `topic`.
    public func topicPeers(_ topic: String) -> [PeerID] { state.withLockedValue { $0.router.peers(in: topic) } }

    /// Peers we have a pubsub stream with.
    public var pubsubPeers: [PeerID] { state.withLockedValue { $0.router.knownPeers } }

    /// Router counters.
    public var stats: GossipsubRouter.Stats { state.withLockedValue { $0.router.stats } }

    /// Waits until every queued frame was written to its stream (true), or `timeout` passed.
    ///
    /// For short-lived publishers such as `murmur p2p pub` that exit right after publishing.
    public func flush(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while state.withLockedValue({ s in s.links.values.contains { $0.pending > 0 } }) {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Stops the heartbeat, ends every subscription stream and outbound queue (connections stay).
    public func close() {
        let (task, links, subs, token) = state.withLockedValue { s in
            s.closed = true
            defer {
                s.links = [:]
                s.subscribers = [:]
            }
            return (s.heartbeat, Array(s.links.values), s.subscribers.values.flatMap(\.values), s.observer)
        }
        task?.cancel()
        if let token { host.removeConnectionObserver(token) }
        for l in links { l.frames.finish() }
        for c in subs { c.finish() }
        Self.detach(host)
    }

    // MARK: streams

    func now() -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// Opens our outbound pubsub stream to `peer` unless one is open or opening; `reopened`
    /// re-announces our subscriptions (the peer may have dropped us with the old stream).
    private func ensureLink(_ peer: PeerID, _ conn: P2PConnection, reopened: Bool = false) {
        guard peer != host.peerID else { return }
        let (frames, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(1024))
        let linkID: UInt64? = state.withLockedValue { s in
            guard !s.closed, s.links[peer] == nil else { return nil }
            let id = s.nextID
            s.nextID += 1
            s.links[peer] = PeerLink(id: id, frames: continuation)
            return id
        }
        guard let linkID else { return }
        let ip = conn.remoteAddress.map { Multiaddr(Array($0.components.prefix(1))).description }
        Task { [weak self] in
            var opened = false
            do {
                let stream = try await conn.openStream(Self.protocolIDs)
                opened = true
                guard let self else { return }
                let proto = GossipsubRouter.PeerProtocol(rawValue: stream.protocolID) ?? .meshsub11
                let now = self.now()
                self.perform(self.state.withLockedValue { s in
                    let added = s.router.addPeer(peer, protocol: proto, outbound: conn.isDialer, ip: ip, now: now)
                    return reopened ? added + s.router.announceSubscriptions(to: peer) : added
                })
                for await frame in frames {
                    try await stream.write(frame)
                    self.state.withLockedValue { s in if s.links[peer]?.id == linkID { s.links[peer]?.pending -= 1 } }
                }
                try? await stream.closeWrite()
            } catch {
                // The connection went away or the peer does not speak pubsub: forget the link so
                // a later connection can open a new one.
            }
            guard let self else { return }
            let closed = self.state.withLockedValue { s in
                if s.links[peer]?.id == linkID { s.links[peer] = nil }
                return s.closed
            }
            guard !closed else { return }
            let live = self.host.connections(to: peer)
            if let other = live.last, other !== conn {
                // Another connection to the peer remains (simultaneous dials): use it.
                self.ensureLink(peer, other, reopened: true)
            } else if opened, live.contains(where: { $0 === conn }) {
                // Our stream failed but the connection lives (the peer reset the stream): retry
                // after a pause, at most once a second.
                try? await Task.sleep(for: .seconds(1))
                self.ensureLink(peer, conn, reopened: true)
            }
        }
    }

    /// A yamux ping on the newest connection to each pubsub peer (traffic both ways).
    private func keepAlive() {
        for peer in pubsubPeers {
            guard let conn = host.connections(to: peer).last else { continue }
            Task { try? await conn.muxerPing() }
        }
    }

    private func dropPeer(_ peer: PeerID) {
        let now = now()
        let link = state.withLockedValue { s -> PeerLink? in
            s.router.removePeer(peer, now: now)
            return s.links.removeValue(forKey: peer)
        }
        link?.frames.finish()
    }

    private func removeSubscriber(_ topic: String, _ id: UInt64) {
        let now = now()
        let actions = state.withLockedValue { s -> [GossipsubRouter.Action] in
            guard s.subscribers[topic]?.removeValue(forKey: id) != nil else { return [] }
            guard s.subscribers[topic]?.isEmpty ?? true else { return [] }
            s.subscribers[topic] = nil
            return s.closed ? [] : s.router.unsubscribe(topic, now: now)
        }
        perform(actions)
    }

    /// Reads length-prefixed RPC frames from an inbound pubsub stream until it ends.
    private func readLoop(_ stream: P2PStream) async throws {
        guard let peer = stream.connection.remotePeer else { return }
        ensureLink(peer, stream.connection)
        // The peer's protocol is known from its stream before ours to it is open.
        let proto = GossipsubRouter.PeerProtocol(rawValue: stream.protocolID) ?? .meshsub11
        let start = now()
        perform(state.withLockedValue { $0.closed ? [] : $0.router.addPeer(peer, protocol: proto, outbound: stream.connection.isDialer, now: start) })
        var decoder = LengthPrefixedDecoder(maxLength: parameters.limits.maxFrameLength)
        while let chunk = try await stream.read() {
            decoder.feed(chunk)
            while let frame = try decoder.next() {
                let rpc = try PubsubRPC(decoding: frame, limits: parameters.limits)
                let now = now()
                perform(state.withLockedValue { $0.closed ? [] : $0.router.handle(rpc, from: peer, now: now) })
            }
        }
    }

    private func perform(_ actions: [GossipsubRouter.Action]) {
        for action in actions {
            switch action {
            case .send(let peer, let rpc):
                let link = state.withLockedValue { s -> PeerLink? in
                    s.links[peer]?.pending += 1
                    return s.links[peer]
                }
                guard let link else { continue }
                if case .dropped = link.frames.yield(LengthPrefixedDecoder.frame(rpc.encoded)) {
                    // A peer that does not read loses frames beyond 1024 queued (bounded memory).
                    state.withLockedValue { s in if s.links[peer]?.id == link.id { s.links[peer]?.pending -= 1 } }
                }
            case .deliver(let message):
                let subs = state.withLockedValue { Array(($0.subscribers[message.topic] ?? [:]).values) }
                for s in subs { s.yield(message) }
            case .connect(let offered):
                // Peer exchange without signed records: only peers whose address we already know.
                for p in offered where !host.addresses(for: p).isEmpty {
                    Task { [host] in _ = try? await host.connect(to: p) }
                }
            }
        }
    }

    // MARK: the host → gossipsub registry (for inbound stream handlers)

    /// A weak reference; only read and written under `registry`'s lock.
    private struct WeakRef: @unchecked Sendable {
        weak var value: Gossipsub?
    }
    private static let registry = NIOLockedValueBox<[ObjectIdentifier: WeakRef]>([:])

    private static func attach(_ g: Gossipsub, to host: P2PHost) {
        registry.withLockedValue { $0[ObjectIdentifier(host)] = WeakRef(value: g) }
    }

    private static func detach(_ host: P2PHost) {
        registry.withLockedValue { _ = $0.removeValue(forKey: ObjectIdentifier(host)) }
    }

    @Sendable static func serve(_ stream: P2PStream) async throws {
        let g = registry.withLockedValue { $0[ObjectIdentifier(stream.connection.host)]?.value }
        guard let g else {
            await stream.reset()
            return
        }
        try await g.readLoop(stream)
    }
}
