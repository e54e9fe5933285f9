import Foundation
import MurmurPrivacy

/// Differential-privacy settings of a simulation (`murmur simulate --dp …`).
/// Why: one value holds what the user asked for; `plan` turns it into noise, sampling and budget.
public struct DPConfig: Sendable, Codable, Equatable {
    /// How clients are sampled each round; the accountant assumes exactly this.
    public enum ClientSampling: String, Sendable, Codable, CaseIterable {
        /// Each client independently with probability q = fraction (accounted as Poisson-subsampled).
        case poisson
        /// Exactly m = round(fraction·N) clients uniformly without replacement (RDP accountant only).
        case fixed
    }

    public var mode: DPMode = .central
    /// The clip norm C (the initial one when `adaptiveClipping`).
    public var clipNorm: Double = 1
    /// Adapt C to the `targetQuantile` of update norms (Andrew et al. 2021).
    public var adaptiveClipping = false
    public var targetQuantile = 0.5
    public var clipLearningRate = 0.2
    /// σ of the update noise; exactly one of this and `targetEpsilon` is set.
    public var noiseMultiplier: Double? = nil
    /// The ε to reach after all rounds; σ is then calibrated.
    public var targetEpsilon: Double? = nil
    public var delta: Double = 1e-5
    public var accountant: AccountantKind = .rdp
    public var sampling: ClientSampling = .poisson
    /// The simulator draws seeded noise (reproducible) unless told otherwise.
    public var noise: NoiseSourceKind = .seeded

    public init() {}

    /// Rejects inconsistent or out-of-range settings with a message naming the flag.
    public func validate() throws {
        func bad(_ m: String) -> FLError { .invalidConfiguration(m) }
        guard (noiseMultiplier == nil) != (targetEpsilon == nil) else {
            throw bad("with --dp give exactly one of --noise σ and --target-epsilon ε")
        }
        if let s = noiseMultiplier { guard s > 0, s.isFinite else { throw bad("--noise must be > 0, got \(s)") } }
        if let e = targetEpsilon { guard e > 0, e.isFinite else { throw bad("--target-epsilon must be > 0, got \(e)") } }
        guard delta > 0, delta < 1 else { throw bad("--delta must be in (0, 1), got \(delta)") }
        guard clipNorm > 0, clipNorm.isFinite else { throw bad("--clip must be > 0 or 'adaptive', got \(clipNorm)") }
        if adaptiveClipping && mode == .local {
            throw bad("adaptive clipping estimates the norm quantile at the aggregator, which local DP does not trust; use --dp central or a fixed --clip")
        }
        if sampling == .fixed && accountant == .pld && mode == .central {
            throw bad("the PLD accountant covers Poisson sampling; use --accountant rdp with fixed-size sampling")
        }
    }

    /// The client selection the accountant's assumption requires.
    public func selection(clients: Int, fraction: Double) -> ClientSelection {
        switch sampling {
        case .poisson: return .poisson(fraction)
        case .fixed: return .count(max(1, Int((fraction * Double(clients)).rounded())))
        }
    }

    /// Resolves noise, sampling and the per-round budget for N clients, `fraction`, `rounds`.
    public func plan(clients: Int, fraction: Double, rounds: Int) throws -> DPPlan {
        try validate()
        let m = max(1, Int((fraction * Double(clients)).rounded()))
        let denominator = sampling == .poisson ? fraction * Double(clients) : Double(m)
        let scheme: SamplingScheme
        switch (mode, sampling) {
        case (.local, _): scheme = .full  // each report is seen by the server: no amplification
        case (.central, .poisson): scheme = fraction >= 1 ? .full : .poisson(rate: fraction)
        case (.central, .fixed): scheme = m >= clients ? .full : .withoutReplacement(sampleSize: m, populationSize: clients)
        }
        let countStd = denominator / 20  // Andrew et al. 2021 default σ_b = expected clients / 20
        let adaptive = adaptiveClipping
            ? AdaptiveClipping(initialClipNorm: clipNorm, targetQuantile: targetQuantile, learningRate: clipLearningRate, countNoiseStd: countStd)
            : nil
        var update: Double, effective: Double
        do {
            if let z = noiseMultiplier {
                update = z
                effective = adaptive?.effectiveNoiseMultiplier(updateNoiseMultiplier: z) ?? z
            } else {
                let target = targetEpsilon ?? 1
                effective = try NoiseCalibrator(accountant: accountant).noiseMultiplier(
                    targetEpsilon: target, delta: delta, sampling: scheme, rounds: rounds)
                update = effective
                if adaptive != nil {
                    let rest = 1 / (effective * effective) - 1 / (4 * countStd * countStd)
                    guard rest > 0 else {
                        throw FLError.invalidConfiguration(
                            "--target-epsilon \(target) needs σ = \(effective), more than the clipped-count noise allows with \(denominator) expected clients; use more clients per round or a fixed --clip")
                    }
                    update = 1 / rest.squareRoot()
                }
            }
            let event = GaussianEvent(noiseMultiplier: effective, sampling: scheme)
            let epsilons = try PrivacyLedger.epsilonPerRound(event, rounds: rounds, delta: delta, accountant: accountant)
            return DPPlan(updateNoiseMultiplier: update, effectiveNoiseMultiplier: effective, sampling: scheme,
                          denominator: denominator, adaptive: adaptive, epsilons: epsilons)
        } catch let e as PrivacyError {
            throw FLError.invalidConfiguration(e.description)
        }
    }
}

/// A resolved DP configuration: the noise to add, the fixed denominator, and ε after each round.
public struct DPPlan: Sendable, Equatable {
    /// σ of the update-sum noise.
    public var updateNoiseMultiplier: Double
    /// σ the accountant sees (lower than `updateNoiseMultiplier` with adaptive clipping).
    public var effectiveNoiseMultiplier: Double
    /// The sampling the accountant assumed.
    public var sampling: SamplingScheme
    /// The fixed denominator D of DP-FedAvg.
    public var denominator: Double
    public var adaptive: AdaptiveClipping?
    /// ε(δ) after each round, index 0 = round 1.
    public var epsilons: [Double]
}
