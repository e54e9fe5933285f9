import Foundation
import MurmurCore
import MurmurPrivacy
import MurmurSecAgg

/// A resolved distributed-DP configuration: the noise multiplier z calibrated with the DDG
/// accountant, each client's integer noise σ², the fixed denominator D, the dropout policy,
/// and ε after each round.
///
/// Dropout policy: a round with n participants waits for m = `minimumSurvivors(n)` masked inputs
/// (honest clients refuse to unmask below it, so the server cannot release a sum with less
/// noise); each client adds σ²_real = (z·C)²/s with s = `noiseShares(n)` = m − ⌈γn⌉, so any m
/// survivors of which up to ⌈γn⌉ are corrupt still carry the full noise z·C. m is the largest
/// count that at least 99.9 % of rounds reach when each client drops with the configured
/// probability p; with p = γ = 0 the noise is exactly central DP's. The cost: with no dropouts
/// the sum carries n/s times the needed variance.
public struct DistributedDPPlan: Sendable, Equatable {
    /// z: summed-noise std over the clip C.
    public var noiseMultiplier: Double
    /// σ² of each client's N_Z(0, σ²) in integer units (an integer, so the sampler is exact).
    public var localVariance: UInt64
    /// D, the fixed denominator of DP-FedAvg (expected clients per round).
    public var denominator: Double
    /// The Poisson sampling rate the accountant assumed.
    public var samplingRate: Double
    /// Per-client dropout probability the survivor threshold tolerates.
    public var dropoutRate: Double
    /// Fraction of clients assumed corrupt (their noise is not counted).
    public var corruptionRate: Double
    /// log2 of the bound on the probability that any coordinate of any round wraps around 2^31.
    public var log2WrapProbability: Double
    /// ε(δ) after each round, index 0 = round 1 (against observers of the models).
    public var epsilons: [Double]
    /// ε(δ) after all rounds without amplification by sampling (against the server, which sees
    /// who took part).
    public var epsilonWithoutSampling: Double

    /// Calibrates z for `dp.targetEpsilon` (or takes `dp.noiseMultiplier`) over `rounds` rounds of
    /// Poisson rate `fraction` among `clients`, for d-dimensional updates; σ² is the largest power
    /// of 4 ≤ 2^26 whose sums of up to `clients` updates fit the 32-bit ring except with
    /// probability ≤ 2^−40.
    public static func make(
        dp: DPConfig, secagg: SecAggSettings, clients: Int, fraction: Double, rounds: Int, dimension d: Int
    ) throws -> DistributedDPPlan {
        try validate(dp)
        let q = min(max(fraction, 0), 1)
        guard q > 0, clients >= 1, d >= 1, rounds >= 1 else {
            throw FLError.invalidConfiguration("distributed DP needs clients ≥ 1, fraction > 0, rounds ≥ 1 and a non-empty model")
        }
        do {
            // Worst case over rounds: the L2 inflation of rounding is largest at the smallest
            // scaled clip (one noise share), τ at the most summands (all clients).
            func mechanism(_ z: Double, _ variance: Double) throws -> DistributedDiscreteGaussian {
                try DistributedDiscreteGaussian(
                    scaledClip: variance.squareRoot() / z, noiseMultiplier: z, dimension: d, localVariance: variance,
                    summands: clients, refineL1: false)
            }
            let fitting = { (z: Double) -> UInt64 in
                var v: UInt64 = 1 << 26
                while v > 1 {
                    let scaled = (Double(clients) * Double(v)).squareRoot() / z
                    let p = DistributedDiscreteGaussianEncoder.log2WrapProbability(
                        clients: clients, dimension: d * rounds, scaledClip: scaled, variance: Double(v))
                    if p <= -40 { break }
                    v >>= 2
                }
                return v
            }
            var z: Double
            if let target = dp.targetEpsilon {
                // σ² barely moves the bound (it only sets the rounding inflation), so calibrate at 2^26 first.
                z = try DistributedDiscreteGaussian.calibrate(
                    targetEpsilon: target, delta: dp.delta, samplingRate: q, rounds: rounds) { try mechanism($0, Double(1 << 26)) }
                let v = fitting(z)
                if v != 1 << 26 {
                    z = try DistributedDiscreteGaussian.calibrate(
                        targetEpsilon: target, delta: dp.delta, samplingRate: q, rounds: rounds) { try mechanism($0, Double(v)) }
                }
            } else {
                z = dp.noiseMultiplier ?? 1
            }
            let v = fitting(z)
            let wrap = DistributedDiscreteGaussianEncoder.log2WrapProbability(
                clients: clients, dimension: d * rounds, scaledClip: (Double(clients) * Double(v)).squareRoot() / z, variance: Double(v))
            guard wrap <= -40 else {
                throw FLError.invalidConfiguration(
                    "distributed DP: sums of \(clients) updates do not fit a 32-bit ring at noise multiplier \(z); use fewer clients or more noise")
            }
            let m = try mechanism(z, Double(v))
            let epsilons = try m.epsilonPerRound(samplingRate: q, rounds: rounds, delta: dp.delta)
            let unsampled = try m.epsilonPerRound(samplingRate: 1, rounds: rounds, delta: dp.delta).last ?? 0
            return DistributedDPPlan(
                noiseMultiplier: z, localVariance: v, denominator: q * Double(clients), samplingRate: q,
                dropoutRate: secagg.stageDropout, corruptionRate: secagg.corruptionRate, log2WrapProbability: wrap,
                epsilons: epsilons, epsilonWithoutSampling: unsampled)
        } catch let e as PrivacyError {
            throw FLError.invalidConfiguration(e.description)
        }
    }

