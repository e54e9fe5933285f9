import Foundation

/// Adaptive clipping norm by private quantile estimation (Andrew, Thakkar, McMahan &
/// Ramaswamy 2021, Alg. 1): each round the clip norm C moves geometrically towards the
/// γ-quantile of the clients' update norms, C ← C·exp(−η·(b̄ − γ)), where b̄ is the noised
/// fraction of clients whose update norm was ≤ C. Why: a good fixed C is hard to guess.
///
/// Privacy: the centred count Σ (1[‖Δₖ‖ ≤ C] − ½) has sensitivity ½ and gets N(0, σ_b²) noise. With the
/// update noise multiplier z, the round is the Gaussian mechanism with effective multiplier
/// (z⁻² + (2σ_b)⁻²)^(−1/2) (Andrew et al. 2021, Thm 1), which is what we account.
public struct AdaptiveClipping: Sendable, Equatable, Codable {
    /// The current clip norm C.
    public var clipNorm: Double
    /// Target quantile γ of update norms (0.5 = median).
    public var targetQuantile: Double
    /// Geometric learning rate η_C.
    public var learningRate: Double
    /// Noise std σ_b on the clipped-count query (in units of count).
    public var countNoiseStd: Double

    /// A fresh estimator; the defaults are the paper's (γ = 0.5, η = 0.2, σ_b = expected clients/20).
    public init(initialClipNorm: Double, targetQuantile: Double = 0.5, learningRate: Double = 0.2, countNoiseStd: Double) {
        self.clipNorm = initialClipNorm
        self.targetQuantile = targetQuantile
        self.learningRate = learningRate
        self.countNoiseStd = countNoiseStd
    }

    /// The effective noise multiplier of one round when updates use multiplier `z` (Thm 1).
    public func effectiveNoiseMultiplier(updateNoiseMultiplier z: Double) -> Double {
        GaussianEvent.effectiveNoiseMultiplier([z, 2 * countNoiseStd])
    }

    /// Updates C from the round's norms; `expectedClients` is the fixed denominator (qN).
    public mutating func update<N: GaussianNoiseSource>(norms: [Double], expectedClients: Double, noise: inout N) {
        // Centred bits bₖ − ½ have sensitivity ½, hence the factor 2 in the effective multiplier.
        let centred = norms.reduce(0.0) { $0 + ($1 <= clipNorm ? 0.5 : -0.5) }
        let fraction = (centred + countNoiseStd * noise.next()) / expectedClients + 0.5
        clipNorm *= exp(-learningRate * (fraction - targetQuantile))
    }

    /// Checks C > 0, γ ∈ [0, 1], η ≥ 0, σ_b > 0.
    public func validate() throws {
        guard clipNorm > 0, clipNorm.isFinite else { throw PrivacyError.invalidParameter("the clip norm must be > 0, got \(clipNorm)") }
        guard targetQuantile >= 0, targetQuantile <= 1 else { throw PrivacyError.invalidParameter("the target quantile must be in [0, 1], got \(targetQuantile)") }
        guard learningRate >= 0 else { throw PrivacyError.invalidParameter("the clip learning rate must be ≥ 0, got \(learningRate)") }
        guard countNoiseStd > 0 else { throw PrivacyError.invalidParameter("the clipped-count noise must be > 0, got \(countNoiseStd)") }
    }
}
