import CMurmurKernels

/// A compact commitment to one input's last hidden layer, in the spirit of TOPLOC (Ong et al.
/// 2025, "TOPLOC: A Locality Sensitive Hashing Scheme for Trustless Verifiable Inference").
///
/// TOPLOC commits to the top-k activations of the last hidden layer and verifies by re-running
/// the model, accepting when the recomputed values match within thresholds calibrated on honest
/// floating-point variation. TOPLOC hides the indices inside a polynomial interpolated over a
/// prime field; for our small layers that interpolation costs more than the inference itself
/// (measured: 33× a batched MLP inference), so this is the "equivalent encoding" the design
/// allows: the k entries stored directly, 4 bytes each (64 bytes for k = 16):
///
/// - layers of ≤ 256 units: 1 byte index + the top 24 bits of the Float32 (sign, exponent,
///   15 mantissa bits: relative resolution 2⁻¹⁵ ≈ 3·10⁻⁵);
/// - wider layers: 2 bytes index + the top 16 bits (bfloat16: resolution 2⁻⁷).
///
/// Entries are sorted by index. The verifier checks each committed value against its recomputed
/// activation (within one quantisation step plus the tolerance) and that the committed indices are
/// the recomputed top-k, allowing near ties at the k-th place to swap. The tolerance behaviour is
/// TOPLOC's: reassociation passes, another model/input/weights does not.
public struct ActivationProof: Equatable, Sendable {
    /// Committed entries: activation index and the truncated Float32 bit pattern (low bits zero).
    public var entries: [(index: Int, bits: UInt32)]

    public init(entries: [(index: Int, bits: UInt32)]) { self.entries = entries }

