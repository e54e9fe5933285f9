import CMurmurKernels

/// The activation proof of receipt version 2: per class of units (index mod G, G = 16 by
/// default), the unit of largest magnitude and its truncated value, 4 bytes each (64 bytes).
///
/// An equivalent of TOPLOC's top-k commitment (Ong et al. 2025) with the same tolerance
/// behaviour — committed values checked within calibrated thresholds, index flips among
/// near-equal values accepted — chosen because it costs a few vertical SIMD instructions per
/// 16 values (`murmur_groupmax_proof_rows`), where an exact top-16 of a small layer costs a
/// quarter of the inference (docs/verification.md). Wire entries are in class order; entry g
/// holds a unit whose index is g mod G, with the v1 layout (1 index byte + top 24 bits of the
/// Float32 for layers of ≤ 256 units, 2 index bytes + top 16 bits wider).
public struct GroupMaxProof: Equatable, Sendable {
    /// Committed entries in class order: unit index and truncated Float32 bit pattern.
    public var entries: [(index: Int, bits: UInt32)]

    /// Classes per proof the prover uses by default (64 bytes).
    public static let defaultGroups = 16

    /// A proof from its entries (class order); for tests and tools that build proofs by hand.
    public init(entries: [(index: Int, bits: UInt32)]) { self.entries = entries }

    /// Same entries in the same order.
    public static func == (a: GroupMaxProof, b: GroupMaxProof) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.index == $1.index && $0.bits == $1.bits }
    }

    /// Decodes the wire form for a layer of `width` units: a positive multiple of 4 bytes, at
    /// most `maxBytes`, at most `width` entries, entry g's index inside the layer and ≡ g mod G.
    public init(bytes: [UInt8], width: Int, maxBytes: Int = 256) throws(RejectionReason) {
        guard !bytes.isEmpty, bytes.count % 4 == 0, bytes.count <= maxBytes else {
            throw .malformedProof("proof is \(bytes.count) bytes; expected a positive multiple of 4, at most \(maxBytes)")
        }
        let groups = bytes.count / 4
        guard groups <= width else { throw .malformedProof("\(groups) classes for a layer of \(width) units") }
        let wide = ActivationProof.indexBytes(width: width) == 2
        var es = [(index: Int, bits: UInt32)]()
        es.reserveCapacity(groups)
        for g in 0..<groups {
            let i = 4 * g
            let index = wide ? Int(bytes[i]) << 8 | Int(bytes[i + 1]) : Int(bytes[i])
            let bits = wide ? UInt32(bytes[i + 2]) << 24 | UInt32(bytes[i + 3]) << 16
                : UInt32(bytes[i + 1]) << 24 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 8
            guard index < width, index % groups == g else {
                throw .malformedProof("entry \(g): index \(index) is outside a layer of \(width) or not in class \(g) of \(groups)")
            }
            es.append((index, bits))
        }
        entries = es
    }

    /// Proof bytes per input for a layer of `width` units and `groups` classes.
    public static func proofByteCount(width: Int, groups: Int) -> Int { 4 * max(0, min(groups, width)) }

    /// The wire-form proofs of `rows` activation vectors of `width` floats stored one after
    /// another, as one buffer (row r at bytes r·b ..< (r+1)·b, b = `proofByteCount`). One C call
    /// per batch, right after the forward pass.
    public static func commitRows(_ activations: UnsafeBufferPointer<Float>, rows: Int, width: Int, groups: Int = defaultGroups) -> [UInt8] {
        commitRows(activations, rows: rows, width: width, groups: groups, kernel: 1)
    }

    /// `commitRows` on a chosen C path (0 portable, 1 AVX-512 when available), for tests.
    static func commitRows(_ activations: UnsafeBufferPointer<Float>, rows: Int, width: Int, groups: Int, kernel: CInt) -> [UInt8] {
        let b = proofByteCount(width: width, groups: groups)
        guard rows > 0, b > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: rows * b) { out, count in
            count = commitRows(activations, rows: rows, width: width, groups: groups, into: out, kernel: kernel)
        }
    }

    /// Writes the proofs of `rows` vectors into a caller-provided buffer of at least
    /// rows × `proofByteCount` bytes and returns the bytes written: no allocation per call, for
    /// a device answering one request at a time.
    public static func commitRows(_ activations: UnsafeBufferPointer<Float>, rows: Int, width: Int, groups: Int = defaultGroups,
                                  into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        commitRows(activations, rows: rows, width: width, groups: groups, into: out, kernel: 1)
    }

    static func commitRows(_ activations: UnsafeBufferPointer<Float>, rows: Int, width: Int, groups: Int,
                           into out: UnsafeMutableBufferPointer<UInt8>, kernel: CInt) -> Int {
        let b = proofByteCount(width: width, groups: groups)
        precondition(activations.count >= rows * width && out.count >= rows * b && b <= 4 * 256,
                     "activations must hold rows × width values, out rows × proof bytes, at most 256 classes")  // programmer error
        guard rows > 0, b > 0, let base = activations.baseAddress, let o = out.baseAddress else { return 0 }
        _ = murmur_groupmax_proof_rows(kernel, base, CInt(rows), CInt(width), width, CInt(groups), o)
        return rows * b
    }

    /// Compares the commitment with recomputed activations: per entry, the value's error beyond
    /// truncation relative to the row's largest magnitude, and whether the committed unit is its
    /// class's largest (a unit within `tieTolerance` × that scale of the class maximum passes:
    /// honest reassociation can flip near-equal values).
    public func compare(with activations: UnsafeBufferPointer<Float>, tieTolerance: Double) -> ProofComparison {
        let width = activations.count
        let groups = entries.count
        let mask = ActivationProof.mask(width: width)
        let scale = ActivationProof.rowScale(activations)
        var errors = [Double](), shortfalls = [Double]()
        errors.reserveCapacity(groups)
        var notMax = 0
        for (g, e) in entries.enumerated() {
            guard e.index < width, groups > 0, e.index % groups == g else {
                errors.append(.infinity); shortfalls.append(.infinity); notMax += 1; continue
            }
            let actual = activations[e.index]
            errors.append(ActivationProof.truncationError(committed: e.bits, mask: mask, actual: actual, scale: scale))
            var classMax: Float = 0
            for j in stride(from: g, to: width, by: groups) where !activations[j].isNaN { classMax = max(classMax, abs(activations[j])) }
            let short = actual.isNaN ? .infinity : max(0, Double(classMax) - Double(abs(actual))) / scale
            shortfalls.append(short)
            if short > tieTolerance { notMax += 1 }
        }
        return ProofComparison(checked: groups, notInTopK: notMax, relativeErrors: errors,
                               expected: min(max(groups, 1), width), shortfalls: shortfalls)
    }
}
