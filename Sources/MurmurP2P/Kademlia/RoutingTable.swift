import MurmurCore

/// Kademlia's routing table: 256 k-buckets by common prefix length with the local key, each
/// ordered least recently seen first, with a replacement cache per bucket.
///
/// Pure value, no sockets: the service asks it what to do and does the I/O. Maymounkov &
/// Mazières 2002, §2.2: a full bucket keeps its old peers while they answer (older peers are
/// likelier to stay up); a newcomer waits in the replacement cache and takes the place of a
/// peer that is removed (§4.1).
public struct RoutingTable: Sendable {
    /// What `insert` did.
    public enum Insertion: Equatable, Sendable {
        /// The peer is new and has a slot.
        case added
        /// The peer was already there; it is now the most recently seen.
        case refreshed
        /// The bucket is full: the peer waits in the replacement cache. Check that
        /// `leastRecentlySeen` still answers; `remove` it if not (the newcomer takes its slot).
        case bucketFull(leastRecentlySeen: PeerID)
        /// Our own id; never stored.
        case isLocal
    }

    /// Our key-space point.
    public let local: KademliaKey
    /// Peers per bucket (Kademlia's k).
    public let bucketSize: Int
    /// Waiting peers per bucket.
    public let replacementCacheSize: Int
    private var buckets: [[PeerID]] = Array(repeating: [], count: 256)
    private var replacements: [[PeerID]] = Array(repeating: [], count: 256)

    /// A table around `local` with `bucketSize` (k = 20 by default) peers per bucket.
    public init(local: PeerID, bucketSize: Int = 20, replacementCacheSize: Int = 20) {
        self.local = KademliaKey(peer: local)
        self.bucketSize = max(1, bucketSize)
        self.replacementCacheSize = max(0, replacementCacheSize)
    }

    /// The bucket of `peer`: the number of leading bits its key shares with ours (0…255), nil for us.
    public func bucketIndex(of peer: PeerID) -> Int? {
        let cpl = local.commonPrefixLength(with: KademliaKey(peer: peer))
        return cpl == 256 ? nil : cpl
    }

    /// Records that `peer` was seen (connected, answered, or asked us something).
    public mutating func insert(_ peer: PeerID) -> Insertion {
        guard let b = bucketIndex(of: peer) else { return .isLocal }
        if let i = buckets[b].firstIndex(of: peer) {
            buckets[b].remove(at: i)
            buckets[b].append(peer)
            return .refreshed
        }
        if buckets[b].count < bucketSize {
            buckets[b].append(peer)
            replacements[b].removeAll { $0 == peer }
            return .added
        }
        replacements[b].removeAll { $0 == peer }
        replacements[b].append(peer)
        if replacements[b].count > replacementCacheSize { replacements[b].removeFirst() }
        // Programmer invariant: a full bucket has a first peer (bucketSize ≥ 1).
        return .bucketFull(leastRecentlySeen: buckets[b][0])
    }

    /// Removes `peer` (it failed to answer); the most recent replacement, if any, takes its slot
    /// and is returned.
    @discardableResult
    public mutating func remove(_ peer: PeerID) -> PeerID? {
        guard let b = bucketIndex(of: peer) else { return nil }
        replacements[b].removeAll { $0 == peer }
        guard let i = buckets[b].firstIndex(of: peer) else { return nil }
        buckets[b].remove(at: i)
        guard let promoted = replacements[b].popLast() else { return nil }
        buckets[b].append(promoted)
        return promoted
    }

    /// Whether `peer` has a slot.
    public func contains(_ peer: PeerID) -> Bool {
        guard let b = bucketIndex(of: peer) else { return false }
        return buckets[b].contains(peer)
    }

    /// The peers of bucket `index`, least recently seen first.
    public func bucket(_ index: Int) -> [PeerID] { buckets.indices.contains(index) ? buckets[index] : [] }

    /// The replacement cache of bucket `index`, oldest first.
    public func replacementCache(_ index: Int) -> [PeerID] { replacements.indices.contains(index) ? replacements[index] : [] }

    /// Peers with a slot.
    public var count: Int { buckets.reduce(0) { $0 + $1.count } }

    /// Every peer with a slot.
    public var peers: [PeerID] { buckets.flatMap { $0 } }

    /// The `count` peers nearest `target` by XOR distance, nearest first.
    public func closest(to target: KademliaKey, count: Int) -> [PeerID] {
        Array(peers.sortedByDistance(to: target).prefix(count))
    }
}
