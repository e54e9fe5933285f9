import CMurmurKernels
import Crypto

/// RFC 9162 §2.1.1 Merkle tree hashing with SHA-256: leaves `0x00‖d`, interior nodes `0x01‖l‖r`.
/// The domain-separation bytes keep a leaf from ever being mistaken for an interior node.
public enum RFC9162 {
    /// MTH({}) = SHA-256(""), the root of the empty tree.
    public static let emptyRoot: LogHash = sha256([])

    /// SHA-256 of `bytes`; the primitive every other function reduces to (FIPS 180-4 via `SHA256Kernel`).
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> LogHash {
        if SHA256Kernel.usesLibrary {
            var h = SHA256()
            h.update(bufferPointer: bytes)
            return h.finalize().withUnsafeBytes { LogHash(buffer: $0) }
        }
        var out = LogHash.zero
        withUnsafeMutableBytes(of: &out.words) { o in
            murmur_sha256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, o.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
        return out
    }

    /// SHA-256 of a byte array.
    public static func sha256(_ bytes: [UInt8]) -> LogHash {
        bytes.withUnsafeBytes { sha256($0) }
    }

    /// MTH({d}) = SHA-256(0x00 ‖ d).
    public static func leafHash(_ entry: some Collection<UInt8>) -> LogHash {
        if SHA256Kernel.usesLibrary {
            var h = SHA256()
            h.update(data: [0x00])
            if entry.withContiguousStorageIfAvailable({ h.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
                h.update(data: Array(entry))
            }
            return h.finalize().withUnsafeBytes { LogHash(buffer: $0) }
        }
        var out = LogHash.zero
        let done: Void? = entry.withContiguousStorageIfAvailable { e in
            withUnsafeMutableBytes(of: &out.words) { o in
                murmur_sha256_leaf(e.baseAddress, e.count, o.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
        if done == nil { return leafHash(Array(entry)) }
        return out
    }

    /// MTH(D[n]) = SHA-256(0x01 ‖ MTH(left) ‖ MTH(right)): two compressions, no allocation.
    public static func nodeHash(_ left: LogHash, _ right: LogHash) -> LogHash {
        if SHA256Kernel.usesLibrary { return nodeHashSwiftCrypto(left, right) }
        var l = left.words, r = right.words, out = SIMD4<UInt64>()
        withUnsafeBytes(of: &l) { lb in
            withUnsafeBytes(of: &r) { rb in
                withUnsafeMutableBytes(of: &out) { o in
                    murmur_sha256_node(lb.baseAddress?.assumingMemoryBound(to: UInt8.self), rb.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                       o.baseAddress?.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        return LogHash(words: out)
    }

    /// The same node hash through swift-crypto: the reference the C kernel is cross-checked and benchmarked against.
    public static func nodeHashSwiftCrypto(_ left: LogHash, _ right: LogHash) -> LogHash {
        var h = SHA256()
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { buf in
            buf[0] = 0x01
            withUnsafeBytes(of: left.words) { UnsafeMutableRawBufferPointer(rebasing: buf[1..<33]).copyMemory(from: $0) }
            withUnsafeBytes(of: right.words) { UnsafeMutableRawBufferPointer(rebasing: buf[33..<65]).copyMemory(from: $0) }
            h.update(bufferPointer: UnsafeRawBufferPointer(buf))
        }
        return h.finalize().withUnsafeBytes { LogHash(buffer: $0) }
    }

    /// The largest power of two strictly less than n (n ≥ 2): RFC 9162's split point k.
    @inlinable
    public static func split(_ n: UInt64) -> UInt64 {
        precondition(n >= 2, "split needs n >= 2")  // programmer error: callers check n
        return 1 << (63 - (n - 1).leadingZeroBitCount)
    }

    /// MTH of a list of hashes treated as leaves of a (sub)tree: k = split(n), H(MTH(h[:k]), MTH(h[k:])).
    public static func treeHash(_ hashes: ArraySlice<LogHash>) -> LogHash {
        switch hashes.count {
        case 0: return emptyRoot
        case 1: return hashes[hashes.startIndex]
        default:
            let k = Int(split(UInt64(hashes.count)))
            let mid = hashes.startIndex + k
            return nodeHash(treeHash(hashes[..<mid]), treeHash(hashes[mid...]))
        }
    }
}
