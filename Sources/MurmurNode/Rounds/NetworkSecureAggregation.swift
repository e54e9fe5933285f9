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
    /// Called after each round's SecAgg+ with who contributed and who dropped (contributor and
    /// dropout indices are positions in the round's sorted client ids), e.g. for a ledger.
    public var onOutcome: (@Sendable (_ round: Int, _ clients: [ClientID], SecAggNetworkOutcome) -> Void)?

    /// Secure rounds among `peers` with the simulation's `settings` and `seed`.
    public init(coordinator: SecAggCoordinator, peers: [ClientID: PeerID], settings: SecAggSettings, seed: UInt64, dimension: Int) {
        self.coordinator = coordinator
        self.peers = peers
        self.settings = settings
        self.seed = seed
        self.dimension = dimension
        self.onOutcome = nil
    }

    /// Σ over the SecAgg+ survivors, dequantized, divided by their count.
    public func meanUpdate(round: Int, results: [FitResult]) async throws -> [Float] {
        guard results.count >= 2 else { throw FLError.tooFewResults(round: round, got: results.count, needed: 2) }
        let ids = results.map(\.client).sorted()
        let participants = try ids.map { id -> PeerID in
            guard let p = peers[id] else { throw FLError.unknownClient(id) }
            return p
        }
        do {
            let p = try SecureAggregation(base: FedAvg(), settings: settings, seed: seed).parameters(n: ids.count)
            let outcome = try await coordinator.run(
                round: UInt64(max(round, 1)), parameters: p, peers: participants, dimension: dimension,
                graphSeed: seed ^ UInt64(round))
            onOutcome?(round, ids, outcome)
            let contributors = outcome.result.contributors.count
            guard contributors > 0 else { throw FLError.tooFewResults(round: round, got: 0, needed: 1) }
            var mean = p.quantizer.dequantizeSum(outcome.result.sum, count: contributors)
            Vec.scale(1 / Float(contributors), &mean)
            return mean
        } catch let e as SecAggError {
            throw FLError.invalidConfiguration("round \(round): secure aggregation failed: \(e)")
        }
    }
}

/// A client's updates kept back from the aggregator under secure aggregation, until the round's
/// SecAgg+ asks for them: `FLClientService` puts each fit's delta here and answers with an empty
/// one; `SecAggClientService` takes it, clipped and quantized, as its input.
public final class SecureUpdateStore: @unchecked Sendable {
    // @unchecked: `pending` is only touched under `lock`.
    private let lock = NSLock()
    private var pending: [UInt64: (delta: [Float], seed: UInt64)] = [:]
    /// Rounds kept at most (older ones are forgotten: their SecAgg+ round is over).
    public static let capacity = 4

    /// An empty store.
    public init() {}

    /// Keeps the delta of `round` (trained under federation `seed`).
    public func put(round: Int, delta: [Float], seed: UInt64) {
        lock.withLock {
            pending[UInt64(max(round, 1))] = (delta, seed)
            while pending.count > Self.capacity, let oldest = pending.keys.min() { pending[oldest] = nil }
        }
    }

    /// The SecAgg+ input for `setup`: the round's delta clipped to L2 ≤ clip and quantized with
    /// the simulation's generator, SeededRNG(seed ⊕ round, stream: index) (SecureAggregation).
    public func input(for setup: SecAggSetup) throws -> [UInt32] {
        let round = setup.config.round
        guard let entry = lock.withLock({ pending.removeValue(forKey: round) }) else {
            throw SecureUpdateError.noUpdate(round: round)
        }
        guard entry.delta.count == setup.config.dimension else {
            throw SecureUpdateError.dimensionMismatch(update: entry.delta.count, round: setup.config.dimension)
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
