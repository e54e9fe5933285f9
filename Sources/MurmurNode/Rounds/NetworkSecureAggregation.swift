import Foundation
import MurmurCore
import MurmurFL
import MurmurP2P
import MurmurSecAgg
import MurmurTensor

/// FL rounds under SecAgg+ over the network: the aggregator's `SecureRoundAggregation`, which
/// runs one `/murmur/secagg/1` round among the clients that finished training and returns the
/// mean of their updates — the networked twin of the simulation's `SecureAggregation` strategy.
///
/// Same parameters (`SecureAggregation.parameters(n:)`), graph seed (seed ⊕ round) and
/// participant order (client id) as the simulation; with each client quantizing as
/// `SecureUpdateStore` does, the ring sum, hence Δ̄ and the model, equal the simulated ones.
/// With `distributedDP` (`--secagg --dp central`) the clients add discrete Gaussian noise to
/// their inputs and the round is the twin of the `DistributedDP` strategy instead.
public struct NetworkSecureAggregation: SecureRoundAggregation {
    /// Drives the SecAgg+ server over streams.
    public let coordinator: SecAggCoordinator
    /// Which node serves each client.
    public let peers: [ClientID: PeerID]
    /// Clip, bits and the rates the parameters are derived from.
    public let settings: SecAggSettings
    /// The federation seed.
    public let seed: UInt64
    /// The model's parameter count (the SecAgg+ dimension).
    public let dimension: Int
    /// Distributed DP (clients noise their inputs; a round below the survivor minimum releases
    /// nothing); nil = plain SecAgg+.
    public var distributedDP: DistributedDP?
    /// Called after each round's SecAgg+ with who contributed and who dropped (contributor and
    /// dropout indices are positions in the round's sorted client ids), e.g. for a ledger.
    public var onOutcome: (@Sendable (_ round: Int, _ clients: [ClientID], SecAggNetworkOutcome) -> Void)?

    /// Secure rounds among `peers` with the simulation's `settings` and `seed`.
    public init(coordinator: SecAggCoordinator, peers: [ClientID: PeerID], settings: SecAggSettings, seed: UInt64, dimension: Int,
                distributedDP: DistributedDP? = nil) {
        self.coordinator = coordinator
        self.peers = peers
        self.settings = settings
        self.seed = seed
        self.dimension = dimension
        self.distributedDP = distributedDP
        self.onOutcome = nil
    }

    /// Σ over the SecAgg+ survivors, dequantized, divided by their count (plain SecAgg+), or
    /// decoded and divided by D (distributed DP; nil when the round released nothing).
    public func release(round: Int, results: [FitResult]) async throws -> [Float]? {
        guard let dp = distributedDP else { return try await meanUpdate(round: round, results: results) }
        guard results.count >= 2 else { return nil }  // as `DistributedDP`: nothing to hide a single update in
        let n = results.count
        do {
            let p = try dp.ringParameters(participants: n)
            let outcome = try await secureSum(round: round, results: results, parameters: p,
                                              minimumSurvivors: dp.plan.minimumSurvivors(participants: n))
            return try dp.mean(ringSum: outcome.result.sum, participants: n)
        } catch SecAggError.tooFewSurvivors {
            return nil  // fewer masked inputs than the noise needs: the model stays (DistributedDP)
        } catch let e as SecAggError {
            throw FLError.invalidConfiguration("round \(round): secure aggregation failed: \(e)")
        }
    }

    /// Σ over the SecAgg+ survivors, dequantized, divided by their count.
    public func meanUpdate(round: Int, results: [FitResult]) async throws -> [Float] {
        guard results.count >= 2 else { throw FLError.tooFewResults(round: round, got: results.count, needed: 2) }
        do {
            let p = try SecureAggregation(base: FedAvg(), settings: settings, seed: seed).parameters(n: results.count)
            let outcome = try await secureSum(round: round, results: results, parameters: p, minimumSurvivors: 0)
            let contributors = outcome.result.contributors.count
            guard contributors > 0 else { throw FLError.tooFewResults(round: round, got: 0, needed: 1) }
            var mean = p.quantizer.dequantizeSum(outcome.result.sum, count: contributors)
            Vec.scale(1 / Float(contributors), &mean)
            return mean
        } catch let e as SecAggError {
            throw FLError.invalidConfiguration("round \(round): secure aggregation failed: \(e)")
        }
    }

    /// One SecAgg+ round among `results`' clients in id order, reported to `onOutcome`.
    func secureSum(round: Int, results: [FitResult], parameters p: SecAggParameters, minimumSurvivors: Int) async throws -> SecAggNetworkOutcome {
        let ids = results.map(\.client).sorted()
        let participants = try ids.map { id -> PeerID in
            guard let p = peers[id] else { throw FLError.unknownClient(id) }
            return p
        }
        let outcome = try await coordinator.run(
            round: UInt64(max(round, 1)), parameters: p, peers: participants, dimension: dimension,
            graphSeed: seed ^ UInt64(round), minimumSurvivors: minimumSurvivors)
        onOutcome?(round, ids, outcome)
        return outcome
    }
}

