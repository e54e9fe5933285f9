import Foundation

/// An exact sampler of the discrete Gaussian N_Z(0, σ²) on the integers,
/// P[X = x] ∝ exp(−x²/(2σ²)), for a rational σ² = numerator/denominator.
///
/// Canonne, Kamath & Steinke, "The Discrete Gaussian for Differential Privacy" (NeurIPS 2020),
/// Algorithms 1–3: Bernoulli(exp(−γ)) from Bernoulli(γ/k) trials, a discrete Laplace proposal of
/// scale t = ⌊σ⌋ + 1, and rejection with probability exp(−(|Y| − σ²/t)²/(2σ²)). Only integer
/// arithmetic on uniform random integers is used (no floating point), so the output distribution
/// is exact given uniform random bits. Why: the distributed discrete Gaussian mechanism
/// (Kairouz, Liu & Steinke, ICML 2021) adds integer noise that secure aggregation can sum mod 2^b.
public struct DiscreteGaussianSampler: Sendable, Hashable {
    /// σ² = varianceNumerator / varianceDenominator (the scale parameter, not the exact variance,
    /// which is slightly smaller than σ² for σ < 1 and equal to it within 1e-10 for σ ≥ 1).
    public let varianceNumerator: UInt64
    /// Denominator of σ².
    public let varianceDenominator: UInt64
    /// t = ⌊σ⌋ + 1, the discrete Laplace scale of the proposal.
    @usableFromInline let t: UInt64
    /// 2·num·den·t², the denominator of the rejection exponent.
    @usableFromInline let rejectionDenominator: UInt64

    /// A sampler for σ² = numerator/denominator; throws if σ² ≤ 0 or the integers needed by the
    /// exact rejection step (2·num·den·(⌊σ⌋+1)²) exceed 63 bits (σ² ≤ 2^26 with denominator 1).
    public init(varianceNumerator num: UInt64, denominator den: UInt64 = 1) throws {
        guard num > 0, den > 0 else {
            throw PrivacyError.invalidParameter("σ² must be a positive fraction, got \(num)/\(den)")
        }
        // t = ⌊√(num/den)⌋ + 1: the largest s with s²·den ≤ num, plus one (exact integer search).
        func squareFits(_ s: UInt64) -> Bool {  // s²·den ≤ num, without overflow
            let (sq, o1) = s.multipliedReportingOverflow(by: s)
            let (v, o2) = sq.multipliedReportingOverflow(by: den)
            return !o1 && !o2 && v <= num
        }
        var s = UInt64((Double(num) / Double(den)).squareRoot())
        while s > 0 && !squareFits(s) { s -= 1 }
        while squareFits(s + 1) { s += 1 }
        let t = s + 1
        var (b, overflow) = num.multipliedReportingOverflow(by: den)
        var o = false
        (b, o) = b.multipliedReportingOverflow(by: t); overflow = overflow || o
        (b, o) = b.multipliedReportingOverflow(by: t); overflow = overflow || o
        (b, o) = b.multipliedReportingOverflow(by: 2); overflow = overflow || o
        guard !overflow, b < UInt64(1) << 63 else {
            throw PrivacyError.invalidParameter(
                "σ² = \(num)/\(den) is too large for the exact 64-bit sampler; use σ² ≤ 2^26 (denominator 1)")
        }
        self.varianceNumerator = num
        self.varianceDenominator = den
        self.t = t
        self.rejectionDenominator = b
    }

    /// σ² as a Double (for accounting and reporting).
    public var variance: Double { Double(varianceNumerator) / Double(varianceDenominator) }

    /// One draw from N_Z(0, σ²) (CKS 2020 Algorithm 3). Inlinable so that callers' concrete
    /// generators are specialised (the sampler is in the clients' per-coordinate hot loop).
    @inlinable
    public func sample<R: RandomNumberGenerator>(using rng: inout R) -> Int64 {
        let num = varianceNumerator, den = varianceDenominator
        while true {
            let y = Self.discreteLaplace(scale: t, using: &rng)
            // Accept with probability exp(−(|y| − σ²/t)²/(2σ²)) = exp(−(|y|·t·den − num)² / (2·num·den·t²)).
            let (yt, o1) = y.magnitude.multipliedReportingOverflow(by: t)
            let (ytd, o2) = yt.multipliedReportingOverflow(by: den)
            // |y| beyond 2^64/(t·den) makes the exponent > 2^64/(2σ²t²)·…; accept probability
            // below exp(−2^30), treated as 0 (a deviation far below 2^−2^30).
            if o1 || o2 { continue }
            let x = ytd >= num ? ytd - num : num - ytd
            if Self.bernoulliExpMinus(numeratorSquareRoot: x, denominator: rejectionDenominator, using: &rng) {
                return y
            }
        }
    }