    /// Throws unless `dp` is what the distributed mechanism supports: central mode, a fixed clip,
    /// Poisson sampling and the RDP accountant (the DDG bound is an RDP bound).
    public static func validate(_ dp: DPConfig) throws {
        try dp.validate()
        guard dp.mode == .central, !dp.adaptiveClipping, dp.sampling == .poisson, dp.accountant == .rdp else {
            throw FLError.invalidConfiguration(
                "--secagg with --dp adds distributed discrete Gaussian noise on the clients, accounted with RDP under Poisson sampling: use --dp central, a fixed --clip, --sampling poisson and --accountant rdp")
        }
    }

    /// m: the largest survivor count reached with probability ≥ 99.9 % when each of n clients
    /// drops independently with probability p (exact binomial tail); n when p = 0.
    public func minimumSurvivors(participants n: Int) -> Int {
        guard dropoutRate > 0, n > 1 else { return n }
        // P[Bin(n, p) ≤ k] for k = 0, 1, …: the dropouts stay ≤ k with probability ≥ 0.999.
        let p = dropoutRate
        var logTerm = Double(n) * log1p(-p)  // P[Bin = 0]
        var cdf = exp(logTerm)
        var k = 0
        while cdf < 0.999 && k < n {
            logTerm += log(Double(n - k)) - log(Double(k + 1)) + log(p) - log1p(-p)
            k += 1
            cdf += exp(logTerm)
        }
        return max(1, n - k)
    }

    /// s: the noise shares a client's σ² is a fraction of, m − ⌈γn⌉ (at least 1).
    public func noiseShares(participants n: Int) -> Int {
        max(1, minimumSurvivors(participants: n) - Int((corruptionRate * Double(n)).rounded(.up)))
    }
}

/// DP-FedAvg with the noise added by the clients and summed by SecAgg+ (`murmur simulate
/// --secagg --dp central`): each client clips, scales, rounds and adds its discrete Gaussian share
/// (`DistributedDiscreteGaussianEncoder`); the server learns only Σ of the survivors' encoded
/// updates mod 2^32, decodes it and divides by the fixed D, then the wrapped strategy's server
/// step applies. A round that cannot gather `minimumSurvivors` masked inputs releases nothing
/// (the model is left unchanged).
public struct DistributedDP: WrappingStrategy {
    /// The wrapped strategy (its `combine` is not used).
    public var base: any Strategy
    /// Noise, denominator and dropout policy.
    public let plan: DistributedDPPlan
    /// The clip C.
    public let clipNorm: Double
    /// Graph and dropout-injection settings of the SecAgg+ rounds.
    public let secagg: SecAggSettings
    /// Seeded (reproducible, not private) or CSPRNG noise.
    public let noise: NoiseSourceKind
    public let seed: UInt64
    public var name: String { "ddg-" + base.name + "+secagg" }

