/// An element of the prime field GF(p), p = 2^61 − 1 (a Mersenne prime), the field of our Shamir
/// shares; reduction is two shifts and an add.
///
/// Shamir sharing (Shamir 1979) is information-theoretic in any field, so a 61-bit field with
/// independent polynomials per 7-byte chunk is as hiding as one wide field, and cheaper.
public struct FieldElement: Hashable, Sendable {
    /// p = 2^61 − 1.
    public static let modulus: UInt64 = (1 << 61) - 1
    /// The canonical representative in [0, p).
    public let value: UInt64

    /// Reduces `value` mod p.
    public init(_ value: UInt64) {
        let r = (value & Self.modulus) &+ (value >> 61)
        self.value = r >= Self.modulus ? r - Self.modulus : r
    }

    init(unchecked value: UInt64) { self.value = value }

    /// A uniform element (rejection sampling on 61 bits).
    public static func random<R: RandomNumberGenerator>(using rng: inout R) -> FieldElement {
        while true {
            let v = rng.next() & modulus
            if v != modulus { return FieldElement(unchecked: v) }
        }
    }

    /// a + b mod p.
    public static func + (a: FieldElement, b: FieldElement) -> FieldElement {
        let s = a.value &+ b.value
        return FieldElement(unchecked: s >= modulus ? s - modulus : s)
    }

    /// a − b mod p.
    public static func - (a: FieldElement, b: FieldElement) -> FieldElement {
        FieldElement(unchecked: a.value >= b.value ? a.value - b.value : a.value &+ modulus &- b.value)
    }

    /// a · b mod p: the 122-bit product hi·2^64 + lo ≡ hi·8 + lo (2^64 ≡ 2^3 mod p).
    public static func * (a: FieldElement, b: FieldElement) -> FieldElement {
        let (hi, lo) = a.value.multipliedFullWidth(by: b.value)
        let r = (lo & modulus) &+ (lo >> 61) &+ (hi << 3)
        return FieldElement(r)
    }

    /// a^(p−2) = a^(−1) mod p (Fermat); the inverse of zero is zero.
    public var inverse: FieldElement {
        var result = FieldElement(unchecked: 1), base = self, e = Self.modulus - 2
        while e > 0 {
            if e & 1 == 1 { result = result * base }
            base = base * base
            e >>= 1
        }
        return result
    }
}

/// One Shamir share of a byte string: the evaluation point x and one y per 7-byte chunk.
public struct ShamirShare: Hashable, Sendable {
    /// The evaluation point (client index + 1; never 0, where the secret lives).
    public let x: UInt64
    /// f_c(x) for each chunk c of the secret.
    public let y: [UInt64]

    /// A share from its raw fields.
    public init(x: UInt64, y: [UInt64]) { self.x = x; self.y = y }
}

/// t-of-k Shamir secret sharing of byte strings over GF(2^61 − 1).
///
/// Used for the self-mask seed and the mask-key private key (Bonawitz et al. CCS 2017, §4;
/// Bell et al. CCS 2020, §3: each client shares with its k graph neighbours only).
public enum Shamir {
    /// Bytes per field element: 7 bytes < 2^56 < p, so every chunk is a field element.
    public static let chunkBytes = 7

    /// Field elements needed for a secret of `byteCount` bytes.
    public static func chunkCount(byteCount: Int) -> Int { (byteCount + chunkBytes - 1) / chunkBytes }

    /// Splits `secret` into one share per evaluation point; any `threshold` shares reconstruct it.
    ///
    /// Each chunk gets its own random polynomial of degree threshold − 1 with the chunk as f(0).
    public static func split<R: RandomNumberGenerator>(
        _ secret: [UInt8], threshold: Int, at points: [UInt64], using rng: inout R
    ) throws -> [ShamirShare] {
        guard threshold >= 1, threshold <= points.count else {
            throw SecAggError.invalidParameters("threshold \(threshold) must be in 1...\(points.count) (number of shares)")
        }
        guard points.allSatisfy({ $0 != 0 && $0 < FieldElement.modulus }), Set(points).count == points.count else {
            throw SecAggError.invalidParameters("share points must be distinct and non-zero")
        }
        let chunks = chunkElements(secret)
        var ys = [[UInt64]](repeating: [], count: points.count)
        for chunk in chunks {
            var coefficients = [chunk]
            for _ in 1..<threshold { coefficients.append(.random(using: &rng)) }
            for (i, x) in points.enumerated() {
                // Horner: f(x) = c0 + x(c1 + x(c2 + ...)).
                let fx = FieldElement(x)
                var acc = FieldElement(unchecked: 0)
                for c in coefficients.reversed() { acc = acc * fx + c }
                ys[i].append(acc.value)
            }
        }
        return zip(points, ys).map { ShamirShare(x: $0, y: $1) }
    }

    /// Reconstructs a `byteCount`-byte secret from at least `threshold` shares (the first
    /// `threshold` are used) by Lagrange interpolation at 0: f(0) = Σ y_i Π_{j≠i} x_j / (x_j − x_i).
    public static func reconstruct(_ shares: [ShamirShare], threshold: Int, byteCount: Int) throws -> [UInt8] {
        guard shares.count >= threshold, threshold >= 1 else {
            throw SecAggError.invalidParameters("need \(threshold) shares, have \(shares.count)")
        }
        let used = Array(shares.prefix(threshold))
        let chunks = chunkCount(byteCount: byteCount)
        guard used.allSatisfy({ $0.y.count == chunks }), Set(used.map(\.x)).count == used.count else {
            throw SecAggError.malformed("shares have the wrong chunk count or repeated points")
        }
        let xs = used.map { FieldElement($0.x) }
        var lambdas = [FieldElement]()
        for i in xs.indices {
            var num = FieldElement(unchecked: 1), den = FieldElement(unchecked: 1)
            for j in xs.indices where j != i {
                num = num * xs[j]
                den = den * (xs[j] - xs[i])
            }
            lambdas.append(num * den.inverse)
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(byteCount)
        for c in 0..<chunks {
            var acc = FieldElement(unchecked: 0)
            for (i, share) in used.enumerated() { acc = acc + lambdas[i] * FieldElement(share.y[c]) }
            let n = min(chunkBytes, byteCount - c * chunkBytes)
            guard acc.value >> (8 * n) == 0 else { throw SecAggError.inconsistentShares(client: -1) }
            for b in 0..<n { bytes.append(UInt8(truncatingIfNeeded: acc.value >> (8 * b))) }
        }
        return bytes
    }

    static func chunkElements(_ secret: [UInt8]) -> [FieldElement] {
        stride(from: 0, to: secret.count, by: chunkBytes).map { start in
            var v: UInt64 = 0
            for (b, byte) in secret[start..<min(start + chunkBytes, secret.count)].enumerated() {
                v |= UInt64(byte) << (8 * b)
            }
            return FieldElement(unchecked: v)
        }
    }
}
