import MurmurCore

/// The gossipsub v1.1 router as a pure state machine: RPCs and time in, RPCs to send out.
///
/// Spec: libp2p/specs pubsub/gossipsub/gossipsub-v1.0.md and gossipsub-v1.1.md. No sockets, no
/// clock: every call takes `now` (seconds, monotonic) and returns `[Action]`; the `Gossipsub`
/// service runs the I/O. Randomness comes from a `SeededRNG`, so tests replay exactly.
/// The heartbeat (mesh maintenance, gossip, fanout) is in GossipsubHeartbeat.swift, the
/// output helpers (candidates, GRAFT/PRUNE, outbox) in GossipsubRouterOutput.swift.
public struct GossipsubRouter: Sendable {
    /// The pubsub protocol a peer speaks on its stream.
    public enum PeerProtocol: String, Sendable, CaseIterable {
        /// gossipsub v1.1 (PX, backoff, scoring).
        case meshsub11 = "/meshsub/1.1.0"
        /// gossipsub v1.0.
        case meshsub10 = "/meshsub/1.0.0"
        /// floodsub: no mesh, no control messages; gets every message of its topics.
        case floodsub = "/floodsub/1.0.0"
    }

    /// What the I/O side must do.
    public enum Action: Sendable, Equatable {
        /// Send one RPC frame to the peer.
        case send(PeerID, PubsubRPC)
        /// Hand a validated message to local subscribers of its topic.
        case deliver(PubsubMessage)
        /// Peer exchange: try to connect to these peers (a PRUNE offered them).
        case connect([PeerID])
    }

    /// Counters for logs, tests and benchmarks.
    public struct Stats: Sendable, Equatable {
        /// Messages delivered to local subscribers (ours included).
        public var delivered = 0
        /// Duplicates dropped by the seen cache.
        public var duplicates = 0
        /// Messages refused for a missing or bad signature.
        public var invalidSignatures = 0
        /// Messages a validator rejected.
        public var rejected = 0
        /// Messages a validator ignored.
        public var ignored = 0
        /// RPCs dropped because their sender was graylisted.
        public var graylisted = 0
        /// Messages sent in answer to IWANT.
        public var iwantServed = 0
        /// GRAFTs refused because of an active backoff.
        public var graftsDuringBackoff = 0
    }

    struct PeerState {
        var proto: PeerProtocol
        var outbound: Bool
        var topics: Set<String> = []
        var ihaveReceived = 0
        var iwantAsked = 0
    }

    /// Our peer id.
    public let localPeer: PeerID
    let identity: Identity
    /// The knobs.
    public let parameters: GossipsubParameters
    var scores: PeerScore?
    var peers: [PeerID: PeerState] = [:]
    /// Topics we joined.
    public private(set) var subscriptions: Set<String> = []
    var mesh: [String: Set<PeerID>] = [:]
    var fanout: [String: Set<PeerID>] = [:]
    var fanoutPublished: [String: Double] = [:]
    var backoff: [String: [PeerID: Double]] = [:]
    var mcache: MessageCache
    var seen: SeenCache
    var seqno: UInt64
    var promises: [[UInt8]: (peer: PeerID, deadline: Double)] = [:]
    var retransmissions: [[UInt8]: [PeerID: Int]] = [:]
    var validators: [String: PubsubValidator] = [:]
    var ticks = 0
    var rng: SeededRNG
    var outbox: [PeerID: PubsubRPC] = [:]
    var outboxOrder: [PeerID] = []
    var pending: [Action] = []
    /// Counters since creation.
    public private(set) var stats = Stats()

    /// A router for `identity`; `scoring` nil turns peer scoring off; `initialSeqno` should grow
    /// across restarts (the service passes Unix nanoseconds).
    public init(identity: Identity, parameters: GossipsubParameters = .init(), scoring: PeerScoreParameters? = PeerScoreParameters(), seed: UInt64 = 0, initialSeqno: UInt64 = 1) {
        self.identity = identity
        localPeer = identity.peerID
        self.parameters = parameters
        scores = scoring.map(PeerScore.init(parameters:))
        mcache = MessageCache(historyLength: parameters.historyLength, historyGossip: parameters.historyGossip)
        seen = SeenCache(ttl: parameters.seenTTL)
        seqno = initialSeqno
        rng = SeededRNG(seed: seed)
    }

    // MARK: inspection

    /// The score of `peer` (0 when scoring is off).
    public func score(_ peer: PeerID, now: Double) -> Double { scores?.score(peer, now: now) ?? 0 }

