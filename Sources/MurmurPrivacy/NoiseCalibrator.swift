/// Finds the smallest noise multiplier σ whose composed ε(δ) stays within a target, by
/// bracketing then bisection on the monotone map σ ↦ ε (as dp-accounting's mechanism_calibration).
/// Why: users state a privacy budget (ε, δ, rounds, sampling rate), not a noise level.
public struct NoiseCalibrator: Sendable {
    /// The accountant used to evaluate ε.
    public var accountant: AccountantKind
    /// Bisection stops when the bracket is narrower than this (relative to σ).
    public var relativeTolerance: Double
    /// The search range for σ.
    public var bounds: ClosedRange<Double>

    /// A calibrator; the defaults fit federated training (σ between 0.05 and 1000).
    public init(accountant: AccountantKind = .rdp, relativeTolerance: Double = 1e-4, bounds: ClosedRange<Double> = 0.05...1000) {
        self.accountant = accountant
        self.relativeTolerance = relativeTolerance
        self.bounds = bounds
    }

    /// The ε(δ) of `rounds` releases with noise multiplier σ under `sampling`.
    public func epsilon(noiseMultiplier: Double, sampling: SamplingScheme, rounds: Int, delta: Double) throws -> Double {
        var acc = accountant.make()
        try acc.compose(GaussianEvent(noiseMultiplier: noiseMultiplier, sampling: sampling, count: rounds))
        return try acc.epsilon(delta: delta)
    }

    /// The smallest σ (to the tolerance, rounded up) with ε(δ) ≤ `targetEpsilon` after `rounds` rounds.
    /// Throws `.unreachableTarget` when even the upper bound of σ does not reach the target.
    public func noiseMultiplier(targetEpsilon: Double, delta: Double, sampling: SamplingScheme, rounds: Int) throws -> Double {
        guard targetEpsilon > 0, targetEpsilon.isFinite else {
            throw PrivacyError.invalidParameter("the target ε must be a positive number, got \(targetEpsilon)")
        }
        try validateDelta(delta)
        try sampling.validate()
        guard rounds >= 1 else { throw PrivacyError.invalidParameter("the number of rounds must be ≥ 1, got \(rounds)") }
        let eps = { (s: Double) throws -> Double in
            try self.epsilon(noiseMultiplier: s, sampling: sampling, rounds: rounds, delta: delta)
        }
        // Bracket: grow hi geometrically from 1 (or shrink lo) so that ε(hi) ≤ target < ε(lo).
        var hi = min(max(1, bounds.lowerBound), bounds.upperBound)
        while try eps(hi) > targetEpsilon {
            guard hi < bounds.upperBound else {
                throw PrivacyError.unreachableTarget(
                    "no noise multiplier up to \(bounds.upperBound) reaches ε = \(targetEpsilon) at δ = \(delta) after \(rounds) rounds; raise ε or δ, or use fewer rounds or a lower sampling rate")
            }
            hi = min(hi * 2, bounds.upperBound)
        }
        var lo = hi / 2
        while lo > bounds.lowerBound, try eps(lo) <= targetEpsilon {
            hi = lo
            lo = max(lo / 2, bounds.lowerBound)
        }
        if lo <= bounds.lowerBound, try eps(lo) <= targetEpsilon { return lo }
        while (hi - lo) > relativeTolerance * hi {
            let mid = 0.5 * (lo + hi)
            if try eps(mid) <= targetEpsilon { hi = mid } else { lo = mid }
        }
        return hi
    }
}
