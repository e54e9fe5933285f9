import MurmurCore

/// The iterative lookup of Kademlia as a state machine: which peers to ask next, what their
/// answers change, and when to stop. No I/O; `run(query:)` drives it with any transport.
///
/// Maymounkov & Mazières 2002, §2.3, and libp2p/specs kad-dht/README.md, "Peer routing": keep
/// up to α requests in flight to the closest peers not yet asked; add the closer peers each
/// answer names; stop when the k closest peers known (failed ones excluded) have all answered.
public struct KademliaLookup: Sendable {
    /// Where a peer is in the lookup.
    public enum PeerState: Equatable, Sendable {
        /// Known, not asked yet.
        case candidate
        /// Asked, no answer yet.
        case inFlight
        /// Answered.
        case answered
        /// Failed to answer (unreachable, error, timeout).
        case failed
    }

    /// What one peer's answer says.
    public struct Reply: Sendable {
        /// Peers it names as closer to the target.
        public var closer: [PeerID]
        /// The caller has what it needs (e.g. a GET_VALUE quorum): stop the lookup.
        public var stop: Bool

        /// A reply naming `closer` peers.
        public init(closer: [PeerID], stop: Bool = false) {
            self.closer = closer
            self.stop = stop
        }
    }

    /// The key looked up.
    public let target: KademliaKey
    /// How many closest peers the lookup converges to (Kademlia's k).
    public let k: Int
    /// Requests in flight at most (Kademlia's α).
    public let alpha: Int
    /// Peers known at most (the farthest are forgotten beyond this bound).
    public let maxKnown: Int
    private let excluded: Set<PeerID>
    private var entries: [(distance: KademliaKey, peer: PeerID, state: PeerState)] = []
    private var index: [PeerID: Int] = [:]
    /// Set when a reply asked to stop.
    public private(set) var stopped = false
    /// Requests started so far.
    public private(set) var queried = 0

    /// A lookup of `target` starting from `seeds` (e.g. the routing table's closest); `local` is never asked.
    public init(target: KademliaKey, seeds: [PeerID], local: PeerID?, k: Int = 20, alpha: Int = 3, maxKnown: Int = 1000) {
        self.target = target
        self.k = max(1, k)
        self.alpha = max(1, alpha)
        self.maxKnown = max(self.k, maxKnown)
        excluded = local.map { [$0] } ?? []
        add(seeds)
    }

    private mutating func add(_ peers: [PeerID]) {
        for p in peers where index[p] == nil && !excluded.contains(p) {
            let d = KademliaKey(peer: p).distance(to: target)
            var lo = 0
            var hi = entries.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if entries[mid].distance < d { lo = mid + 1 } else { hi = mid }
            }
            guard lo < maxKnown else { continue }
            entries.insert((d, p, .candidate), at: lo)
            // Bounded: forget the farthest peer we are not waiting for.
            if entries.count > maxKnown, let drop = entries.lastIndex(where: { $0.state != .inFlight }) {
                entries.remove(at: drop)
            }
            reindex()
        }
    }

    private mutating func reindex() {
        index.removeAll(keepingCapacity: true)
        for (i, e) in entries.enumerated() { index[e.peer] = i }
    }

    /// The k closest peers that have not failed, nearest first, with their states.
    private var window: ArraySlice<(distance: KademliaKey, peer: PeerID, state: PeerState)> {
        var n = 0
        var end = 0
        while end < entries.count && n < k {
            if entries[end].state != .failed { n += 1 }
            end += 1
        }
        return entries[..<end]
    }

    /// Peers to ask now (marked in flight): the closest unasked ones in the k-window, up to α in flight.
    public mutating func next() -> [PeerID] {
        guard !stopped else { return [] }
        var inFlight = entries.filter { $0.state == .inFlight }.count
        var out: [PeerID] = []
        for e in window where e.state == .candidate && inFlight < alpha {
            out.append(e.peer)
            inFlight += 1
        }
        for p in out { if let i = index[p] { entries[i].state = .inFlight } }
        queried += out.count
        return out
    }

    /// Records `peer`'s answer.
    public mutating func receive(from peer: PeerID, _ reply: Reply) {
        if let i = index[peer] { entries[i].state = .answered }
        if reply.stop { stopped = true }
        add(Array(reply.closer.prefix(KademliaMessage.maxPeers)))
    }

    /// Records that `peer` did not answer.
    public mutating func fail(_ peer: PeerID) {
        if let i = index[peer] { entries[i].state = .failed }
    }

    /// Whether the lookup is over: stopped, or every peer in the k-window answered.
    public var isFinished: Bool {
        stopped || !window.contains { $0.state == .candidate || $0.state == .inFlight }
    }

    /// Whether requests are still outstanding.
    public var hasInFlight: Bool { entries.contains { $0.state == .inFlight } }

    /// The state of `peer`, if known.
    public func state(of peer: PeerID) -> PeerState? { index[peer].map { entries[$0].state } }

    /// The result: up to k peers that answered, nearest first.
    public var closest: [PeerID] { Array(entries.filter { $0.state == .answered }.prefix(k).map(\.peer)) }

    /// Runs the lookup to the end: asks peers with `query` (α at a time), a thrown error counting
    /// as a failed peer. Returns the finished state machine.
    public func run(query: @escaping @Sendable (PeerID) async throws -> Reply) async -> KademliaLookup {
        var lookup = self
        await withTaskGroup(of: (PeerID, Reply?).self) { group in
            var running = 0
            while !lookup.isFinished {
                for p in lookup.next() {
                    running += 1
                    group.addTask {
                        do { return (p, try await query(p)) } catch { return (p, nil) }
                    }
                }
                guard running > 0, let (peer, reply) = await group.next() else { break }
                running -= 1
                if let reply { lookup.receive(from: peer, reply) } else { lookup.fail(peer) }
            }
            // Answers still outstanding come from peers outside the k-window (or after a stop).
            group.cancelAll()
        }
        return lookup
    }
}
