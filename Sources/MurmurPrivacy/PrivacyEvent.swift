/// How the participants of one round (one release of the Gaussian mechanism) are sampled.
/// The accountant's guarantee holds only when the round runner samples exactly this way.
public enum SamplingScheme: Sendable, Equatable, Codable {
    /// Everyone takes part every round (q = 1).
    case full
    /// Each of the N participants joins independently with probability `rate`
    /// (Poisson sampling; neighbouring data sets differ by adding or removing one participant).
    case poisson(rate: Double)
    /// A uniformly random subset of exactly `sampleSize` of `populationSize` participants
    /// (sampling without replacement; neighbours differ by replacing one participant, N public).
    case withoutReplacement(sampleSize: Int, populationSize: Int)

    /// The sampling probability q of one participant.
    public var rate: Double {
        switch self {
        case .full: return 1
        case .poisson(let q): return q
        case .withoutReplacement(let m, let n): return Double(m) / Double(n)
        }
    }

    /// Checks q ∈ (0, 1] and 1 ≤ m ≤ N.
    public func validate() throws {
        switch self {
        case .full: return
        case .poisson(let q):
            guard q > 0, q <= 1, q.isFinite else {
                throw PrivacyError.invalidParameter("the sampling rate must be in (0, 1], got \(q)")
            }
        case .withoutReplacement(let m, let n):
            guard n >= 1, m >= 1, m <= n else {
                throw PrivacyError.invalidParameter("the sample size must be in [1, population size \(n)], got \(m)")
            }
        }
    }
}

/// One kind of privacy-relevant release: the (sub)sampled Gaussian mechanism with noise
/// multiplier σ = noise std / L2 sensitivity, repeated `count` times (one per round).
/// Why: DP-FedAvg's rounds and its adaptive-clipping queries are all of this form (McMahan et al. 2018).
public struct GaussianEvent: Sendable, Equatable, Codable {
    /// Noise standard deviation divided by the L2 sensitivity.
    public var noiseMultiplier: Double
    /// How participants are sampled for each release.
    public var sampling: SamplingScheme
    /// How many times the release is repeated (composed).
    public var count: Int

    /// Creates the event; call `validate()` before accounting.
    public init(noiseMultiplier: Double, sampling: SamplingScheme, count: Int = 1) {
        self.noiseMultiplier = noiseMultiplier
        self.sampling = sampling
        self.count = count
    }

    /// Checks σ > 0, the sampling scheme and count ≥ 0.
    public func validate() throws {
        guard noiseMultiplier > 0, noiseMultiplier.isFinite else {
            throw PrivacyError.invalidParameter("the noise multiplier must be > 0, got \(noiseMultiplier)")
        }
        guard count >= 0 else { throw PrivacyError.invalidParameter("the number of rounds must be ≥ 0, got \(count)") }
        try sampling.validate()
    }

    /// The σ of one Gaussian query equivalent to several Gaussian queries on the same sample:
    /// (Σ σᵢ⁻²)^(−1/2) (Mironov et al. 2019, §3; dp-accounting's effective noise multiplier).
    /// Used to account DP-FedAvg with adaptive clipping, whose clipped-count query shares the sample.
    public static func effectiveNoiseMultiplier(_ sigmas: [Double]) -> Double {
        let s = sigmas.reduce(0) { $0 + 1 / ($1 * $1) }
        return 1 / s.squareRoot()
    }
}

/// An (ε, δ) accountant for composed Gaussian events.
/// Why a protocol: RDP is fast and slightly loose, PLD is tight and slower; callers pick.
public protocol PrivacyAccountant: Sendable {
    /// Adds `event` (its `count` repetitions) to the composition.
    mutating func compose(_ event: GaussianEvent) throws
    /// The smallest ε for which the composition is (ε, δ)-DP.
    func epsilon(delta: Double) throws -> Double
    /// The δ for which the composition is (ε, δ)-DP.
    func delta(epsilon: Double) throws -> Double
}

/// The accountants by name, for the CLI and configs.
public enum AccountantKind: String, Sendable, Codable, CaseIterable {
    case rdp, pld

    /// A fresh accountant of this kind with default settings.
    public func make() -> any PrivacyAccountant {
        switch self {
        case .rdp: return RDPAccountant()
        case .pld: return PLDAccountant()
        }
    }
}

func validateDelta(_ delta: Double) throws {
    guard delta > 0, delta < 1 else { throw PrivacyError.invalidParameter("δ must be in (0, 1), got \(delta)") }
}
