import Foundation
import MurmurPrivacy

/// A client's side of the distributed discrete Gaussian mechanism for one round: clip, scale,
/// conditional randomized rounding, discrete Gaussian noise, and the map into Z_{2^32} that
/// secure aggregation sums (Kairouz, Liu & Steinke, ICML 2021, Algorithm 1 without the random
/// rotation); the server decodes the sum.
///
/// Units: a real update x with ‖x‖₂ ≤ C becomes the integer vector round(x·S) + N_Z(0, σ²)^d with
/// scale S = √(m·σ²)/(z·C), where m = `noiseShares` is the number of clients whose noise the round
/// must contain and z the noise multiplier. The sum of m clients' noise then has std √m·σ = z·C·S,
/// i.e. z·C in real units, the noise of central DP-FedAvg.
///
/// No random rotation: coordinates are not flattened, so the ring must hold a worst-case
/// coordinate n·(C·S + 1) plus the noise tail. With a 32-bit ring and σ² ≤ 2^26 that fits for the
/// cohort sizes Murmur simulates; the price is 32 bits per coordinate on the wire, which SecAgg+
/// already sends (the paper rotates to use ~16 bits). See docs/privacy.md.
public struct DistributedDiscreteGaussianEncoder: Sendable {
    /// The client clip C (L2, real units).
    public let clipNorm: Double
    /// The noise multiplier z of the summed noise (std z·C).
    public let noiseMultiplier: Double
    /// Each client's integer noise N_Z(0, σ²).
    public let sampler: DiscreteGaussianSampler
    /// m: how many clients' noise shares add up to the full noise.
    public let noiseShares: Int
    /// β of conditional randomized rounding.
    public let beta: Double

    /// An encoder; throws if a value is out of range.
    public init(clipNorm: Double, noiseMultiplier: Double, sampler: DiscreteGaussianSampler, noiseShares: Int,
                beta: Double = DistributedDiscreteGaussian.defaultBeta) throws {
        guard clipNorm > 0, clipNorm.isFinite, noiseMultiplier > 0, noiseMultiplier.isFinite, noiseShares >= 1 else {
            throw FLError.invalidConfiguration("distributed DP needs clip > 0, noise multiplier > 0 and ≥ 1 noise share")
        }
        self.clipNorm = clipNorm
        self.noiseMultiplier = noiseMultiplier
        self.sampler = sampler
        self.noiseShares = noiseShares
        self.beta = beta
    }

    /// S = 1/γ: integer units per real unit.
    public var scale: Double { (Double(noiseShares) * sampler.variance).squareRoot() / (noiseMultiplier * clipNorm) }

    /// The clip in integer units, C·S.
    public var scaledClip: Double { clipNorm * scale }

    /// ‖x̃‖₂ bound enforced by conditional rounding (paper, Proposition 22).
    public func roundedNormBound(dimension d: Int) -> Double {
        DistributedDiscreteGaussian.roundedL2Bound(scaledClip, dimension: d, beta: beta)
    }

    /// Encodes one update: clip to C, scale by S, round each coordinate up with probability equal
    /// to its fractional part, redrawing the whole vector until ‖x̃‖₂ ≤ `roundedNormBound`
    /// (conditional randomized rounding), add N_Z(0, σ²) per coordinate, wrap into Z_{2^32}.
    /// `roundingRNG` may be seeded (rounding protects nothing); `noiseRNG` must be a CSPRNG in real use.
    public func encode<R: RandomNumberGenerator, N: RandomNumberGenerator>(
        _ update: [Float], roundingRNG: inout R, noiseRNG: inout N
    ) -> [UInt32] {
        var x = update
        clipToNorm(&x, maxNorm: clipNorm)
        let s = scale
        let bound = roundedNormBound(dimension: x.count)
        let boundSquared = bound * bound
        var out = [UInt32](repeating: 0, count: x.count)
        while true {
            var norm2 = 0.0
            for i in x.indices {
                let v = Double(x[i]) * s
                let f = v.rounded(.down)
                let r = Double(roundingRNG.next() >> 11) * 0x1p-53 < v - f ? f + 1 : f
                norm2 += r * r
                out[i] = UInt32(bitPattern: Int32(r))
            }
            if norm2 <= boundSquared { break }
        }
        sampler.addNoise(to: &out, using: &noiseRNG)
        return out
    }

    /// The real-valued sum from the ring sum: each word read as a signed 32-bit integer, divided by S.
    /// Exact when no coordinate of the true integer sum left [−2^31, 2^31) (see `ringHeadroom`).
    public func decode(_ sum: [UInt32]) -> [Float] {
        let inv = 1 / scale
        return sum.map { Float(Double(Int32(bitPattern: $0)) * inv) }
    }

    /// log2 of the probability bound that some coordinate of an n-client sum wraps around 2^31
    /// over d coordinates: the signal is at most n·(C·S + 1) per coordinate, and the summed noise is
    /// sub-Gaussian with variance proxy n·σ² (the discrete Gaussian is σ²-sub-Gaussian, Canonne,
    /// Kamath & Steinke 2020, §2: E[e^{tX}] ≤ e^{t²σ²/2}), so P ≤ 2d·exp(−(2^31 − n(CS+1))²/(2nσ²)).
    public func log2WrapProbability(clients n: Int, dimension d: Int) -> Double {
        Self.log2WrapProbability(clients: n, dimension: d, scaledClip: scaledClip, variance: sampler.variance)
    }

    /// As the instance method, for a given scaled clip and σ².
    public static func log2WrapProbability(clients n: Int, dimension d: Int, scaledClip: Double, variance: Double) -> Double {
        let room = 2_147_483_647 - Double(n) * (scaledClip + 1)
        guard room > 0 else { return 0 }
        let lnP = log(2 * Double(d)) - room * room / (2 * Double(n) * variance)
        return min(0, lnP / log(2))
    }
}
