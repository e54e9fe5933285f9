/// Reads the hash of a perfect, complete subtree: level h, index k covers leaves [k·2^h, (k+1)·2^h).
/// Proof generation needs only these; tile storage, an HTTP tile client or a test array provide them.
public protocol HashReader {
    /// The Merkle tree hash of the complete subtree at (level, index).
    func nodeHash(level: Int, index: UInt64) throws -> LogHash
}

/// RFC 9162 §2.1.3 inclusion and §2.1.4 consistency proofs: generated from a `HashReader`,
/// verified from hashes alone. A proof is a plain `[LogHash]`.
public enum MerkleProof {
    /// MTH(D[lo:hi]) from complete subtrees: a power-of-two-aligned range is one node, else split at k.
    public static func subtreeHash(_ lo: UInt64, _ hi: UInt64, _ reader: some HashReader) throws -> LogHash {
        let n = hi - lo
        if n == 0 { return RFC9162.emptyRoot }
        if n & (n - 1) == 0 && lo % n == 0 {
            let level = n.trailingZeroBitCount
            return try reader.nodeHash(level: level, index: lo >> UInt64(level))
        }
        let k = RFC9162.split(n)
        return RFC9162.nodeHash(try subtreeHash(lo, lo + k, reader), try subtreeHash(lo + k, hi, reader))
    }

    /// The tree root at `size`: MTH(D[0:size]).
    public static func rootHash(size: UInt64, _ reader: some HashReader) throws -> LogHash {
        try subtreeHash(0, size, reader)
    }

    /// PATH(m, D[0:n]) (RFC 9162 §2.1.3.1): m<k → PATH(m, D[0:k]) + MTH(D[k:n]), else PATH(m−k, D[k:n]) + MTH(D[0:k]).
    public static func inclusionProof(index m: UInt64, size n: UInt64, _ reader: some HashReader) throws -> [LogHash] {
        guard m < n else { throw MerkleProofError.indexOutOfRange(index: m, size: n) }
        var lo: UInt64 = 0, hi = n
        var reversed: [LogHash] = []
        while hi - lo > 1 {
            let k = RFC9162.split(hi - lo)
            if m < lo + k {
                reversed.append(try subtreeHash(lo + k, hi, reader))
                hi = lo + k
            } else {
                reversed.append(try subtreeHash(lo, lo + k, reader))
                lo += k
            }
        }
        return reversed.reversed()
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1); empty when m = 0 or m = n.
    public static func consistencyProof(from m: UInt64, to n: UInt64, _ reader: some HashReader) throws -> [LogHash] {
        guard m <= n else { throw MerkleProofError.sizesOutOfOrder(m, n) }
        if m == 0 || m == n { return [] }
        var lo: UInt64 = 0, hi = n, mm = m, complete = true
        var reversed: [LogHash] = []
        while true {
            let size = hi - lo
            if mm == size {
                if !complete { reversed.append(try subtreeHash(lo, hi, reader)) }
                break
            }
            let k = RFC9162.split(size)
            if mm <= k {
                reversed.append(try subtreeHash(lo + k, hi, reader))
                hi = lo + k
            } else {
                reversed.append(try subtreeHash(lo, lo + k, reader))
                lo += k
                mm -= k
                complete = false
            }
        }
        return reversed.reversed()
    }

    /// RFC 9162 §2.1.3.2: fold the path from the leaf up (left sibling when fn is odd or fn = sn); root must match.
    public static func verifyInclusion(index: UInt64, size: UInt64, leaf: LogHash, proof: [LogHash], root: LogHash) throws {
        let computed = try rootFromInclusion(index: index, size: size, leaf: leaf, proof: proof)
        guard computed == root else { throw MerkleProofError.rootMismatch(expected: root, computed: computed) }
    }

