import MurmurML
import MurmurTensor

/// One player of a round's game: one client's update, or a secure-aggregation group's sum.
public struct GameUpdate: Sendable {
    /// Σ wₖ·Δₖ over the player's clients.
    public var weightedSum: [Float]
    /// Σ wₖ (samples under FedAvg averaging, client count under secure aggregation).
    public var weight: Double

    /// A player with the given weighted sum and weight.
    public init(weightedSum: [Float], weight: Double) {
        self.weightedSum = weightedSum
        self.weight = weight
    }

    /// The sum of several players' updates (a group's: what one SecAgg instance would reveal).
    public static func sum(_ parts: [GameUpdate], dimension: Int) -> GameUpdate {
        var s = [Float](repeating: 0, count: dimension)
        var w = 0.0
        for p in parts {
            Vec.axpy(1, p.weightedSum, &s)
            w += p.weight
        }
        return GameUpdate(weightedSum: s, weight: w)
    }
}

/// How the server averages a coalition's updates into Δ̄ — the same rule as the real round.
public enum CoalitionAveraging: Sendable, Equatable {
    /// FedAvg: Δ̄ = Σ nₖΔₖ / Σ nₖ (McMahan et al. 2017, Alg. 1; `weightedMeanDelta`).
    case samples
    /// Secure aggregation: each Δₖ clipped by its client to L2 ≤ clip, Δ̄ = Σ Δₖ / |S|
    /// (`SecureAggregation`: the server never sees sample counts).
    case uniform(clip: Float)

    /// A client's update as a game player under this rule.
    public func player(_ r: FitResult) -> GameUpdate {
        switch self {
        case .samples:
            var s = [Float](repeating: 0, count: r.delta.count)
            Vec.axpy(Float(r.sampleCount), r.delta, &s)
            return GameUpdate(weightedSum: s, weight: Double(r.sampleCount))
        case .uniform(let clip):
            var x = r.delta
            Vec.clip(&x, maxNorm: clip)
            return GameUpdate(weightedSum: x, weight: 1)
        }
    }
}

/// The cooperative game of one federated round: v(S) = u(w_S), the validation utility of the
/// model the server would have produced from the updates of S alone.
///
/// w_S is reconstructed from the updates, without retraining (the "gradient-based
/// reconstruction" of Song et al. 2019 and Liu et al. 2022 §4.1): Δ̄_S is the coalition's
/// average under the round's rule (`CoalitionAveraging`) and w_S the round's server optimizer
/// step applied to it, from a copy of the strategy's state before the round — so v(N) is the
/// utility of the model the round really produced (with the mean aggregator), and a stateful
/// server optimizer (FedAvgM, FedAdam, …) steps as it would have. v(∅) = u(w_t), the model
/// before the round. Values are cached per coalition.
public struct RoundGame: CoalitionGame {
    /// The players (clients or groups), in order.
    public let players: [GameUpdate]
    /// w_t, the global model the round's clients trained from.
    public let global: [Float]
    let strategy: any Strategy
    let round: Int
    let utility: ([Float]) throws -> Double
    var cache = [Coalition: Double]()
    /// Distinct coalitions evaluated (each is one server step and one validation pass).
    public private(set) var evaluations = 0

    /// The game of a round: `strategy` in its state before the round's server step.
    public init(players: [GameUpdate], global: [Float], strategy: any Strategy, round: Int, utility: @escaping ([Float]) throws -> Double) {
        self.players = players
        self.global = global
        self.strategy = strategy
        self.round = round
        self.utility = utility
    }

    /// The number of players (clients or groups).
    public var playerCount: Int { players.count }

    /// w_S: the server step from w_t along the coalition's average update.
    public func model(_ members: [Int]) -> [Float] {
        guard !members.isEmpty else { return global }
        var sum = [Float](repeating: 0, count: global.count)
        var weight = 0.0
        for m in members.sorted() {  // fixed order: the float sum does not depend on the caller's order
            Vec.axpy(1, players[m].weightedSum, &sum)
            weight += players[m].weight
        }
        if weight > 0 { Vec.scale(Float(1 / weight), &sum) } else { sum = [Float](repeating: 0, count: global.count) }
        var s = strategy
        var w = global
        s.applyServerUpdate(sum, to: &w, round: round)
        return w
    }

    /// v(S) = u(w_S), cached per coalition.
    public mutating func value(_ members: [Int]) throws -> Double {
        let key = Coalition(members, playerCount: players.count)
        if let x = cache[key] { return x }
        let x = try utility(model(members))
        cache[key] = x
        evaluations += 1
        return x
    }
}

/// u(w) on the server's validation set: −loss or accuracy (`ContributionUtility`).
/// Holds one `Network` whose parameters are swapped per evaluation (not `Sendable`: one per round).
public final class ValidationUtility {
    let network: Network
    /// The validation set.
    public let data: Dataset
    /// What is measured.
    public let utility: ContributionUtility

    /// A utility for models of `model` on `data`.
    public init(model: ModelConfig, data: Dataset, utility: ContributionUtility) throws {
        self.network = try Network(config: model, seed: 0)
        self.data = data
        self.utility = utility
    }

    /// u(parameters).
    public func callAsFunction(_ parameters: [Float]) throws -> Double {
        guard parameters.count == network.parameterCount else {
            throw MLError.parameterCountMismatch(expected: network.parameterCount, actual: parameters.count)
        }
        network.parameters = parameters
        let e = network.evaluate(data)
        switch utility {
        case .negativeLoss: return e.loss.isFinite ? -e.loss : -1e6  // a diverged model: very bad, still finite
        case .accuracy: return e.accuracy
        }
    }
}