    /// Wraps `base`.
    public init(base: any Strategy, plan: DistributedDPPlan, clipNorm: Double, secagg: SecAggSettings,
                noise: NoiseSourceKind, seed: UInt64) {
        self.base = base
        self.plan = plan
        self.clipNorm = clipNorm
        self.secagg = secagg
        self.noise = noise
        self.seed = seed
    }

    public func combine(_ results: [FitResult]) throws -> [Float] {
        try noisyMean(results, round: 0) ?? [Float](repeating: 0, count: results.first?.delta.count ?? 0)
    }

    public mutating func aggregate(global: inout [Float], results: [FitResult], round: Int) throws {
        guard let delta = try noisyMean(results, round: round) else { return }
        applyServerUpdate(delta, to: &global, round: round)
    }

    /// The encoder clients use in a round of n participants.
    public func encoder(participants n: Int) throws -> DistributedDiscreteGaussianEncoder {
        try DistributedDiscreteGaussianEncoder(
            clipNorm: clipNorm, noiseMultiplier: plan.noiseMultiplier,
            sampler: DiscreteGaussianSampler(varianceNumerator: plan.localVariance),
            noiseShares: plan.noiseShares(participants: n))
    }

    /// Client `client`'s SecAgg+ input in a round of n participants: its delta clipped, scaled,
    /// rounded and noised (`DistributedDiscreteGaussianEncoder`), with the rounding stream
    /// (seed, round, client) and, for seeded noise, the noise stream of the same triple. A
    /// networked client (MurmurNode's `SecureUpdateStore`) calls it, so its input is the one the
    /// simulation sums.
    public func encode(_ delta: [Float], client: ClientID, round: Int, participants n: Int) throws -> [UInt32] {
        let enc = try encoder(participants: n)
        var rounding = SeededRNG(seed: seed, stream: 0xDD6_0001, UInt64(round), UInt64(client))
        switch noise {
        case .seeded:
            var rng = SeededRNG(seed: seed, stream: 0xDD6_0002, UInt64(round), UInt64(client))
            return enc.encode(delta, roundingRNG: &rounding, noiseRNG: &rng)
        case .secure:
            var rng = SystemRandomNumberGenerator()
            return enc.encode(delta, roundingRNG: &rounding, noiseRNG: &rng)
        }
    }

    /// The SecAgg+ parameters of a round of n participants: the simulation's graph, inputs in
    /// the full 32-bit ring.
    public func ringParameters(participants n: Int) throws -> SecAggParameters {
        try SecureAggregation(base: base, settings: secagg, seed: seed).parameters(n: n, inputBits: 32 - Quantizer.ceilLog2(n))
    }

    /// Δ̄ from the ring sum of a round of n participants: decoded, divided by the fixed D.
    public func mean(ringSum sum: [UInt32], participants n: Int) throws -> [Float] {
        var mean = try encoder(participants: n).decode(sum)
        let inv = Float(1 / plan.denominator)
        for i in mean.indices { mean[i] *= inv }
        return mean
    }

    /// (Σ decoded)/D, or nil when the round released nothing (fewer than 2 participants, or
    /// fewer than `minimumSurvivors` masked inputs).
    func noisyMean(_ results: [FitResult], round: Int) throws -> [Float]? {
        guard let d = results.first?.delta.count, results.count >= 2 else { return nil }
        let n = results.count
        var inputs = [[UInt32]]()
        inputs.reserveCapacity(n)
        for r in results {
            guard r.delta.count == d else {
                throw FLError.malformedUpdate(client: r.client, reason: "delta has \(r.delta.count) values, expected \(d)")
            }
            inputs.append(try encode(r.delta, client: r.client, round: round, participants: n))
        }
        let helper = SecureAggregation(base: base, settings: secagg, seed: seed)
        do {
            let (result, _) = try SecAggSimulation.sumRing(
                inputs, parameters: try ringParameters(participants: n), identities: helper.identities(results),
                dropouts: helper.dropouts(count: n, round: round),
                round: UInt64(max(round, 1)), seed: seed ^ UInt64(round), minimumSurvivors: plan.minimumSurvivors(participants: n))
            return try mean(ringSum: result.sum, participants: n)
        } catch SecAggError.tooFewSurvivors {
            return nil
        } catch let e as SecAggError {
            throw FLError.invalidConfiguration("round \(round): secure aggregation failed: \(e)")
        }
    }
}