    /// Peers in our mesh for `topic`, sorted.
    public func meshPeers(_ topic: String) -> [PeerID] { sorted(mesh[topic] ?? []) }

    /// Peers in our fanout for `topic`, sorted.
    public func fanoutPeers(_ topic: String) -> [PeerID] { sorted(fanout[topic] ?? []) }

    /// Connected pubsub peers that announced `topic`, sorted.
    public func peers(in topic: String) -> [PeerID] { sorted(peers.filter { $0.value.topics.contains(topic) }.map(\.key)) }

    /// Connected pubsub peers.
    public var knownPeers: [PeerID] { sorted(peers.keys) }

    /// Whether a backoff keeps us from grafting `peer` in `topic` at `now`.
    public func isBackedOff(_ peer: PeerID, topic: String, now: Double) -> Bool { (backoff[topic]?[peer] ?? -1) > now }

    func sorted<S: Sequence>(_ s: S) -> [PeerID] where S.Element == PeerID { s.sorted { $0.multihash.bytes.lexicographicallyPrecedes($1.multihash.bytes) } }

    // MARK: peers

    /// A peer's pubsub stream is up: remember it and tell it our subscriptions.
    public mutating func addPeer(_ peer: PeerID, protocol proto: PeerProtocol, outbound: Bool, ip: String? = nil, now: Double) -> [Action] {
        insertPeer(peer, protocol: proto, outbound: outbound, ip: ip)
        return flush()
    }

    /// `addPeer` without flushing (the caller flushes with its own output).
    private mutating func insertPeer(_ peer: PeerID, protocol proto: PeerProtocol, outbound: Bool, ip: String?) {
        guard peer != localPeer else { return }
        if peers[peer] == nil {
            peers[peer] = PeerState(proto: proto, outbound: outbound)
            scores?.addPeer(peer, ip: ip)
            if !subscriptions.isEmpty {
                queue(peer, PubsubRPC(subscriptions: subscriptions.sorted().map { .init(subscribe: true, topic: $0) }))
            }
        } else if var state = peers[peer] {
            state.proto = proto
            state.outbound = state.outbound || outbound
            peers[peer] = state
        }
    }

    /// Our subscriptions, for a peer that may have forgotten them (a re-opened stream).
    public mutating func announceSubscriptions(to peer: PeerID) -> [Action] {
        if !subscriptions.isEmpty {
            queue(peer, PubsubRPC(subscriptions: subscriptions.sorted().map { .init(subscribe: true, topic: $0) }))
        }
        return flush()
    }

    /// The peer is gone (no connection left).
    public mutating func removePeer(_ peer: PeerID, now: Double) {
        guard peers.removeValue(forKey: peer) != nil else { return }
        for t in Array(mesh.keys) where mesh[t]?.remove(peer) != nil { scores?.prune(peer, topic: t) }
        for t in Array(fanout.keys) { fanout[t]?.remove(peer) }
        scores?.removePeer(peer, now: now)
        outbox[peer] = nil
    }

    /// Registers the validator for `topic` (replacing any earlier one).
    public mutating func setValidator(_ topic: String, _ validator: PubsubValidator?) { validators[topic] = validator }

    // MARK: subscriptions

    /// Joins `topic`: announces it and grafts up to D peers (fanout peers first).
    public mutating func subscribe(_ topic: String, now: Double) -> [Action] {
        guard subscriptions.insert(topic).inserted else { return [] }
        for p in sorted(peers.keys) { queue(p, PubsubRPC(subscriptions: [.init(subscribe: true, topic: topic)])) }
        var chosen = Set((fanout.removeValue(forKey: topic) ?? []).filter { score($0, now: now) >= 0 })
        fanoutPublished[topic] = nil
        if chosen.count < parameters.d {
            let more = random(candidates(topic, now: now) { !chosen.contains($0) && self.score($0, now: now) >= 0 })
            chosen.formUnion(more.prefix(parameters.d - chosen.count))
        }
        mesh[topic] = []
        for p in sorted(chosen) { graft(p, topic, now: now) }
        return flush()
    }

    /// Leaves `topic`: announces it and prunes the mesh (with the unsubscribe backoff).
    public mutating func unsubscribe(_ topic: String, now: Double) -> [Action] {
        guard subscriptions.remove(topic) != nil else { return [] }
        for p in sorted(peers.keys) { queue(p, PubsubRPC(subscriptions: [.init(subscribe: false, topic: topic)])) }
        for p in sorted(mesh.removeValue(forKey: topic) ?? []) {
            scores?.prune(p, topic: topic)
            sendPrune(p, topic, backoff: parameters.unsubscribeBackoff, now: now)
        }
        return flush()
    }

