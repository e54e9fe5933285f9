/// A reproducible random number generator: xoshiro256** (Blackman & Vigna, 2018) seeded through
/// SplitMix64, so every run of Murmur is a pure function of its `--seed`.
///
/// xoshiro256** passes BigCrush, has a 2^256 − 1 period and costs a few cycles per draw. It is
/// *not* cryptographically secure: use it for simulation, sampling and initialisation, never for
/// keys or for privacy noise in real deployments.
public struct SeededRNG: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64

    /// Creates a generator whose whole output stream is determined by `seed`.
    public init(seed: UInt64) {
        var sm = SplitMix64(state: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    /// A generator for an independent sub-stream, e.g. one per client and round.
    ///
    /// The child is seeded from `(seed, stream...)` through SplitMix64 mixing, so streams for
    /// different labels do not overlap in practice and do not depend on how many numbers the
    /// parent has drawn.
    public init(seed: UInt64, stream labels: UInt64...) {
        var root = SplitMix64(state: seed)
        var h = root.next()
        for label in labels {
            var m = SplitMix64(state: h ^ (label &* 0x9E37_79B9_7F4A_7C15))
            h = m.next()
        }
        self.init(seed: h)
    }

    /// The next 64 random bits (xoshiro256** step).
    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @usableFromInline
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Float in [0, 1) with 24 bits of precision.
    @inlinable
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A uniform Double in [0, 1) with 53 bits of precision.
    @inlinable
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal draw (Box–Muller transform on two uniform doubles).
    public mutating func nextGaussian() -> Double {
        var u1 = nextDouble()
        while u1 <= Double.leastNormalMagnitude { u1 = nextDouble() }
        let u2 = nextDouble()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// A Gamma(shape, 1) draw (Marsaglia & Tsang 2000), used for Dirichlet sampling.
    public mutating func nextGamma(shape: Double) -> Double {
        precondition(shape > 0, "Gamma shape must be positive")  // programmer error
        if shape < 1 {
            // Boost: Gamma(a) = Gamma(a + 1) · U^(1/a).
            let u = max(nextDouble(), Double.leastNormalMagnitude)
            return nextGamma(shape: shape + 1) * _pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0
            var v = 0.0
            repeat {
                x = nextGaussian()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextDouble()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if _log(u) < 0.5 * x * x + d * (1 - v + _log(v)) { return d * v }
        }
    }

    /// A draw from the Dirichlet distribution with all concentrations equal to `alpha`.
    public mutating func nextDirichlet(alpha: Double, count: Int) -> [Double] {
        var g = (0..<count).map { _ in nextGamma(shape: alpha) }
        let sum = g.reduce(0, +)
        if sum <= 0 {
            // All draws underflowed (tiny alpha): put all mass on one random component.
            g = [Double](repeating: 0, count: count)
            g[Int(next() % UInt64(count))] = 1
            return g
        }
        return g.map { $0 / sum }
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): expands one 64-bit seed into well-mixed state words.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _log(_ x: Double) -> Double { Glibc.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
@usableFromInline func _pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#elseif canImport(Darwin)
import Darwin
@usableFromInline func _log(_ x: Double) -> Double { Darwin.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Darwin.cos(x) }
@usableFromInline func _pow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
#else
import Foundation
@usableFromInline func _log(_ x: Double) -> Double { Foundation.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Foundation.cos(x) }
@usableFromInline func _pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
#endif