/// A client's updates kept back from the aggregator under secure aggregation, until the round's
/// SecAgg+ asks for them: `FLClientService` puts each fit's delta here and answers with an empty
/// one; `SecAggClientService` takes it, clipped and quantized, as its input.
public final class SecureUpdateStore: @unchecked Sendable {
    // @unchecked: `pending` is only touched under `lock`; `distributedDP` is immutable.
    private let lock = NSLock()
    private var pending: [UInt64: (delta: [Float], seed: UInt64, client: ClientID)] = [:]
    /// Under `--secagg --dp central`: the encoder of the client's noisy input (nil = quantize).
    public let distributedDP: DistributedDP?
    /// Rounds kept at most (older ones are forgotten: their SecAgg+ round is over).
    public static let capacity = 4

    /// An empty store; with `distributedDP` inputs are noised and encoded as that strategy's.
    public init(distributedDP: DistributedDP? = nil) {
        self.distributedDP = distributedDP
    }

    /// Keeps the delta of `round` (trained by `client` under federation `seed`).
    public func put(round: Int, delta: [Float], seed: UInt64, client: ClientID = 0) {
        lock.withLock {
            pending[UInt64(max(round, 1))] = (delta, seed, client)
            while pending.count > Self.capacity, let oldest = pending.keys.min() { pending[oldest] = nil }
        }
    }

    /// The SecAgg+ input for `setup`: the round's delta clipped to L2 ≤ clip and quantized with
    /// the simulation's generator, SeededRNG(seed ⊕ round, stream: index) (SecureAggregation);
    /// under distributed DP, `DistributedDP.encode` for the round's participant count.
    public func input(for setup: SecAggSetup) throws -> [UInt32] {
        let round = setup.config.round
        guard let entry = lock.withLock({ pending.removeValue(forKey: round) }) else {
            throw SecureUpdateError.noUpdate(round: round)
        }
        guard entry.delta.count == setup.config.dimension else {
            throw SecureUpdateError.dimensionMismatch(update: entry.delta.count, round: setup.config.dimension)
        }
        if let distributedDP {
            return try distributedDP.encode(entry.delta, client: entry.client, round: Int(round),
                                            participants: setup.config.participants.count)
        }
        let quantizer = setup.config.parameters.quantizer
        var x = entry.delta
        Vec.clip(&x, maxNorm: quantizer.clip)
        var rng = SeededRNG(seed: entry.seed ^ round, stream: UInt64(setup.index))
        return quantizer.quantize(x, rng: &rng)
    }

    /// `input(for:)` as a `SecAggClientService.InputProvider`.
    public var provider: SecAggClientService.InputProvider { { [self] setup in try self.input(for: setup) } }
}

/// A SecAgg+ round asked for an update the client does not hold.
public enum SecureUpdateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No fit of this round ran here (or it was already used).
    case noUpdate(round: UInt64)
    /// The kept update and the round's dimension differ.
    case dimensionMismatch(update: Int, round: Int)

    /// The message shown in logs.
    public var description: String {
        switch self {
        case .noUpdate(let r): "no update of round \(r) is waiting here; a SecAgg+ round follows this client's fit of the same round"
        case let .dimensionMismatch(u, r): "the kept update has \(u) values, the SecAgg+ round \(r)"
        }
    }
}

extension Simulation {
    /// The encoder and decoder of distributed DP for a `--secagg --dp central` federation (nil
    /// without both): the same `DistributedDP` the simulated run aggregates with, so a client's
    /// noisy input and the aggregator's decoding match it.
    public func distributedDP(dimension: Int) throws -> DistributedDP? {
        guard let secagg = config.secagg, let dp = config.dp,
              case .distributed(let plan, _)? = try privacyPlan(dimension: dimension) else { return nil }
        return DistributedDP(base: FedAvg(), plan: plan, clipNorm: dp.clipNorm, secagg: secagg, noise: dp.noise, seed: config.seed)
    }

    /// A client's store for its withheld updates under `--secagg` (nil without it).
    public func secureUpdateStore(dimension: Int) throws -> SecureUpdateStore? {
        guard config.secagg != nil else { return nil }
        return SecureUpdateStore(distributedDP: try distributedDP(dimension: dimension))
    }

    /// The aggregator's networked SecAgg+ for `--secagg` (nil without it), driven by `coordinator`.
    public func networkSecureAggregation(coordinator: SecAggCoordinator, peers: [ClientID: PeerID], dimension: Int) throws -> NetworkSecureAggregation? {
        guard let secagg = config.secagg else { return nil }
        return NetworkSecureAggregation(
            coordinator: coordinator, peers: peers, settings: secagg, seed: config.seed, dimension: dimension,
            distributedDP: try distributedDP(dimension: dimension))
    }
}
