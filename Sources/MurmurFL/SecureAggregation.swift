import MurmurCore
import MurmurSecAgg
import MurmurTensor

/// Secure-aggregation settings of a simulation (`murmur simulate --secagg`).
public struct SecAggSettings: Sendable, Codable, Equatable {
    /// Client-side L2 bound on each update before quantisation (also the per-coordinate range).
    public var clipNorm: Float = 1
    /// Bits per coordinate of the quantised input (the ring adds ⌈log₂ n⌉ on top).
    public var inputBits: Int = 16
    /// Probability that a participating client drops out at a uniformly random SecAgg stage.
    public var stageDropout: Double = 0
    /// Fraction of clients the parameters assume may be corrupt (the γ of Bell et al.).
    public var corruptionRate: Double = 0.05

    public init() {}

    public func validate() throws {
        func bad(_ m: String) -> FLError { .invalidConfiguration(m) }
        guard clipNorm > 0, clipNorm.isFinite else { throw bad("--secagg-clip must be > 0, got \(clipNorm)") }
        guard (2...24).contains(inputBits) else { throw bad("--secagg-bits must be in 2…24, got \(inputBits)") }
        guard stageDropout >= 0, stageDropout < 1 else { throw bad("--secagg-dropout must be in [0, 1), got \(stageDropout)") }
    }
}

/// Wraps a strategy so that the server learns only the **sum** of the round's updates: each
/// client clips its Δ to L2 ≤ C, quantises it, and the SecAgg+ protocol (MurmurSecAgg: keys,
/// Shamir shares, masked inputs, unmasking, with dropouts at any stage) yields Σ over the
/// clients that completed it. Δ̄ = sum / contributors — every client weighs the same, because
/// the server never sees a per-client sample count. The wrapped strategy's server step applies.
///
/// In the simulation the protocol's messages pass in memory (`SecAggSimulation`); the network
/// node runs the same state machines over `/murmur/secagg/1`.
public struct SecureAggregation: WrappingStrategy {
    public var base: any Strategy
    public let settings: SecAggSettings
    public let seed: UInt64
    public var name: String { base.name + "+secagg" }

    public init(base: any Strategy, settings: SecAggSettings, seed: UInt64) {
        self.base = base
        self.settings = settings
        self.seed = seed
    }

    /// Runs one secure-aggregation round over the clients' (clipped) deltas.
    public func combine(_ results: [FitResult]) throws -> [Float] {
        try secureMean(results, round: 0)
    }

    public mutating func aggregate(global: inout [Float], results: [FitResult], round: Int) throws {
        let delta = try secureMean(results, round: round)
        applyServerUpdate(delta, to: &global, round: round)
    }

    /// The SecAgg+ parameters for n clients: derived from the dropout and corruption rates
    /// (Bell et al. bounds, docs/secagg.md); when no sparse graph qualifies at this n, the
    /// complete graph with a majority threshold. `inputBits` defaults to the settings' q.
    /// Public so a networked round (MurmurNode) uses the simulation's parameters.
    public func parameters(n: Int, inputBits: Int? = nil) throws -> SecAggParameters {
        let bits = inputBits ?? settings.inputBits
        if let p = try? SecAggParameters.derive(
            clientCount: n, dropoutRate: settings.stageDropout, corruptionRate: settings.corruptionRate,
            inputBits: bits, clip: settings.clipNorm) {
            return p
        }
        let q = try Quantizer(clip: settings.clipNorm, inputBits: bits, clientCount: n)
        // A majority of each client's n − 1 neighbours (k/2 < t ≤ k; t = 1 for a pair).
        return try SecAggParameters(clientCount: n, degree: n - 1, threshold: min(n / 2 + 1, n - 1), quantizer: q)
    }

    /// The simulated clients' Ed25519 identities (seeded by client id).
    func identities(_ results: [FitResult]) -> [Identity] {
        results.map { r -> Identity in
            var rng = SeededRNG(seed: seed, stream: 0x5EC, UInt64(r.client))
            return Identity(deterministic: &rng)
        }
    }

    /// The injected dropouts of a round: each participant with probability `stageDropout`, at a
    /// uniformly random stage.
    func dropouts(count: Int, round: Int) -> [Int: SecAggStage] {
        var rng = SeededRNG(seed: seed, stream: 0x5EC0, UInt64(round))
        var dropouts = [Int: SecAggStage]()
        for i in 0..<count where rng.nextDouble() < settings.stageDropout {
            dropouts[i] = SecAggStage.allCases[Int(rng.next() % UInt64(SecAggStage.allCases.count))]
        }
        return dropouts
    }

    func secureMean(_ results: [FitResult], round: Int) throws -> [Float] {
        guard let d = results.first?.delta.count else { return [] }
        guard results.count >= 2 else {
            throw FLError.tooFewResults(round: round, got: results.count, needed: 2)
        }
        var deltas = [[Float]]()
        deltas.reserveCapacity(results.count)
        for r in results {
            guard r.delta.count == d else {
                throw FLError.malformedUpdate(client: r.client, reason: "delta has \(r.delta.count) values, expected \(d)")
            }
            var x = r.delta
            Vec.clip(&x, maxNorm: settings.clipNorm)  // client-side norm bounding
            deltas.append(x)
        }
        do {
            let p = try parameters(n: results.count)
            let (sum, contributors, _) = try SecAggSimulation.sumUpdates(
                deltas, parameters: p, identities: identities(results), dropouts: dropouts(count: results.count, round: round),
                round: UInt64(max(round, 1)), seed: seed ^ UInt64(round))
            guard !contributors.isEmpty else { throw FLError.tooFewResults(round: round, got: 0, needed: 1) }
            var mean = sum
            Vec.scale(1 / Float(contributors.count), &mean)
            return mean
        } catch let e as SecAggError {
            throw FLError.invalidConfiguration("round \(round): secure aggregation failed: \(e)")
        }
    }
}
