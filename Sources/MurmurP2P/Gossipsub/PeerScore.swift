import MurmurCore

/// The gossipsub v1.1 peer score: counters per peer and topic, decayed over time.
///
/// Spec: gossipsub-v1.1.md "The Score Function":
/// Score(p) = TopicCap(Σ_t w_t (w1 P1 + w2 P2 + w3 P3 + w3b P3b + w4 P4)) + w5 P5 + w6 P6 + w7 P7.
/// Pure value type; the router calls it with the current time.
public struct PeerScore: Sendable {
    struct TopicStats {
        var inMesh = false
        var graftTime = 0.0
        var meshTime = 0.0
        var firstMessageDeliveries = 0.0
        var meshMessageDeliveries = 0.0
        var meshMessageDeliveriesActive = false
        var meshFailurePenalty = 0.0
        var invalidMessageDeliveries = 0.0
    }
    struct PeerStats {
        var connected = true
        var expire = 0.0
        var topics: [String: TopicStats] = [:]
        var behaviourPenalty = 0.0
        var ip: String?
    }
    enum DeliveryStatus { case valid, invalid, ignored }
    struct DeliveryRecord {
        var status: DeliveryStatus
        var validated: Double
        var peers: Set<PeerID>
    }

    /// The knobs.
    public let parameters: PeerScoreParameters
    var peers: [PeerID: PeerStats] = [:]
    var deliveries: [[UInt8]: DeliveryRecord] = [:]
    private var deliveryOrder: [([UInt8], Double)] = []
    private var lastDecay = 0.0

    /// A score keeper with `parameters`.
    public init(parameters: PeerScoreParameters) { self.parameters = parameters }

    // MARK: the score

    /// The score of `peer` at `now` (0 for unknown peers).
    public func score(_ peer: PeerID, now: Double) -> Double {
        guard let ps = peers[peer] else { return 0 }
        var topicScore = 0.0
        for (topic, ts) in ps.topics {
            guard let tp = parameters.parameters(for: topic) else { continue }
            var s = 0.0
            if ts.inMesh {
                let p1 = min((now - ts.graftTime) / tp.timeInMeshQuantum, tp.timeInMeshCap)
                s += max(p1, 0) * tp.timeInMeshWeight
            }
            s += ts.firstMessageDeliveries * tp.firstMessageDeliveriesWeight
            if ts.meshMessageDeliveriesActive, ts.meshMessageDeliveries < tp.meshMessageDeliveriesThreshold {
                let deficit = tp.meshMessageDeliveriesThreshold - ts.meshMessageDeliveries
                s += deficit * deficit * tp.meshMessageDeliveriesWeight
            }
            s += ts.meshFailurePenalty * tp.meshFailurePenaltyWeight
            s += ts.invalidMessageDeliveries * ts.invalidMessageDeliveries * tp.invalidMessageDeliveriesWeight
            topicScore += s * tp.topicWeight
        }
        if parameters.topicScoreCap > 0 { topicScore = min(topicScore, parameters.topicScoreCap) }
        var total = topicScore + parameters.appSpecificScore(peer) * parameters.appSpecificWeight
        if let ip = ps.ip, !parameters.ipColocationFactorWhitelist.contains(ip), parameters.ipColocationFactorWeight != 0 {
            let sharing = peers.values.filter { $0.connected && $0.ip == ip }.count
            let surplus = Double(sharing - parameters.ipColocationFactorThreshold)
            if surplus > 0 { total += surplus * surplus * parameters.ipColocationFactorWeight }
        }
        let excess = ps.behaviourPenalty - parameters.behaviourPenaltyThreshold
        if excess > 0 { total += excess * excess * parameters.behaviourPenaltyWeight }
        return total
    }

    // MARK: peers and mesh

    /// A peer connected (its retained counters, if any, come back).
    public mutating func addPeer(_ peer: PeerID, ip: String?) {
        var ps = peers[peer] ?? PeerStats()
        ps.connected = true
        ps.ip = ip
        peers[peer] = ps
    }

    /// A peer disconnected: keep its counters for `retainScore` if it scored negative, else forget it.
    public mutating func removePeer(_ peer: PeerID, now: Double) {
        guard var ps = peers[peer] else { return }
        if score(peer, now: now) > 0 {
            peers[peer] = nil
            return
        }
        for (t, var ts) in ps.topics {
            ts.firstMessageDeliveries = 0  // no rewards survive a reconnect
            if ts.inMesh { applyMeshFailure(&ts, topic: t) }
            ts.inMesh = false
            ts.meshMessageDeliveriesActive = false
            ps.topics[t] = ts
        }
        ps.connected = false
        ps.expire = now + parameters.retainScore
        peers[peer] = ps
    }

    /// The peer joined our mesh for `topic` (P1 starts counting).
    public mutating func graft(_ peer: PeerID, topic: String, now: Double) {
        guard parameters.parameters(for: topic) != nil else { return }
        update(peer, topic) { ts in
            ts.inMesh = true
            ts.graftTime = now
            ts.meshTime = 0
            ts.meshMessageDeliveriesActive = false
        }
    }

