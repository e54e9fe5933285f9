import Crypto
import MurmurCore

/// A point in the Kademlia key space: SHA-256 of a key's bytes (a peer id's multihash, a
/// record key, a CID's multihash), 256 bits, big-endian.
///
/// Spec: libp2p/specs kad-dht/README.md, "Distance": d(x, y) = SHA256(x) XOR SHA256(y),
/// compared as a 256-bit unsigned integer (Maymounkov & Mazières 2002, §2.1).
public struct KademliaKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The four 64-bit words, most significant first.
    public let words: (UInt64, UInt64, UInt64, UInt64)

    /// The key-space point of `bytes` (hashed with SHA-256).
    public init(_ bytes: [UInt8]) {
        self.init(digest: Array(SHA256.hash(data: bytes)))
    }

    /// The key-space point of a peer: SHA-256 of its multihash bytes.
    public init(peer: PeerID) { self.init(peer.multihash.bytes) }

    /// A point given directly by its 32 bytes (no hashing), e.g. a distance or a test vector.
    init(digest: [UInt8]) {
        precondition(digest.count == 32, "a Kademlia key is 32 bytes")  // programmer error: callers pass SHA-256 output
        func word(_ i: Int) -> UInt64 { digest[i * 8..<i * 8 + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        words = (word(0), word(1), word(2), word(3))
    }

    private init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// The 32 bytes, big-endian.
    public var bytes: [UInt8] {
        [words.0, words.1, words.2, words.3].flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (56 - 8 * $0)) } }
    }

    /// d(self, other) = self XOR other.
    public func distance(to other: KademliaKey) -> KademliaKey {
        KademliaKey(words: (words.0 ^ other.words.0, words.1 ^ other.words.1, words.2 ^ other.words.2, words.3 ^ other.words.3))
    }

    /// Leading bits shared with `other` (0…256); 256 only for equal keys.
    public func commonPrefixLength(with other: KademliaKey) -> Int {
        let d = distance(to: other)
        for (i, w) in [d.words.0, d.words.1, d.words.2, d.words.3].enumerated() where w != 0 {
            return i * 64 + w.leadingZeroBitCount
        }
        return 256
    }

    /// Orders keys as 256-bit unsigned integers (so distances compare correctly).
    public static func < (a: KademliaKey, b: KademliaKey) -> Bool {
        if a.words.0 != b.words.0 { return a.words.0 < b.words.0 }
        if a.words.1 != b.words.1 { return a.words.1 < b.words.1 }
        if a.words.2 != b.words.2 { return a.words.2 < b.words.2 }
        return a.words.3 < b.words.3
    }

    /// Equal words.
    public static func == (a: KademliaKey, b: KademliaKey) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    /// Hashes the words.
    public func hash(into h: inout Hasher) {
        h.combine(words.0)
        h.combine(words.1)
        h.combine(words.2)
        h.combine(words.3)
    }

    /// Hex of the 32 bytes.
    public var description: String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}

extension Array where Element == PeerID {
    /// The peers ordered by XOR distance to `target`, nearest first.
    public func sortedByDistance(to target: KademliaKey) -> [PeerID] {
        map { ($0, KademliaKey(peer: $0).distance(to: target)) }.sorted { $0.1 < $1.1 }.map(\.0)
    }
}
