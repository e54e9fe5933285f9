import Foundation

/// Privacy accounting of the distributed discrete Gaussian (DDG) mechanism: n clients each add
/// N_Z(0, σ²) noise to their scaled, randomly rounded update and secure aggregation reveals only
/// the sum (Kairouz, Liu & Steinke, "The Distributed Discrete Gaussian Mechanism for Federated
/// Learning with Secure Aggregation", ICML 2021).
///
/// All quantities live in the integer domain (after scaling by 1/γ). The sum of n discrete
/// Gaussians is not a discrete Gaussian; the paper's Theorem 1 / Proposition 14 bound its RDP by
/// that of one discrete Gaussian of variance nσ² plus a correction τ·d, with
/// τ = 10 Σ_{k=1}^{n−1} exp(−2π²σ² k/(k+1)). Rounding inflates the L2 sensitivity (Theorem 1 /
/// Proposition 22, conditional randomized rounding with parameter β). Poisson subsampling uses the
/// general upper bound of Zhu & Wang (ICML 2019, Theorem 5), as the authors' reference code does,
/// because the exact sampled-Gaussian analysis does not carry over to discrete noise.
/// Why: `murmur simulate --secagg --dp central` adds the noise on the clients, so the server
/// (which sees only the noisy sum) is not trusted with it.
public struct DistributedDiscreteGaussian: Sendable, Equatable {
    /// RDP orders: the integers 2…128 and 256 (the authors' RDP_ORDERS; Zhu–Wang needs integers).
    public static let orders: [Double] = (2...128).map(Double.init) + [256]
    /// The paper's default rounding parameter β = exp(−0.5).
    public static let defaultBeta = exp(-0.5)

    /// The per-client L2 clip in the integer domain, c/γ (before rounding).
    public let scaledClip: Double
    /// Noise multiplier z: the central noise std √n·σ divided by `scaledClip`.
    public let noiseMultiplier: Double
    /// Vector length d.
    public let dimension: Int
    /// σ² of each client's discrete Gaussian (integer domain).
    public let localVariance: Double
    /// n, the number of clients whose noise is summed (honest contributors counted by the accountant).
    public let summands: Int
    /// β of conditional randomized rounding (0 = unconditional rounding).
    public let beta: Double
    /// Whether Δ₁ uses the integer refinement Δ₂·min(√d, Δ₂) (true) or only Δ₂·√d (false; an
    /// upper bound valid for every clip ≥ `scaledClip`, for runs whose clip varies per round).
    public let refineL1: Bool

    /// The mechanism for clip c/γ = `scaledClip`, central noise z·c/γ, d coordinates, per-client
    /// variance σ², n summands; throws on out-of-range values.
    public init(
        scaledClip: Double, noiseMultiplier: Double, dimension: Int, localVariance: Double, summands: Int,
        beta: Double = DistributedDiscreteGaussian.defaultBeta, refineL1: Bool = true
    ) throws {
        guard scaledClip > 0, scaledClip.isFinite else { throw PrivacyError.invalidParameter("the scaled clip must be > 0, got \(scaledClip)") }
        guard noiseMultiplier > 0, noiseMultiplier.isFinite else {
            throw PrivacyError.invalidParameter("the noise multiplier must be > 0, got \(noiseMultiplier)")
        }
        guard dimension >= 1, summands >= 1 else { throw PrivacyError.invalidParameter("dimension and summands must be ≥ 1") }
        guard localVariance > 0, localVariance.isFinite else {
            throw PrivacyError.invalidParameter("the local variance must be > 0, got \(localVariance)")
        }
        guard beta >= 0, beta < 1 else { throw PrivacyError.invalidParameter("β must be in [0, 1), got \(beta)") }
        self.scaledClip = scaledClip
        self.noiseMultiplier = noiseMultiplier
        self.dimension = dimension
        self.localVariance = localVariance
        self.summands = summands
        self.beta = beta
        self.refineL1 = refineL1
    }

    /// The L2 norm bound after (conditional) randomized rounding of a vector of norm ≤ c in d
    /// coordinates: min(c + √d, √(c² + d/4 + √(2 ln(1/β))·(c + √d/2))) (paper, Theorem 1 /
    /// Proposition 22; with β = 0 only the first term).
    public static func roundedL2Bound(_ c: Double, dimension d: Int, beta: Double) -> Double {
        let rd = Double(d).squareRoot()
        let first = c + rd
        guard beta > 0 else { return first }
        let second = (c * c + 0.25 * Double(d) + (2 * log(1 / beta)).squareRoot() * (c + 0.5 * rd)).squareRoot()
        return min(first, second)
    }

    /// L1 bound of an integer vector of L2 norm ≤ Δ₂ in d coordinates: Δ₂·min(√d, Δ₂).
    public static func roundedL1Bound(_ l2: Double, dimension d: Int) -> Double {
        l2 * min(Double(d).squareRoot(), l2)
    }

    /// τ = 10 Σ_{k=1}^{n−1} exp(−2π²σ² k/(k+1)) (paper, Theorem 1); 0 for one summand.
    public static func tau(localVariance s2: Double, summands n: Int) -> Double {
        guard n > 1 else { return 0 }
        var sum = 0.0
        for k in 1..<n {
            let term = exp(-2 * Double.pi * Double.pi * s2 * Double(k) / Double(k + 1))
            if term == 0 { break }  // k/(k+1) grows, so the terms shrink: the rest underflow too
            sum += term
        }
        return 10 * sum
    }

