import Foundation
import MurmurCore

/// A source of standard normal draws for the Gaussian mechanism.
/// Why a protocol: real runs need a cryptographically secure source, tests and seeded
/// simulations need reproducible noise; the mechanism code is the same for both.
public protocol GaussianNoiseSource: Sendable {
    /// The next N(0, 1) draw.
    mutating func next() -> Double
}

extension GaussianNoiseSource {
    /// Adds N(0, std²) noise to every coordinate of `values`.
    public mutating func addNoise(to values: inout [Float], standardDeviation std: Double) {
        guard std > 0 else { return }
        for i in values.indices { values[i] += Float(std * next()) }
    }
}

/// N(0, 1) draws from the operating system's CSPRNG (`SystemRandomNumberGenerator`: getrandom
/// on Linux), by the Box–Muller transform on 53-bit uniforms. Use for real deployments.
/// Note: floating-point Gaussian sampling is not a perfect DP sampler (Mironov 2012 shows
/// the analogous Laplace attack); see docs/privacy.md.
public struct SecureGaussianNoise: GaussianNoiseSource {
    var spare: Double?

    /// A new source; it holds no secret state beyond one cached draw.
    public init() {}

    public mutating func next() -> Double {
        if let s = spare { spare = nil; return s }
        var rng = SystemRandomNumberGenerator()
        var u1 = 0.0
        while u1 == 0 { u1 = Double(rng.next() >> 11) * 0x1p-53 }
        let u2 = Double(rng.next() >> 11) * 0x1p-53
        let r = (-2 * log(u1)).squareRoot()
        spare = r * sin(2 * Double.pi * u2)
        return r * cos(2 * Double.pi * u2)
    }
}

/// N(0, 1) draws from `SeededRNG` (xoshiro256**): reproducible, NOT private against anyone who
/// knows the seed. For tests and seeded simulation only.
public struct SeededGaussianNoise: GaussianNoiseSource {
    var rng: SeededRNG

    /// A source for (seed, round): `SeededRNG(seed:stream:)` on a stream reserved for DP noise.
    public init(seed: UInt64, round: UInt64) {
        rng = SeededRNG(seed: seed, stream: 0xD1FF_7A11, round)
    }

    public mutating func next() -> Double { rng.nextGaussian() }
}

/// Which noise source a DP run draws from.
public enum NoiseSourceKind: String, Sendable, Codable, CaseIterable {
    /// `SecureGaussianNoise` (operating-system CSPRNG): not reproducible.
    case secure
    /// `SeededGaussianNoise` derived from the run's seed and the round: reproducible, not private.
    case seeded
}

/// Scales `values` so that its L2 norm is at most `maxNorm`; returns the norm before clipping.
/// DP-FedAvg bounds each client's influence this way (McMahan et al. 2018, Alg. 1 ClipFn).
@discardableResult
public func clipToNorm(_ values: inout [Float], maxNorm: Double) -> Double {
    var sq = 0.0
    for v in values { sq += Double(v) * Double(v) }
    let norm = sq.squareRoot()
    if norm > maxNorm, norm > 0 {
        let s = Float(maxNorm / norm)
        for i in values.indices { values[i] *= s }
    }
    return norm
}