    /// The root an inclusion proof implies (RFC 9162 §2.1.3.2 steps 1–4 without the final comparison).
    public static func rootFromInclusion(index: UInt64, size: UInt64, leaf: LogHash, proof: [LogHash]) throws -> LogHash {
        guard index < size else { throw MerkleProofError.indexOutOfRange(index: index, size: size) }
        var fn = index, sn = size - 1, r = leaf
        for p in proof {
            guard sn != 0 else { throw MerkleProofError.wrongProofLength(proof.count) }
            if fn & 1 == 1 || fn == sn {
                r = RFC9162.nodeHash(p, r)
                while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
            } else {
                r = RFC9162.nodeHash(r, p)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else { throw MerkleProofError.wrongProofLength(proof.count) }
        return r
    }

    /// RFC 9162 §2.1.4.2: rebuild both roots from one path; both must match and the path must end at sn = 0.
    public static func verifyConsistency(from m: UInt64, to n: UInt64, proof: [LogHash], oldRoot: LogHash, newRoot: LogHash) throws {
        let (fr, sr) = try rootsFromConsistency(from: m, to: n, proof: proof, oldRoot: oldRoot, newRoot: newRoot)
        guard fr == oldRoot else { throw MerkleProofError.rootMismatch(expected: oldRoot, computed: fr) }
        guard sr == newRoot else { throw MerkleProofError.rootMismatch(expected: newRoot, computed: sr) }
    }

    /// The (old, new) roots a consistency proof implies (RFC 9162 §2.1.4.2 steps 1–6).
    /// For m = n (empty proof) both are the old root; m = 0 is refused (every tree extends the empty one).
    public static func rootsFromConsistency(from m: UInt64, to n: UInt64, proof: [LogHash], oldRoot: LogHash, newRoot: LogHash) throws -> (LogHash, LogHash) {
        guard m <= n else { throw MerkleProofError.sizesOutOfOrder(m, n) }
        // As transparency-dev/merkle: a proof from the empty tree proves nothing, so it is refused.
        guard m > 0 else { throw MerkleProofError.emptyOldTree }
        if m == n {
            guard proof.isEmpty else { throw MerkleProofError.wrongProofLength(proof.count) }
            return (oldRoot, oldRoot)
        }
        guard !proof.isEmpty else { throw MerkleProofError.wrongProofLength(0) }
        var path = proof
        if m & (m - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = m - 1, sn = n - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { throw MerkleProofError.wrongProofLength(proof.count) }
            if fn & 1 == 1 || fn == sn {
                fr = RFC9162.nodeHash(c, fr)
                sr = RFC9162.nodeHash(c, sr)
                while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
            } else {
                sr = RFC9162.nodeHash(sr, c)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else { throw MerkleProofError.wrongProofLength(proof.count) }
        return (fr, sr)
    }
}

/// Why a Merkle proof was refused.
public enum MerkleProofError: Error, Equatable, CustomStringConvertible {
    /// The leaf index is not below the tree size.
    case indexOutOfRange(index: UInt64, size: UInt64)
    /// A consistency proof was asked from a larger tree to a smaller one.
    case sizesOutOfOrder(UInt64, UInt64)
    /// A consistency proof from size 0 was given; it proves nothing (callers treat size 0 specially).
    case emptyOldTree
    /// The proof has the wrong number of hashes for these sizes.
    case wrongProofLength(Int)
    /// The proof computes a different root than the one given.
    case rootMismatch(expected: LogHash, computed: LogHash)

    public var description: String {
        switch self {
        case let .indexOutOfRange(i, n): return "leaf index \(i) is not in a tree of size \(n); ask for an index below the size"
        case let .sizesOutOfOrder(m, n): return "consistency needs old size ≤ new size, got \(m) > \(n)"
        case .emptyOldTree: return "a consistency proof from the empty tree proves nothing; any tree extends it"
        case let .wrongProofLength(c): return "a proof of \(c) hashes has the wrong length for these sizes; the proof is malformed"
        case let .rootMismatch(e, c): return "proof does not verify: it computes root \(c), expected \(e)"
        }
    }
}