    // MARK: publishing

    /// Signs and sends `data` on `topic`: to the mesh (or fanout), or with flood publishing to
    /// every topic peer above the publish threshold; delivers locally if we joined the topic.
    public mutating func publish(_ topic: String, _ data: [UInt8], now: Double) throws -> (PubsubMessage, [Action]) {
        seqno &+= 1
        let wire = try PubsubSigning.sign(data: data, topic: topic, seqno: seqno, identity: identity)
        let id = PubsubSigning.messageID(wire)
        seen.insert(id, now: now)
        mcache.put(id: id, topic: topic, wire)
        let message = PubsubMessage(from: localPeer, data: data, seqno: wire.seqno, topic: topic, id: id, receivedFrom: localPeer)
        let threshold = scores?.parameters.publishThreshold ?? -.infinity
        var targets: Set<PeerID>
        if parameters.floodPublish {
            targets = Set(peers(in: topic).filter { score($0, now: now) >= threshold })
        } else if subscriptions.contains(topic) {
            targets = mesh[topic] ?? []
        } else {
            if (fanout[topic] ?? []).isEmpty {
                let c = random(candidates(topic, now: -.infinity) { self.score($0, now: now) >= threshold })
                fanout[topic] = Set(c.prefix(parameters.d))
            }
            targets = fanout[topic] ?? []
        }
        if !subscriptions.contains(topic) { fanoutPublished[topic] = now }
        for (p, s) in peers where s.proto == .floodsub && s.topics.contains(topic) { targets.insert(p) }
        for p in sorted(targets) { queue(p, PubsubRPC(publish: [wire])) }
        if subscriptions.contains(topic) {
            stats.delivered += 1
            pending.append(.deliver(message))
        }
        return (message, flush())
    }

    // MARK: receiving

    /// Handles one RPC from `peer` (an unknown peer is added as inbound gossipsub v1.1).
    public mutating func handle(_ rpc: PubsubRPC, from peer: PeerID, now: Double) -> [Action] {
        guard peer != localPeer else { return [] }
        if peers[peer] == nil { insertPeer(peer, protocol: .meshsub11, outbound: false, ip: nil) }
        if let scores, scores.score(peer, now: now) < scores.parameters.graylistThreshold {
            stats.graylisted += 1
            return flush()
        }
        for sub in rpc.subscriptions where !sub.topic.isEmpty {
            if sub.subscribe {
                // Bounded: a peer cannot make us track more than maxSubscriptions of its topics.
                if (peers[peer]?.topics.count ?? 0) < parameters.limits.maxSubscriptions { peers[peer]?.topics.insert(sub.topic) }
            } else {
                peers[peer]?.topics.remove(sub.topic)
                if mesh[sub.topic]?.remove(peer) != nil { scores?.prune(peer, topic: sub.topic) }
                fanout[sub.topic]?.remove(peer)
            }
        }
        for m in rpc.publish { receive(m, from: peer, now: now) }
        if let control = rpc.control, peers[peer]?.proto != .floodsub {
            var iwant: [[UInt8]] = []
            for h in control.ihave { iwant += ihave(h, from: peer, now: now) }
            if !iwant.isEmpty {
                let pick = iwant[Int(rng.next() % UInt64(iwant.count))]
                promises[pick] = (peer, now + parameters.iwantFollowupTime)
                queue(peer, PubsubRPC(control: PubsubControl(iwant: iwant)))
            }
            answerIWant(control.iwant, from: peer, now: now)
            for t in control.graft { handleGraft(t, from: peer, now: now) }
            for p in control.prune { handlePrune(p, from: peer, now: now) }
        }
        return flush()
    }

