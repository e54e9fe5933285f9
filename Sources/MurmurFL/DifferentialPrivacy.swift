import MurmurPrivacy
import MurmurTensor
import Synchronization

/// Where the Gaussian noise of DP-FedAvg is added, and so whom the guarantee protects against.
public enum DPMode: String, Sendable, Codable, CaseIterable {
    /// Central DP: the (trusted) aggregator adds N(0, (σC)²) once to the sum of clipped updates;
    /// the released models are (ε, δ)-DP with respect to any one client's data.
    case central
    /// Local DP: every client adds N(0, (σC)²) to its own clipped update before sending it; each
    /// report is DP even against the aggregator, at the price of √(clients) times more total noise.
    case local
}

/// DP-FedAvg (McMahan, Ramage, Talwar & Zhang 2018, "Learning Differentially Private Recurrent
/// Language Models", Alg. 1) as a wrapper around any `Strategy`: it replaces `combine` with
///
///     Δ̄ = ( Σₖ clip(Δₖ, C) + N(0, σ²C²·I) ) / D
///
/// and keeps the wrapped strategy's `configureFit` and `applyServerUpdate`, so it composes with
/// FedAvgM/FedAdam/FedYogi/… (the server optimizer only post-processes a DP release).
///
/// - Uniform client weights and the fixed denominator D = qN (the expected number of sampled
///   clients) are what make the sensitivity C regardless of who was sampled: the sample-weighted
///   mean of FedAvg would let one client's sample count change every weight (McMahan et al.
///   2018, estimator f̃_f). With fixed-size sampling D = m, with full participation D = N.
/// - Clipping is fixed (C) or adaptive (Andrew et al. 2021, `AdaptiveClipping`).
/// - Noise: `SecureGaussianNoise` (OS CSPRNG) for real runs, `SeededGaussianNoise(seed, round)`
///   in seeded simulations and tests.
public struct DifferentialPrivacy: WrappingStrategy {
    /// The wrapped strategy (its `combine` is not used).
    public var base: any Strategy
    /// Central or local noise.
    public let mode: DPMode
    /// Noise multiplier σ of the update sum (noise std = σ·C).
    public let noiseMultiplier: Double
    /// The fixed denominator D (expected number of sampled clients).
    public let denominator: Double
    /// Model size (an empty round still releases noise of this size).
    public let parameterCount: Int
    /// Which noise source to draw from, and the seed for `.seeded`.
    public let noise: NoiseSourceKind
    public let seed: UInt64
    let state: DPRoundState

    /// Wraps `base`. `clipping` is the fixed norm C, or the adaptive estimator to start from.
    public init(
        base: any Strategy, mode: DPMode, noiseMultiplier: Double, clipNorm: Double, adaptive: AdaptiveClipping? = nil,
        denominator: Double, parameterCount: Int, noise: NoiseSourceKind = .secure, seed: UInt64 = 0
    ) throws {
        guard noiseMultiplier >= 0, noiseMultiplier.isFinite else {
            throw FLError.invalidConfiguration("the noise multiplier must be ≥ 0, got \(noiseMultiplier)")
        }
        guard clipNorm > 0, clipNorm.isFinite else { throw FLError.invalidConfiguration("--clip must be > 0, got \(clipNorm)") }
        guard denominator > 0 else { throw FLError.invalidConfiguration("the expected number of clients per round must be > 0") }
        if let adaptive { try adaptive.validate() }
        self.base = base
        self.mode = mode
        self.noiseMultiplier = noiseMultiplier
        self.denominator = denominator
        self.parameterCount = parameterCount
        self.noise = noise
        self.seed = seed
        self.state = DPRoundState(clipNorm: adaptive?.clipNorm ?? clipNorm, adaptive: adaptive)
    }

    public var name: String { "dp-\(base.name)" }

    /// The clip norm the next round will use.
    public var currentClipNorm: Double { state.snapshot().clipNorm }

    public func combine(_ results: [FitResult]) throws -> [Float] {
        let (round, clip) = state.snapshot()
        let d = results.first?.delta.count ?? parameterCount
        var sum = [Float](repeating: 0, count: d)
        var norms = [Double]()
        var source = makeNoise(round: round)
        let std = noiseMultiplier * clip
        for r in results {
            guard r.delta.count == d else {
                throw FLError.malformedUpdate(client: r.client, reason: "delta has \(r.delta.count) values, expected \(d)")
            }
            var delta = r.delta
            norms.append(clipToNorm(&delta, maxNorm: clip))
            if mode == .local { source.addNoise(to: &delta, standardDeviation: std) }
            Vec.axpy(1, delta, &sum)
        }
        if mode == .central { source.addNoise(to: &sum, standardDeviation: std) }
        Vec.scale(Float(1 / denominator), &sum)
        state.finishCombine(norms: norms, denominator: denominator, noise: &source)
        return sum
    }

    public mutating func applyServerUpdate(_ delta: [Float], to global: inout [Float], round: Int) {
        base.applyServerUpdate(delta, to: &global, round: round)
        state.advance(after: round)
    }

    func makeNoise(round: Int) -> AnyGaussianNoise {
        switch noise {
        case .secure: return AnyGaussianNoise(secure: SecureGaussianNoise())
        case .seeded: return AnyGaussianNoise(seeded: SeededGaussianNoise(seed: seed, round: UInt64(round)))
        }
    }
}

/// One of the two noise sources, without existential boxing in the hot loop.
enum AnyGaussianNoise: GaussianNoiseSource {
    case secure(SecureGaussianNoise)
    case seeded(SeededGaussianNoise)

    init(secure: SecureGaussianNoise) { self = .secure(secure) }
    init(seeded: SeededGaussianNoise) { self = .seeded(seeded) }

    mutating func next() -> Double {
        switch self {
        case .secure(var s):
            let x = s.next()
            self = .secure(s)
            return x
        case .seeded(var s):
            let x = s.next()
            self = .seeded(s)
            return x
        }
    }
}

/// The DP wrapper's mutable state — the round about to be combined and the (adaptive) clip
/// norm — shared by copies of the wrapper. `combine` is non-mutating in `Strategy`, so the
/// clip-norm update after a round lives here, behind a mutex.
final class DPRoundState: Sendable {
    struct Value {
        var round = 1
        var clipNorm: Double
        var adaptive: AdaptiveClipping?
    }
    let value: Mutex<Value>

    init(clipNorm: Double, adaptive: AdaptiveClipping?) {
        value = Mutex(Value(clipNorm: clipNorm, adaptive: adaptive))
    }

    func snapshot() -> (round: Int, clipNorm: Double) {
        value.withLock { ($0.round, $0.clipNorm) }
    }

    func finishCombine(norms: [Double], denominator: Double, noise: inout AnyGaussianNoise) {
        value.withLock { v in
            guard var a = v.adaptive else { return }
            a.update(norms: norms, expectedClients: denominator, noise: &noise)
            v.adaptive = a
            v.clipNorm = a.clipNorm
        }
    }

    func advance(after round: Int) {
        value.withLock { $0.round = round + 1 }
    }
}
