/// A compact commitment to one input's last hidden layer, in the spirit of TOPLOC (Ong et al.
/// 2025, "TOPLOC: A Locality Sensitive Hashing Scheme for Trustless Verifiable Inference").
///
/// The prover takes the `k` largest-magnitude activations, maps each value's Float32 bit pattern
/// to an element of GF(p), p = 2³² − 5, and interpolates the unique polynomial of degree < k with
/// P(index + 1) = bits(value). The proof is the k coefficients (4 bytes each: 64 bytes for k = 16).
/// The indices are not stored: the verifier recomputes the activations, finds its own top-k
/// indices and evaluates P there. Where execution differs only by floating-point reassociation the
/// top-k set is the same and the recovered values are within a few ulps of the recomputed ones;
/// another model, input or weights moves values (or the top-k set, which makes P return
/// unrelated bit patterns) far outside the thresholds.
public struct ActivationProof: Equatable, Sendable {
    /// The field modulus: the largest prime below 2³² (all finite Float32 bit patterns are below it).
    public static let prime: UInt64 = 4_294_967_291
    /// Coefficients of P, lowest degree first.
    public var coefficients: [UInt32]

    public init(coefficients: [UInt32]) { self.coefficients = coefficients }

    /// Number of committed activations.
    public var k: Int { coefficients.count }

    /// Little-endian bytes (4 per coefficient).
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(4 * k)
        for c in coefficients { withUnsafeBytes(of: c.littleEndian) { out += $0 } }
        return out
    }

    /// Decodes the byte form; the length must be a positive multiple of 4 and at most `maxBytes`.
    public init(bytes: [UInt8], maxBytes: Int = 256) throws(RejectionReason) {
        guard !bytes.isEmpty, bytes.count % 4 == 0, bytes.count <= maxBytes else {
            throw .malformedProof("proof is \(bytes.count) bytes; expected a positive multiple of 4, at most \(maxBytes)")
        }
        var cs = [UInt32]()
        for i in stride(from: 0, to: bytes.count, by: 4) {
            let v = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            guard UInt64(v) < Self.prime else { throw .malformedProof("coefficient \(i / 4) is not a field element") }
            cs.append(v)
        }
        coefficients = cs
    }

    /// Builds the proof for one activation vector.
    public static func commit(_ activations: UnsafeBufferPointer<Float>, k: Int) -> ActivationProof {
        let idx = topK(activations, k: k)
        let xs = idx.map { UInt64($0 + 1) }
        let ys = idx.map { UInt64(activations[$0].bitPattern) % prime }
        return ActivationProof(coefficients: interpolate(xs: xs, ys: ys).map { UInt32($0) })
    }

    /// Compares the commitment with recomputed activations: the verifier's own top-k indices,
    /// P evaluated there, and the recovered values checked against the recomputed ones.
    public func compare(with activations: UnsafeBufferPointer<Float>) -> ProofComparison {
        let idx = Self.topK(activations, k: k)
        var exponentMismatches = 0
        var errors = [Double]()
        errors.reserveCapacity(idx.count)
        for i in idx {
            let committed = Float(bitPattern: UInt32(truncatingIfNeeded: evaluate(at: UInt64(i + 1))))
            let actual = activations[i]
            if committed.exponentBitPattern != actual.exponentBitPattern || committed.sign != actual.sign || !committed.isFinite {
                exponentMismatches += 1
            }
            guard committed.isFinite else { errors.append(.infinity); continue }
            errors.append(Double(abs(committed - actual)) / Double(max(abs(actual), .leastNormalMagnitude)))
        }
        return ProofComparison(checked: idx.count, exponentMismatches: exponentMismatches, relativeErrors: errors)
    }

    /// P(x) by Horner's rule in GF(p).
    func evaluate(at x: UInt64) -> UInt64 {
        var acc: UInt64 = 0
        for c in coefficients.reversed() { acc = (acc * x % Self.prime + UInt64(c)) % Self.prime }
        return acc
    }

    /// Indices of the k largest |values| (ties broken by the lower index), in ascending index order.
    static func topK(_ v: UnsafeBufferPointer<Float>, k: Int) -> [Int] {
        let n = min(k, v.count)
        guard n > 0 else { return [] }
        var best = [(Float, Int)]()
        best.reserveCapacity(n + 1)
        for i in 0..<v.count {
            let m = abs(v[i])
            if best.count == n, let last = best.last, !(m > last.0) { continue }
            var pos = best.count
            while pos > 0, m > best[pos - 1].0 { pos -= 1 }
            best.insert((m, i), at: pos)
            if best.count > n { best.removeLast() }
        }
        return best.map(\.1).sorted()
    }

    /// Coefficients of the polynomial through (xᵢ, yᵢ) over GF(p) (Newton's divided differences,
    /// then expansion to monomial form). The xᵢ must be distinct.
    static func interpolate(xs: [UInt64], ys: [UInt64]) -> [UInt64] {
        let n = xs.count
        let p = prime
        var dd = ys  // divided differences, in place
        if n > 1 {
            for j in 1..<n {
                for i in stride(from: n - 1, through: j, by: -1) {
                    let num = (dd[i] + p - dd[i - 1]) % p
                    let den = (xs[i] + p - xs[i - j]) % p
                    dd[i] = num * inverse(den) % p
                }
            }
        }
        // Expand Σ dd[j]·Π_{m<j}(x − x_m) from the innermost term outwards (Horner form).
        var coeffs = [UInt64](repeating: 0, count: n)
        for j in stride(from: n - 1, through: 0, by: -1) {
            // coeffs ← coeffs·(x − x_j) + dd[j]
            var next = [UInt64](repeating: 0, count: n)
            for d in 0..<n {
                if d + 1 < n { next[d + 1] = (next[d + 1] + coeffs[d]) % p }
                next[d] = (next[d] + (p - xs[j] % p) * coeffs[d]) % p
            }
            next[0] = (next[0] + dd[j]) % p
            coeffs = next
        }
        return coeffs
    }

    /// a⁻¹ mod p by Fermat's little theorem (p is prime, a ≠ 0).
    static func inverse(_ a: UInt64) -> UInt64 {
        var result: UInt64 = 1
        var base = a % prime
        var e = prime - 2
        while e > 0 {
            if e & 1 == 1 { result = result * base % prime }
            base = base * base % prime
            e >>= 1
        }
        return result
    }
}

