import Foundation
import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurPrivacy

/// The exact discrete Gaussian sampler (Canonne, Kamath & Steinke 2020) against its exact pmf.
@Suite(.ownThreads) struct DiscreteGaussianTests {
    /// Mean 0 and variance equal to the exact variance Σ x²·P[x] (≈ σ² for σ ≥ 1), within 5
    /// standard errors over 100 000 draws, for integer and fractional σ².
    @Test(arguments: [(UInt64(1), UInt64(1)), (9, 4), (100, 1), (4096, 1)])
    func meanAndVarianceMatchTheExactDistribution(num: UInt64, den: UInt64) async throws {
        try await onOwnThreads {
            let sampler = try DiscreteGaussianSampler(varianceNumerator: num, denominator: den)
            var rng = SeededRNG(seed: num &* 31 &+ den)
            let count = 100_000
            var sum = 0.0, sumSq = 0.0, sum4 = 0.0
            for _ in 0..<count {
                let x = Double(sampler.sample(using: &rng))
                sum += x
                sumSq += x * x
                sum4 += x * x * x * x
            }
            let mean = sum / Double(count), second = sumSq / Double(count)
            let v = sampler.exactVariance
            #expect(abs(mean) < 5 * (v / Double(count)).squareRoot())
            let secondSE = ((sum4 / Double(count) - second * second) / Double(count)).squareRoot()
            #expect(abs(second - v) < 5 * secondSE)
            if num / den >= 1 { #expect(abs(v - sampler.variance) < 1e-6 * sampler.variance) }
        }
    }

    /// Pearson χ² of 200 000 draws with σ² = 9/4 over the cells −6…6 and the two tails, against
    /// the exact pmf: 14 cells, 13 degrees of freedom; 34.5 is the 0.1 % critical value.
    @Test func chiSquareAgainstTheExactPMF() throws {
        let sampler = try DiscreteGaussianSampler(varianceNumerator: 9, denominator: 4)
        var rng = SeededRNG(seed: 2020)
        let count = 200_000
        var cells = [Int](repeating: 0, count: 15)  // index 0: ≤ −7, 1…13: −6…6, 14: ≥ 7
        for _ in 0..<count {
            let x = sampler.sample(using: &rng)
            cells[Int(min(max(x, -7), 7) + 7)] += 1
        }
        var expected = (-6...6).map { sampler.probability(Int64($0)) }
        let tail = (1 - expected.reduce(0, +)) / 2
        expected = [tail] + expected + [tail]
        // Merge the two tails into one cell (each has p ≈ 2e-5, too small for χ² on its own).
        let observed = [cells[0] + cells[14]] + Array(cells[1...13])
        let probs = [2 * tail] + Array(expected[1...13])
        let chi2 = zip(observed, probs).reduce(0.0) { acc, c in
            let e = Double(count) * c.1
            return acc + (Double(c.0) - e) * (Double(c.0) - e) / e
        }
        #expect(chi2 < 34.5)
        #expect(abs(probs.reduce(0, +) - 1) < 1e-12)
    }

    /// Bernoulli(exp(−γ)) for γ below and above 1 (CKS Algorithm 1), within 5 standard errors.
    @Test(arguments: [(UInt64(1), UInt64(2)), (23, 230), (3, 4)])
    func bernoulliExpMinusHasTheRightRate(x: UInt64, den: UInt64) {
        // γ = x²/den
        var rng = SeededRNG(seed: x * 7 + den)
        let n = 200_000
        var hits = 0
        for _ in 0..<n where DiscreteGaussianSampler.bernoulliExpMinus(numeratorSquareRoot: x, denominator: den, using: &rng) {
            hits += 1
        }
        let p = exp(-Double(x * x) / Double(den))
        #expect(abs(Double(hits) / Double(n) - p) < 5 * (p * (1 - p) / Double(n)).squareRoot() + 1e-9)
    }

    /// The discrete Laplace proposal: P[Y = 0] = (1 − e^{−1/t})/(1 + e^{−1/t}) (CKS Algorithm 2).
    @Test func discreteLaplaceHasTheRightMassAtZero() {
        var rng = SeededRNG(seed: 5)
        let n = 200_000
        var zeros = 0
        for _ in 0..<n where DiscreteGaussianSampler.discreteLaplace(scale: 2, using: &rng) == 0 { zeros += 1 }
        let r = exp(-0.5)
        let p = (1 - r) / (1 + r)
        #expect(abs(Double(zeros) / Double(n) - p) < 5 * (p * (1 - p) / Double(n)).squareRoot())
    }

    @Test func rejectsZeroAndTooLargeVariances() {
        #expect(throws: PrivacyError.self) { try DiscreteGaussianSampler(varianceNumerator: 0) }
        #expect(throws: PrivacyError.self) { try DiscreteGaussianSampler(varianceNumerator: 1, denominator: 0) }
        #expect(throws: PrivacyError.self) { try DiscreteGaussianSampler(varianceNumerator: 1 << 40) }
        #expect(throws: Never.self) { try DiscreteGaussianSampler(varianceNumerator: 1 << 26) }
    }

    /// t = ⌊σ⌋ + 1 computed exactly, including perfect squares and fractions.
    @Test func proposalScaleIsFloorSigmaPlusOne() throws {
        #expect(try DiscreteGaussianSampler(varianceNumerator: 1).t == 2)
        #expect(try DiscreteGaussianSampler(varianceNumerator: 99).t == 10)
        #expect(try DiscreteGaussianSampler(varianceNumerator: 100).t == 11)
        #expect(try DiscreteGaussianSampler(varianceNumerator: 9, denominator: 4).t == 2)
        #expect(try DiscreteGaussianSampler(varianceNumerator: 1, denominator: 5).t == 1)
    }
}