    private mutating func receive(_ wire: PubsubWireMessage, from peer: PeerID, now: Double) {
        guard let topic = wire.topics.first, subscriptions.contains(topic) else { return }
        let id = PubsubSigning.messageID(wire)
        if seen.contains(id) {
            stats.duplicates += 1
            scores?.duplicateMessage(from: peer, id: id, topic: topic, now: now)
            return
        }
        let author: PeerID
        do { author = try PubsubSigning.verify(wire) } catch {
            // Not added to the seen cache: a forged copy must not block the real message.
            stats.invalidSignatures += 1
            scores?.rejectMessage(from: peer, id: nil, topic: topic, ignored: false, now: now)
            return
        }
        promises[id] = nil
        seen.insert(id, now: now)
        guard author != localPeer else { return }
        let message = PubsubMessage(from: author, data: wire.data, seqno: wire.seqno, topic: topic, id: id, receivedFrom: peer)
        switch validators[topic]?(message) ?? .accept {
        case .reject:
            stats.rejected += 1
            scores?.rejectMessage(from: peer, id: id, topic: topic, ignored: false, now: now)
        case .ignore:
            stats.ignored += 1
            scores?.rejectMessage(from: peer, id: id, topic: topic, ignored: true, now: now)
        case .accept:
            scores?.deliverMessage(from: peer, id: id, topic: topic, now: now)
            mcache.put(id: id, topic: topic, wire)
            stats.delivered += 1
            pending.append(.deliver(message))
            var targets = mesh[topic] ?? []
            for (p, s) in peers where s.proto == .floodsub && s.topics.contains(topic) { targets.insert(p) }
            for p in sorted(targets) where p != peer && p != author { queue(p, PubsubRPC(publish: [wire])) }
        }
    }

    /// IHAVE: ids we have not seen, within the per-heartbeat limits; empty from low scorers.
    private mutating func ihave(_ h: PubsubControl.IHave, from peer: PeerID, now: Double) -> [[UInt8]] {
        guard var state = peers[peer], gossipAllowed(peer, now: now), subscriptions.contains(h.topic) else { return [] }
        state.ihaveReceived += 1
        defer { peers[peer] = state }
        guard state.ihaveReceived <= parameters.maxIHaveMessages, state.iwantAsked < parameters.maxIHaveLength else { return [] }
        var want: [[UInt8]] = []
        var asked = Set<[UInt8]>()
        for id in h.messageIDs where !seen.contains(id) && asked.insert(id).inserted {
            guard state.iwantAsked < parameters.maxIHaveLength else { break }
            want.append(id)
            state.iwantAsked += 1
        }
        return want
    }

    private mutating func answerIWant(_ ids: [[UInt8]], from peer: PeerID, now: Double) {
        guard !ids.isEmpty, gossipAllowed(peer, now: now) else { return }
        var out: [PubsubWireMessage] = []
        for id in ids {
            guard let m = mcache.get(id) else { continue }
            let n = (retransmissions[id]?[peer] ?? 0) + 1
            retransmissions[id, default: [:]][peer] = n
            guard n <= parameters.gossipRetransmission else { continue }
            out.append(m)
        }
        stats.iwantServed += out.count
        if !out.isEmpty { queue(peer, PubsubRPC(publish: out)) }
    }

    private mutating func handleGraft(_ topic: String, from peer: PeerID, now: Double) {
        guard subscriptions.contains(topic) else {
            sendPrune(peer, topic, backoff: parameters.pruneBackoff, now: now, px: false)
            return
        }
        guard !(mesh[topic]?.contains(peer) ?? false) else { return }
        if let until = backoff[topic]?[peer], until > now {
            // v1.1: a GRAFT during backoff is a P7 offence, twice if it follows the PRUNE closely.
            stats.graftsDuringBackoff += 1
            scores?.addPenalty(peer)
            if until - parameters.pruneBackoff + parameters.graftFloodThreshold > now { scores?.addPenalty(peer) }
            sendPrune(peer, topic, backoff: parameters.pruneBackoff, now: now, px: false)
            return
        }
        if score(peer, now: now) < 0 {
            sendPrune(peer, topic, backoff: parameters.pruneBackoff, now: now, px: false)
            return
        }
        if (mesh[topic]?.count ?? 0) >= parameters.dHigh, !(peers[peer]?.outbound ?? false) {
            sendPrune(peer, topic, backoff: parameters.pruneBackoff, now: now)
            return
        }
        mesh[topic, default: []].insert(peer)
        scores?.graft(peer, topic: topic, now: now)
    }

    private mutating func handlePrune(_ prune: PubsubControl.Prune, from peer: PeerID, now: Double) {
        if mesh[prune.topic]?.remove(peer) != nil { scores?.prune(peer, topic: prune.topic) }
        let seconds = prune.backoff.map { Double(min($0, 86_400)) } ?? parameters.pruneBackoff
        addBackoff(peer, prune.topic, until: now + seconds)
        guard !prune.peers.isEmpty, score(peer, now: now) >= (scores?.parameters.acceptPXThreshold ?? 0) else { return }
        let offered = prune.peers.prefix(parameters.prunePeers).compactMap { try? PeerID(multihashBytes: $0.peerID) }
            .filter { $0 != localPeer && peers[$0] == nil }
        if !offered.isEmpty { pending.append(.connect(offered)) }
    }
}
