import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurPrivacy

@Suite(.ownThreads) struct AccountantTests {
    /// Φ⁻¹ known values (Abramowitz & Stegun table 26.1; SciPy 1.17 ndtri(0.5·e^−50) and log_ndtr(−40)).
    @Test func normalQuantile() {
        #expect(abs(Special.ndtri(0.975) - 1.959963984540054) < 1e-12)
        #expect(abs(Special.ndtri(0.5)) < 1e-15)
        #expect(abs(Special.ndtri(0.5 * exp(-50.0)) - (-9.745474864965935)) < 1e-9)
        #expect(abs(Special.logNdtr(-40) - (-804.6084420137538)) < 1e-9)
    }

    /// Full participation has the closed form RDP(α) = Tα/(2σ²) (Mironov 2017, Prop. 7).
    @Test func fullParticipationRDPIsClosedForm() throws {
        var acc = RDPAccountant()
        try acc.compose(GaussianEvent(noiseMultiplier: 2, sampling: .full, count: 10))
        for (a, r) in zip(acc.orders, acc.rdp) { #expect(abs(r - 10 * a / 8) < 1e-12) }
    }

    static func eps(_ s: Double, _ q: Double, _ kind: AccountantKind) throws -> Double {
        var acc = kind.make()
        try acc.compose(GaussianEvent(noiseMultiplier: s, sampling: q < 1 ? .poisson(rate: q) : .full, count: 100))
        return try acc.epsilon(delta: 1e-5)
    }

    @Test func subsamplingAndNoiseReduceEpsilon() async throws {
        try await onOwnThreads {
            for kind in AccountantKind.allCases {
                let base = try Self.eps(1, 0.1, kind)
                let subsampled = try Self.eps(1, 0.01, kind), noisier = try Self.eps(2, 0.1, kind)
                #expect(subsampled < base)
                #expect(noisier < base)
            }
            let pld = try Self.eps(1, 0.05, .pld), rdp = try Self.eps(1, 0.05, .rdp)
            #expect(pld < rdp)  // PLD is tighter
        }
    }

    @Test func deltaOfEpsilonInvertsEpsilonOfDelta() throws {
        for kind in AccountantKind.allCases {
            var acc = kind.make()
            try acc.compose(GaussianEvent(noiseMultiplier: 1.2, sampling: .poisson(rate: 0.05), count: 200))
            let e = try acc.epsilon(delta: 1e-5)
            let d = try acc.delta(epsilon: e)
            #expect(d <= 1.0001e-5 && d > 0.5e-5, "\(kind): δ(ε(1e-5)) = \(d)")
        }
    }

    @Test func effectiveNoiseMultiplierCombinesQueries() {
        #expect(abs(GaussianEvent.effectiveNoiseMultiplier([1, 1]) - 1 / 2.0.squareRoot()) < 1e-15)
    }

    @Test func invalidParametersThrow() {
        var acc = RDPAccountant()
        #expect(throws: PrivacyError.self) { try acc.compose(GaussianEvent(noiseMultiplier: 0, sampling: .full)) }
        #expect(throws: PrivacyError.self) { try acc.compose(GaussianEvent(noiseMultiplier: 1, sampling: .poisson(rate: 1.5))) }
        #expect(throws: PrivacyError.self) { try acc.epsilon(delta: 0) }
        var pld = PLDAccountant()
        #expect(throws: PrivacyError.self) {
            try pld.compose(GaussianEvent(noiseMultiplier: 1, sampling: .withoutReplacement(sampleSize: 1, populationSize: 10)))
        }
        #expect(throws: PrivacyError.self) {
            try NoiseCalibrator(bounds: 0.05...10).noiseMultiplier(targetEpsilon: 0.001, delta: 1e-5, sampling: .full, rounds: 1000)
        }
    }

    @Test func calibratorFindsSmallestSigma() throws {
        let c = NoiseCalibrator()
        let s = try c.noiseMultiplier(targetEpsilon: 3, delta: 1e-5, sampling: .poisson(rate: 0.02), rounds: 500)
        #expect(try c.epsilon(noiseMultiplier: s, sampling: .poisson(rate: 0.02), rounds: 500, delta: 1e-5) <= 3)
        #expect(try c.epsilon(noiseMultiplier: s * 0.999, sampling: .poisson(rate: 0.02), rounds: 500, delta: 1e-5) > 3)
    }

    @Test func clippingBoundsNorm() {
        var v: [Float] = [3, 4]
        #expect(clipToNorm(&v, maxNorm: 1) == 5)
        #expect(abs(v[0] - 0.6) < 1e-6 && abs(v[1] - 0.8) < 1e-6)
        var small: [Float] = [0.1, 0]
        clipToNorm(&small, maxNorm: 1)
        #expect(small == [0.1, 0])
    }
}