    /// Adds one draw to each element of `values` (wrapping, as integers mod 2^32 for the ring).
    @inlinable
    public func addNoise<R: RandomNumberGenerator>(to values: inout [UInt32], using rng: inout R) {
        for i in values.indices { values[i] &+= UInt32(truncatingIfNeeded: sample(using: &rng)) }
    }

    /// The exact probability mass P[X = x] (a truncated normalising sum, error < 1e-15 relative),
    /// for tests and χ² checks.
    public func probability(_ x: Int64) -> Double {
        let s2 = variance
        let bound = Int64((s2.squareRoot() * 40).rounded(.up)) + 2
        var z = 0.0
        for k in -bound...bound { z += exp(-Double(k * k) / (2 * s2)) }
        return exp(-Double(x) * Double(x) / (2 * s2)) / z
    }

    /// The exact variance Σ x² P[X = x] of N_Z(0, σ²) (truncated sum; CKS 2020 Prop. 19: ≤ σ²).
    public var exactVariance: Double {
        let s2 = variance
        let bound = Int64((s2.squareRoot() * 40).rounded(.up)) + 2
        var z = 0.0, m = 0.0
        for k in -bound...bound {
            let w = exp(-Double(k * k) / (2 * s2))
            z += w
            m += Double(k * k) * w
        }
        return m / z
    }

    // MARK: - CKS 2020 building blocks

    /// Bernoulli(num/den) for num ≤ den, den ≥ 1, from one uniform integer in [0, den).
    @inlinable @inline(__always)
    static func bernoulli<R: RandomNumberGenerator>(_ num: UInt64, _ den: UInt64, using rng: inout R) -> Bool {
        UInt64.random(in: 0..<den, using: &rng) < num
    }

    /// Bernoulli(exp(−num/den)) for 0 ≤ num/den ≤ 1 (CKS Algorithm 1, γ ∈ [0, 1]): count the
    /// K with A_1 = … = A_{K−1} = 1, A_K = 0, A_k ~ Bernoulli(γ/k); accept iff K is odd.
    /// Bernoulli(γ/k) is drawn as Bernoulli(γ) ∧ Bernoulli(1/k), which has the same law.
    @inlinable
    static func bernoulliExpMinusFraction<R: RandomNumberGenerator>(_ num: UInt64, _ den: UInt64, using rng: inout R) -> Bool {
        var k: UInt64 = 1
        while bernoulli(num, den, using: &rng) && bernoulli(1, k, using: &rng) { k += 1 }
        return k % 2 == 1
    }

    /// Bernoulli(exp(−γ)) for γ = x²/den with x² up to 128 bits (CKS Algorithm 1, γ > 1:
    /// ⌊γ⌋ Bernoulli(exp(−1)) trials, all must succeed, then one Bernoulli(exp(−(γ − ⌊γ⌋)))).
    @inlinable
    static func bernoulliExpMinus<R: RandomNumberGenerator>(
        numeratorSquareRoot x: UInt64, denominator den: UInt64, using rng: inout R
    ) -> Bool {
        let square = x.multipliedFullWidth(by: x)
        // ⌊γ⌋ ≥ 2^64 when the high word reaches den: exp(−γ) < exp(−2^64) is treated as 0.
        if square.high >= den { return false }
        let (q, r) = den.dividingFullWidth(square)
        var i: UInt64 = 0
        while i < q {
            if !bernoulliExpMinusFraction(1, 1, using: &rng) { return false }
            i += 1
        }
        return bernoulliExpMinusFraction(r, den, using: &rng)
    }

    /// The discrete Laplace with P[Y = y] ∝ exp(−|y|/t), integer t ≥ 1 (CKS Algorithm 2 with s = t).
    @inlinable
    static func discreteLaplace<R: RandomNumberGenerator>(scale t: UInt64, using rng: inout R) -> Int64 {
        while true {
            let u = UInt64.random(in: 0..<t, using: &rng)
            guard bernoulliExpMinusFraction(u, t, using: &rng) else { continue }
            var v: UInt64 = 0
            while bernoulliExpMinusFraction(1, 1, using: &rng) { v += 1 }
            let y = u &+ t &* v
            let negative = bernoulli(1, 2, using: &rng)
            if negative && y == 0 { continue }
            guard y < UInt64(Int64.max) else { continue }  // unreachable in practice (v ~ 60 exp(−1)-successes)
            return negative ? -Int64(y) : Int64(y)
        }
    }
}