    public static func == (a: ActivationProof, b: ActivationProof) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.index == $1.index && $0.bits == $1.bits }
    }

    /// Number of committed activations.
    public var k: Int { entries.count }

    /// Bytes used for the index of an entry for a layer of `width` units.
    static func indexBytes(width: Int) -> Int { width <= 256 ? 1 : 2 }

    /// The 4-byte-per-entry wire form for a layer of `width` units.
    public func bytes(width: Int) -> [UInt8] {
        let ib = Self.indexBytes(width: width)
        var out = [UInt8]()
        out.reserveCapacity(4 * k)
        for e in entries {
            if ib == 2 { out.append(UInt8(e.index >> 8)) }
            out.append(UInt8(e.index & 0xFF))
            out.append(UInt8(e.bits >> 24))
            out.append(UInt8((e.bits >> 16) & 0xFF))
            if ib == 1 { out.append(UInt8((e.bits >> 8) & 0xFF)) }
        }
        return out
    }

    /// Decodes the wire form for a layer of `width` units: length a positive multiple of 4 and at
    /// most `maxBytes`, indices strictly increasing and inside the layer.
    public init(bytes: [UInt8], width: Int, maxBytes: Int = 256) throws(RejectionReason) {
        guard !bytes.isEmpty, bytes.count % 4 == 0, bytes.count <= maxBytes else {
            throw .malformedProof("proof is \(bytes.count) bytes; expected a positive multiple of 4, at most \(maxBytes)")
        }
        let ib = Self.indexBytes(width: width)
        var es = [(index: Int, bits: UInt32)]()
        var last = -1
        for i in stride(from: 0, to: bytes.count, by: 4) {
            let index = ib == 2 ? Int(bytes[i]) << 8 | Int(bytes[i + 1]) : Int(bytes[i])
            let bits = ib == 2 ? UInt32(bytes[i + 2]) << 24 | UInt32(bytes[i + 3]) << 16
                : UInt32(bytes[i + 1]) << 24 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 8
            guard index > last, index < width else {
                throw .malformedProof("entry \(i / 4): index \(index) is out of order or outside a layer of \(width)")
            }
            last = index
            es.append((index, bits))
        }
        entries = es
    }

    /// Mask keeping the committed bits of a Float32 for a layer of `width` units.
    static func mask(width: Int) -> UInt32 { indexBytes(width: width) == 1 ? 0xFFFF_FF00 : 0xFFFF_0000 }

    /// Builds the proof for one activation vector.
    public static func commit(_ activations: UnsafeBufferPointer<Float>, k: Int) -> ActivationProof {
        let m = mask(width: activations.count)
        return ActivationProof(entries: topK(activations, k: k).map { ($0, activations[$0].bitPattern & m) })
    }

    /// Compares the commitment with recomputed activations.
    ///
    /// For each entry: the recomputed value's distance from the committed truncation interval,
    /// relative to the row's largest magnitude (`truncationError`). An entry whose index is not
    /// among the recomputed top-k counts as an outlier unless it is a near tie (its recomputed
    /// magnitude within `tieTolerance` × that scale of the k-th largest).
    public func compare(with activations: UnsafeBufferPointer<Float>, tieTolerance: Double = 3e-6) -> ProofComparison {
        let width = activations.count
        let m = Self.mask(width: width)
        let scale = Self.rowScale(activations)
        let top = Self.topK(activations, k: k)
        let kth = top.map { abs(activations[$0]) }.min() ?? 0
        var errors = [Double](), shortfalls = [Double]()
        var notTop = 0
        let topSet = Set(top)
        for e in entries {
            guard e.index < width else { errors.append(.infinity); continue }
            let actual = activations[e.index]
            errors.append(Self.truncationError(committed: e.bits, mask: m, actual: actual, scale: scale))
            let short = topSet.contains(e.index) ? 0 : max(0, Double(kth) - Double(abs(actual))) / scale
            shortfalls.append(actual.isNaN ? .infinity : short)
            if short > tieTolerance || actual.isNaN { notTop += 1 }
        }
        return ProofComparison(checked: entries.count, notInTopK: notTop, relativeErrors: errors,
                               expected: min(k, width), shortfalls: shortfalls)
    }

    /// The largest finite magnitude of a row (at least the smallest normal Float32): the scale
    /// honest floating-point error in a layer's values is measured against.
    static func rowScale(_ v: UnsafeBufferPointer<Float>) -> Double {
        var s: Float = .leastNormalMagnitude
        for x in v where x.isFinite { s = max(s, abs(x)) }
        return Double(s)
    }

    /// How far `actual` lies outside the interval of values whose truncation (`mask`) gives the
    /// committed bits, divided by `scale`: 0 when the committed bits are exactly `actual`'s
    /// truncation; ∞ for a non-finite committed or recomputed value.
    static func truncationError(committed: UInt32, mask: UInt32, actual: Float, scale: Double) -> Double {
        let c = Float(bitPattern: committed)
        guard c.isFinite, actual.isFinite else { return .infinity }
        let lower = Double(abs(c))
        let upper = Double(Float(bitPattern: (committed & 0x7FFF_FFFF) &+ (~mask &+ 1)))
        let x = (c.sign == actual.sign || c == 0) ? Double(abs(actual)) : -Double(abs(actual))
        return max(0, lower - x, x - upper) / scale
    }

    /// Indices of the k largest |values| (NaN counts as 0; ties broken by the lower index), in
    /// ascending order. Runs once per inference, so it is a C kernel (`murmur_topk_abs`: an
    /// AVX-512 path on CPUs that have it, a portable one elsewhere; docs/verification.md).
    static func topK(_ v: UnsafeBufferPointer<Float>, k: Int) -> [Int] {
        let kk = min(k, v.count)
        guard kk > 0, let base = v.baseAddress else { return [] }
        return withUnsafeTemporaryAllocation(of: CInt.self, capacity: kk) { out in
            let w = Int(murmur_topk_abs(base, CInt(v.count), CInt(kk), out.baseAddress!))
            return (0..<w).map { Int(out[$0]) }
        }
    }

    /// The wire form of the proof for one activation vector, built without intermediate
    /// arrays: what `commit(_:k:).bytes(width:)` returns. For one input at a time (the exact
    /// path); a batch goes through `commitRows`, which gives the same bytes per row.
    public static func commitBytes(_ activations: UnsafeBufferPointer<Float>, k: Int) -> [UInt8] {
        let width = activations.count
        let kk = min(k, width)
        guard kk > 0, let base = activations.baseAddress else { return [] }
        let m = mask(width: width)
        let wide = indexBytes(width: width) == 2
        return withUnsafeTemporaryAllocation(of: CInt.self, capacity: kk) { idx in
            let w = Int(murmur_topk_abs(base, CInt(width), CInt(kk), idx.baseAddress!))
            return [UInt8](unsafeUninitializedCapacity: 4 * w) { out, count in
                for e in 0..<w {
                    let i = Int(idx[e]), bits = base[i].bitPattern & m
                    if wide {
                        out[4 * e] = UInt8(i >> 8); out[4 * e + 1] = UInt8(i & 0xFF)
                        out[4 * e + 2] = UInt8(bits >> 24); out[4 * e + 3] = UInt8((bits >> 16) & 0xFF)
                    } else {
                        out[4 * e] = UInt8(i); out[4 * e + 1] = UInt8(bits >> 24)
                        out[4 * e + 2] = UInt8((bits >> 16) & 0xFF); out[4 * e + 3] = UInt8((bits >> 8) & 0xFF)
                    }
                }
                count = 4 * w
            }
        }
    }

    /// Proof bytes for one input of a layer of `width` units: 4 per committed activation.
    /// Sizes the buffer `commitRows` fills (`width` below `k` commits every unit).
    public static func proofByteCount(width: Int, k: Int) -> Int { 4 * max(0, min(k, width)) }

    /// The wire-form proofs of a whole batch: `rows` activation vectors of `width` floats stored
    /// one after another (the penultimate matrix a batched forward pass returns), as one buffer
    /// in which bytes `r·b ..< (r+1)·b` (b = `proofByteCount(width:k:)`) are what
    /// `commitBytes` returns for row r.
    ///
    /// One C call per batch (`murmur_topk_proof_rows`: branch-light AVX-512 selection and
    /// packing, portable fallback) instead of a call and an array per input, so generating
    /// the proofs costs a small share of the batch's inference (docs/verification.md).
    public static func commitRows(_ activations: UnsafeBufferPointer<Float>, rows: Int, width: Int, k: Int) -> [UInt8] {
        commitRows(activations, rows: rows, width: width, k: k, kernel: 1)
    }

    /// `commitRows` on a chosen C path (0 portable, 1 AVX-512 when available), for tests.
    static func commitRows(_ activations: UnsafeBufferPointer<Float>, rows: Int, width: Int, k: Int, kernel: CInt) -> [UInt8] {
        let b = proofByteCount(width: width, k: k)
        precondition(activations.count >= rows * width, "activations must hold rows × width values")  // programmer error
        guard rows > 0, b > 0, let base = activations.baseAddress else { return [] }
        if b > 4 * 256 {  // beyond the kernel's bound (and any receipt's): one input at a time
            return (0..<rows).flatMap { commitBytes(UnsafeBufferPointer(rebasing: activations[($0 * width)..<(($0 + 1) * width)]), k: k) }
        }
        return [UInt8](unsafeUninitializedCapacity: rows * b) { out, count in
            _ = murmur_topk_proof_rows(kernel, base, CInt(rows), CInt(width), width, CInt(k), out.baseAddress!)
            count = rows * b
        }
    }
}

