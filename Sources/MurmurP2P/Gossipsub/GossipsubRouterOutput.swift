import MurmurCore

/// The router's building blocks for output: candidate selection, GRAFT/PRUNE with backoff and
/// PX, and the per-peer outbox that merges everything for one peer into one RPC per step.
extension GossipsubRouter {
    func gossipAllowed(_ peer: PeerID, now: Double) -> Bool {
        guard let scores else { return true }
        return scores.score(peer, now: now) >= scores.parameters.gossipThreshold
    }

    /// Topic peers that speak gossipsub, are not backed off at `now` (−∞: ignore backoff, which
    /// only restricts GRAFT) and pass `filter`, sorted (callers shuffle them with `random`).
    func candidates(_ topic: String, now: Double, _ filter: (PeerID) -> Bool) -> [PeerID] {
        sorted(peers.filter { $0.value.proto != .floodsub && $0.value.topics.contains(topic) }.map(\.key))
            .filter { (now == -.infinity || !isBackedOff($0, topic: topic, now: now)) && filter($0) }
    }

    /// `a` in random order.
    mutating func random(_ a: [PeerID]) -> [PeerID] {
        var c = a
        shuffle(&c)
        return c
    }

    mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            a.swapAt(i, j)
        }
    }

    mutating func graft(_ peer: PeerID, _ topic: String, now: Double) {
        mesh[topic, default: []].insert(peer)
        scores?.graft(peer, topic: topic, now: now)
        queue(peer, PubsubRPC(control: PubsubControl(graft: [topic])))
    }

    mutating func addBackoff(_ peer: PeerID, _ topic: String, until: Double) {
        if (backoff[topic]?[peer] ?? -1) < until { backoff[topic, default: [:]][peer] = until }
    }

    /// PRUNE with backoff (v1.1 peers) and, unless `px` is false, peer exchange.
    mutating func sendPrune(_ peer: PeerID, _ topic: String, backoff seconds: Double, now: Double, px: Bool = true) {
        addBackoff(peer, topic, until: now + seconds)
        guard let state = peers[peer] else { return }
        var prune = PubsubControl.Prune(topic: topic)
        if state.proto == .meshsub11 {
            prune.backoff = UInt64(seconds.rounded(.up))
            if px, parameters.doPX {
                var offer = random(candidates(topic, now: now) { $0 != peer && self.score($0, now: now) >= 0 })
                offer = Array(offer.prefix(parameters.prunePeers))
                prune.peers = offer.map { .init(peerID: $0.multihash.bytes) }
            }
        }
        queue(peer, PubsubRPC(control: PubsubControl(prune: [prune])))
    }

    mutating func queue(_ peer: PeerID, _ rpc: PubsubRPC) {
        guard peers[peer] != nil else { return }
        if outbox[peer] == nil { outboxOrder.append(peer) }
        outbox[peer, default: PubsubRPC()].merge(rpc)
    }

    /// One `send` per peer (merged), then deliveries and connects.
    mutating func flush() -> [Action] {
        var out: [Action] = []
        for p in outboxOrder {
            if let rpc = outbox[p], !rpc.isEmpty { out.append(.send(p, rpc)) }
        }
        outbox = [:]
        outboxOrder = []
        out += pending
        pending = []
        return out
    }
}