    /// τ for this mechanism.
    public var tau: Double { Self.tau(localVariance: localVariance, summands: summands) }
    /// Δ₂ after rounding, integer domain.
    public var l2Sensitivity: Double { Self.roundedL2Bound(scaledClip, dimension: dimension, beta: beta) }
    /// Δ₁ after rounding, integer domain.
    public var l1Sensitivity: Double {
        refineL1 ? Self.roundedL1Bound(l2Sensitivity, dimension: dimension) : l2Sensitivity * Double(dimension).squareRoot()
    }
    /// The std the summed noise is accounted at, z·c/γ (= √n·σ when n clients each add σ²).
    public var centralStandardDeviation: Double { noiseMultiplier * scaledClip }

    /// RDP of one unsampled release at order α > 1 (paper, Proposition 14 / Eq. 17):
    /// min{ α/2·s₂² + τd, α/2·(s₂² + 2s₁τ + τ²d), α/2·(s₂ + √d·τ)² } with s_p = Δ_p / (z·c/γ).
    public func rdp(order alpha: Double) -> Double {
        let sd = centralStandardDeviation
        let s2 = l2Sensitivity / sd, s1 = l1Sensitivity / sd
        let t = tau, d = Double(dimension)
        let a = alpha / 2
        let term1 = a * s2 * s2 + t * d
        let term2 = a * (s2 * s2 + 2 * s1 * t + t * t * d)
        let term3 = a * (s2 + d.squareRoot() * t) * (s2 + d.squareRoot() * t)
        return min(term1, term2, term3)
    }

    /// RDP of one release with Poisson sampling at rate q, at each integer order: the minimum of
    /// the unsampled RDP and Zhu & Wang's upper bound (ICML 2019, Theorem 5),
    /// (α−1)⁻¹ log[ (1−q)^{α−1}(αq − q + 1) + C(α,2)q²(1−q)^{α−2} e^{ε(2)}
    ///            + 3 Σ_{l=3}^{α} C(α,l) q^l (1−q)^{α−l} e^{(l−1)ε(l)} ].
    public func rdp(orders: [Double] = DistributedDiscreteGaussian.orders, samplingRate q: Double) -> [Double] {
        orders.map { alpha in
            let plain = rdp(order: alpha)
            guard q < 1 else { return plain }
            return min(plain, Self.zhuWangPoisson(order: Int(alpha), rate: q, rdp: rdp(order:)))
        }
    }

    /// Zhu & Wang 2019, Theorem 5, in log space, for integer α ≥ 2 and 0 < q < 1.
    static func zhuWangPoisson(order alpha: Int, rate q: Double, rdp eps: (Double) -> Double) -> Double {
        let a = Double(alpha)
        let log1mq = log1p(-q), logq = log(q)
        var terms = [
            (a - 1) * log1mq + log(a * q - q + 1),
            Special.logComb(a, 2) + 2 * logq + (a - 2) * log1mq + eps(2),
        ]
        if alpha >= 3 {
            for l in 3...alpha {
                let dl = Double(l)
                terms.append(log(3) + (dl - 1) * eps(dl) + Special.logComb(a, dl) + (a - dl) * log1mq + dl * logq)
            }
        }
        let total = terms.reduce(-Double.infinity) { Special.logAdd($0, $1) }
        return total / (a - 1)
    }

    /// ε(δ) after each of `rounds` releases with Poisson rate q (q = 1: everyone), RDP summed over
    /// rounds and converted as `RDPAccountant.epsilon` (Canonne, Kamath & Steinke 2020, Prop. 12).
    public func epsilonPerRound(samplingRate q: Double, rounds: Int, delta: Double) throws -> [Double] {
        try validateDelta(delta)
        guard q > 0, q <= 1 else { throw PrivacyError.invalidParameter("the sampling rate must be in (0, 1], got \(q)") }
        let per = rdp(samplingRate: q)
        return (0..<max(rounds, 0)).map { r in
            RDPAccountant.epsilon(orders: Self.orders, rdp: per.map { $0 * Double(r + 1) }, delta: delta).epsilon
        }
    }

    /// The smallest noise multiplier z (to 1e-4 relative) whose mechanism, built by `make(z)`,
    /// spends at most `targetEpsilon` after `rounds` releases at rate q; bisection, as
    /// `NoiseCalibrator` does for the continuous Gaussian.
    public static func calibrate(
        targetEpsilon: Double, delta: Double, samplingRate q: Double, rounds: Int,
        make: (Double) throws -> DistributedDiscreteGaussian
    ) throws -> Double {
        guard targetEpsilon > 0, targetEpsilon.isFinite else {
            throw PrivacyError.invalidParameter("the target ε must be > 0, got \(targetEpsilon)")
        }
        func eps(_ z: Double) throws -> Double {
            try make(z).epsilonPerRound(samplingRate: q, rounds: rounds, delta: delta).last ?? 0
        }
        var lo = 0.05, hi = 1.0
        while try eps(hi) > targetEpsilon {
            lo = hi
            hi *= 2
            guard hi < 1e4 else { throw PrivacyError.invalidParameter("no noise multiplier below 1e4 reaches ε = \(targetEpsilon)") }
        }
        while hi - lo > 1e-4 * hi {
            let mid = (lo + hi) / 2
            if try eps(mid) > targetEpsilon { lo = mid } else { hi = mid }
        }
        return hi
    }
}
