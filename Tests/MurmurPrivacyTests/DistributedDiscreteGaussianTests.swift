import Foundation
import MurmurTestSupport
import Testing

@testable import MurmurPrivacy

/// The DDG accountant (Kairouz, Liu & Steinke, ICML 2021) against hand-worked values and the
/// continuous Gaussian it approaches.
@Suite(.ownThreads) struct DistributedDiscreteGaussianTests {
    /// Hand-worked: n = 2 clients with σ² = 1, d = 1, clip c = 1, β = 0 (unconditional rounding).
    /// Δ₂ = c + √d = 2, Δ₁ = Δ₂·min(√d, Δ₂) = 2, central std √(nσ²) = √2 (z = √2), so
    /// s₂ = s₁ = √2; τ = 10·exp(−2π²·1·½) = 10e^{−π²}. At α = 2: term 1 = s₂² + τd = 2 + τ,
    /// terms 2 and 3 = 2 + 2√2τ + τ², so RDP(2) = 2 + 10e^{−π²} = 2.0005172318620383.
    @Test func handWorkedTwoClientExample() throws {
        let m = try DistributedDiscreteGaussian(
            scaledClip: 1, noiseMultiplier: 2.0.squareRoot(), dimension: 1, localVariance: 1, summands: 2, beta: 0)
        #expect(m.l2Sensitivity == 2)
        #expect(m.l1Sensitivity == 2)
        #expect(abs(m.tau - 5.172318620383e-4) < 1e-15)
        #expect(abs(m.rdp(order: 2) - 2.0005172318620383) < 1e-12)
        // α = 3: term 1 = 3 + τ (3/2·2 + τ) is still the smallest.
        #expect(abs(m.rdp(order: 3) - (3 + 10 * exp(-Double.pi * Double.pi))) < 1e-12)
    }

    /// Conditional rounding bound, hand-worked: c = 10, d = 4, β = e^{−1/2} so √(2 ln 1/β) = 1:
    /// min(10 + 2, √(100 + 1 + 1·(10 + 1))) = √112.
    @Test func roundedNormBound() {
        let b = DistributedDiscreteGaussian.roundedL2Bound(10, dimension: 4, beta: exp(-0.5))
        #expect(abs(b - 112.0.squareRoot()) < 1e-12)
        #expect(DistributedDiscreteGaussian.roundedL2Bound(10, dimension: 4, beta: 0) == 12)
        #expect(DistributedDiscreteGaussian.roundedL1Bound(3, dimension: 100) == 9)
        #expect(DistributedDiscreteGaussian.roundedL1Bound(30, dimension: 100) == 300)
    }

    /// τ: no correction for one summand; it vanishes (underflows) for σ² ≥ 100.
    @Test func tauLimits() {
        #expect(DistributedDiscreteGaussian.tau(localVariance: 1, summands: 1) == 0)
        #expect(DistributedDiscreteGaussian.tau(localVariance: 100, summands: 1000) == 0)
        let t3 = DistributedDiscreteGaussian.tau(localVariance: 0.25, summands: 3)
        let pi2 = Double.pi * Double.pi
        #expect(abs(t3 - 10 * (exp(-2 * pi2 * 0.25 / 2) + exp(-2 * pi2 * 0.25 * 2 / 3))) < 1e-15)
    }

    /// With large integer scale (negligible rounding inflation) and τ = 0 the unsampled RDP is the
    /// Gaussian's α/(2z²), and the Poisson-subsampled bound lies between the exact sampled
    /// Gaussian (Mironov et al. 2019) and the unsampled value.
    @Test func approachesTheContinuousGaussian() throws {
        let z = 1.1
        let m = try DistributedDiscreteGaussian(scaledClip: 1e7, noiseMultiplier: z, dimension: 1000, localVariance: 1e12, summands: 10)
        #expect(m.tau == 0)
        for alpha in [2.0, 8, 32] {
            #expect(abs(m.rdp(order: alpha) / (alpha / (2 * z * z)) - 1) < 1e-6)
        }
        let q = 0.05
        let sampled = m.rdp(orders: [2, 8, 32], samplingRate: q)
        for (i, alpha) in [2.0, 8, 32].enumerated() {
            let exact = RDPAccountant.poissonSubsampledGaussian(q: q, sigma: z, alpha: alpha)
            #expect(sampled[i] >= exact * (1 - 1e-6))
            #expect(sampled[i] <= alpha / (2 * z * z))
        }
        #expect(sampled[0] < 0.5 * (2 / (2 * z * z)))  // amplification does something at q = 0.05
    }

    /// Calibration returns the smallest z (to 1e-4) whose ε is ≤ the target.
    @Test func calibrationHitsTheTarget() throws {
        let make = { (z: Double) in
            try DistributedDiscreteGaussian(scaledClip: 4096 / z, noiseMultiplier: z, dimension: 10_000, localVariance: 4096 * 4096, summands: 20)
        }
        let z = try DistributedDiscreteGaussian.calibrate(targetEpsilon: 8, delta: 1e-5, samplingRate: 0.2, rounds: 30, make: make)
        let at = try make(z).epsilonPerRound(samplingRate: 0.2, rounds: 30, delta: 1e-5)
        #expect(at.count == 30)
        #expect(at.last! <= 8)
        #expect(at.last! > 7.99)
        #expect(try make(z * 0.999).epsilonPerRound(samplingRate: 0.2, rounds: 30, delta: 1e-5).last! > 8)
        #expect(zip(at, at.dropFirst()).allSatisfy { $0 <= $1 })
    }
}