    /// The peer left our mesh for `topic` (a delivery deficit becomes P3b).
    public mutating func prune(_ peer: PeerID, topic: String) {
        guard parameters.parameters(for: topic) != nil else { return }
        guard var ps = peers[peer], var ts = ps.topics[topic] else { return }
        if ts.inMesh { applyMeshFailure(&ts, topic: topic) }
        ts.inMesh = false
        ts.meshMessageDeliveriesActive = false
        ps.topics[topic] = ts
        peers[peer] = ps
    }

    private func applyMeshFailure(_ ts: inout TopicStats, topic: String) {
        guard let tp = parameters.parameters(for: topic), ts.meshMessageDeliveriesActive,
            ts.meshMessageDeliveries < tp.meshMessageDeliveriesThreshold
        else { return }
        let deficit = tp.meshMessageDeliveriesThreshold - ts.meshMessageDeliveries
        ts.meshFailurePenalty += deficit * deficit
    }

    /// P7: the peer misbehaved `count` times (GRAFT during backoff, broken IWANT promise).
    public mutating func addPenalty(_ peer: PeerID, _ count: Double = 1) {
        guard peers[peer] != nil else { return }
        peers[peer]?.behaviourPenalty += count
    }

    // MARK: message deliveries

    /// `from` delivered message `id` first and it validated (P2; P3 if in mesh).
    public mutating func deliverMessage(from: PeerID, id: [UInt8], topic: String, now: Double) {
        record(id, .valid, now: now, peer: from)
        guard let tp = parameters.parameters(for: topic) else { return }
        update(from, topic) { ts in
            ts.firstMessageDeliveries = min(ts.firstMessageDeliveries + 1, tp.firstMessageDeliveriesCap)
            if ts.inMesh { ts.meshMessageDeliveries = min(ts.meshMessageDeliveries + 1, tp.meshMessageDeliveriesCap) }
        }
    }

    /// `from` delivered message `id` first and it was rejected (P4), or ignored (no penalty).
    public mutating func rejectMessage(from: PeerID, id: [UInt8]?, topic: String, ignored: Bool, now: Double) {
        if let id { record(id, ignored ? .ignored : .invalid, now: now, peer: from) }
        guard !ignored else { return }
        markInvalid(from, topic: topic)
    }

    /// `from` delivered message `id` again: invalid ones count against it too, valid ones count
    /// as mesh deliveries within the window.
    public mutating func duplicateMessage(from: PeerID, id: [UInt8], topic: String, now: Double) {
        guard var rec = deliveries[id], !rec.peers.contains(from) else { return }
        rec.peers.insert(from)
        deliveries[id] = rec
        switch rec.status {
        case .invalid: markInvalid(from, topic: topic)
        case .ignored: return
        case .valid:
            guard let tp = parameters.parameters(for: topic), now - rec.validated <= tp.meshMessageDeliveriesWindow else { return }
            update(from, topic) { ts in
                if ts.inMesh { ts.meshMessageDeliveries = min(ts.meshMessageDeliveries + 1, tp.meshMessageDeliveriesCap) }
            }
        }
    }

    private mutating func markInvalid(_ peer: PeerID, topic: String) {
        guard parameters.parameters(for: topic) != nil else { return }
        update(peer, topic) { ts in ts.invalidMessageDeliveries += 1 }
    }

    private mutating func record(_ id: [UInt8], _ status: DeliveryStatus, now: Double, peer: PeerID) {
        if deliveries[id] == nil { deliveryOrder.append((id, now)) }
        deliveries[id] = DeliveryRecord(status: status, validated: now, peers: [peer])
    }

    private mutating func update(_ peer: PeerID, _ topic: String, _ f: (inout TopicStats) -> Void) {
        guard var ps = peers[peer] else { return }
        var ts = ps.topics[topic] ?? TopicStats()
        f(&ts)
        ps.topics[topic] = ts
        peers[peer] = ps
    }

    // MARK: time

    /// Decays every counter once per `decayInterval`, activates P3, expires retained peers and
    /// old delivery records. Called from the heartbeat.
    public mutating func refresh(now: Double) {
        // Delivery records live 2 minutes (the seen-cache horizon).
        while let first = deliveryOrder.first, now - first.1 > 120 {
            deliveryOrder.removeFirst()
            deliveries[first.0] = nil
        }
        for (peer, ps) in peers where !ps.connected && now > ps.expire { peers[peer] = nil }
        guard now - lastDecay >= parameters.decayInterval else { return }
        lastDecay = now
        let zero = parameters.decayToZero
        func decay(_ v: inout Double, _ f: Double) {
            v *= f
            if v < zero { v = 0 }
        }
        for (peer, var ps) in peers {
            for (topic, var ts) in ps.topics {
                guard let tp = parameters.parameters(for: topic) else { continue }
                decay(&ts.firstMessageDeliveries, tp.firstMessageDeliveriesDecay)
                decay(&ts.meshMessageDeliveries, tp.meshMessageDeliveriesDecay)
                decay(&ts.meshFailurePenalty, tp.meshFailurePenaltyDecay)
                decay(&ts.invalidMessageDeliveries, tp.invalidMessageDeliveriesDecay)
                if ts.inMesh {
                    ts.meshTime = now - ts.graftTime
                    if ts.meshTime > tp.meshMessageDeliveriesActivation { ts.meshMessageDeliveriesActive = true }
                }
                ps.topics[topic] = ts
            }
            decay(&ps.behaviourPenalty, parameters.behaviourPenaltyDecay)
            peers[peer] = ps
        }
    }
}