/// How a commitment compares with recomputed activations.
public struct ProofComparison: Equatable, Sendable {
    /// Entries checked.
    public var checked: Int
    /// Committed indices that are not among the recomputed top-k (near ties excused).
    public var notInTopK: Int
    /// Relative error beyond truncation per entry (∞ for an unusable entry).
    public var relativeErrors: [Double]
    /// Entries a proof for this layer should have: min(k, width).
    public var expected: Int
    /// Per entry, how far (relative to the row's largest magnitude) its recomputed magnitude
    /// falls short of the unit it should be (0 when it is that unit): near ties are honest.
    public var shortfalls: [Double]

    /// A comparison from its parts (what `compare(with:tieTolerance:)` of either proof returns).
    public init(checked: Int, notInTopK: Int, relativeErrors: [Double], expected: Int, shortfalls: [Double] = []) {
        self.checked = checked
        self.notInTopK = notInTopK
        self.relativeErrors = relativeErrors
        self.expected = expected
        self.shortfalls = shortfalls
    }

    /// Largest shortfall among the entries.
    public var maxShortfall: Double { shortfalls.max() ?? 0 }

    /// Largest relative error among the entries.
    public var maxRelativeError: Double { relativeErrors.max() ?? 0 }

    /// Entries that fail: relative error above `tolerance`, plus indices that are not top-k.
    public func outliers(tolerance: Double) -> Int { relativeErrors.filter { !($0 <= tolerance) }.count + notInTopK }
}

/// Acceptance thresholds for activation proofs and outputs, calibrated on honest variation
/// (docs/verification.md, "Thresholds"): the largest deviation measured over every execution
/// variant of three models (GEMM kernels, thread counts, batch sizes) times a safety factor.
/// They assume Float32 arithmetic on the same model bytes; any summation order or use of fused
/// multiply-add is honest.
public struct ProofThresholds: Sendable, Equatable {
    /// Committed entries allowed to fail (0: index flips among near-equal values are excused
    /// by `tieTolerance` instead).
    public var maxOutliers: Int
    /// Largest error of a committed activation beyond its truncation, relative to the row's
    /// largest magnitude.
    public var maxRelativeError: Double
    /// Largest error of a logit relative to the largest finite recomputed logit magnitude (`rowScale`).
    public var maxOutputError: Double
    /// How close (relative to the row's largest magnitude) a committed unit must be to the
    /// unit it should be (the k-th largest, or its class's largest) to count as a tie.
    public var tieTolerance: Double

    /// Thresholds of one's own, e.g. from `murmur bench verify`'s honest maxima on other hardware.
    public init(maxOutliers: Int, maxRelativeError: Double, maxOutputError: Double, tieTolerance: Double = 3e-6) {
        self.maxOutliers = maxOutliers
        self.maxRelativeError = maxRelativeError
        self.maxOutputError = maxOutputError
        self.tieTolerance = tieTolerance
    }

    /// The defaults: 3·10⁻⁶ for outputs, committed values and ties, about 5× the largest honest
    /// deviation measured (6.1·10⁻⁷ on outputs, 5.9·10⁻⁷ on committed values, no tie flip) over
    /// 129,384 receipts of the demo MLP, the digits CNN and a 64-512-256-10 MLP under every GEMM
    /// kernel (portable, avx2-fma, avx512) × 1 and 2 threads × batch 1, 7, 32, 256
    /// (2026-11-28, docs/verification.md). Machines with other arithmetic should re-measure
    /// (`murmur bench verify` reports the honest maxima) and pass their own.
    public static let standard = ProofThresholds(maxOutliers: 0, maxRelativeError: 3e-6, maxOutputError: 3e-6, tieTolerance: 3e-6)
}