/// How a commitment compares with recomputed activations.
public struct ProofComparison: Equatable, Sendable {
    /// Activations checked (k, or fewer for a narrow layer).
    public var checked: Int
    /// Values whose sign or exponent differ (or that P does not map to a finite float).
    public var exponentMismatches: Int
    /// Relative error |committed − recomputed| / |recomputed| per checked value (∞ when P gives
    /// no finite float).
    public var relativeErrors: [Double]

    /// Largest relative error among the values.
    public var maxRelativeError: Double { relativeErrors.max() ?? 0 }

    /// Values whose relative error exceeds `tolerance`.
    public func outliers(tolerance: Double) -> Int { relativeErrors.filter { !($0 <= tolerance) }.count }
}

/// Acceptance thresholds for activation proofs and outputs, calibrated on honest variation
/// (docs/verification.md).
public struct ProofThresholds: Sendable, Equatable {
    /// Committed values allowed to miss `maxRelativeError` (a near-tie at the k-th place can
    /// swap one index between honest runs, and P then returns an unrelated value there).
    public var maxOutliers: Int
    /// Largest relative error tolerated on a committed activation.
    public var maxRelativeError: Double
    /// Largest relative error tolerated on a logit (|Δ| / max(1, |logit|)).
    public var maxOutputError: Double

    public init(maxOutliers: Int, maxRelativeError: Double, maxOutputError: Double) {
        self.maxOutliers = maxOutliers
        self.maxRelativeError = maxRelativeError
        self.maxOutputError = maxOutputError
    }

    /// The defaults: honest runs across thread counts, batch sizes and GEMM kernels stay below
    /// 1e-5 relative; tampering moves values by orders of magnitude more.
    public static let standard = ProofThresholds(maxOutliers: 1, maxRelativeError: 1e-4, maxOutputError: 1e-4)
}
