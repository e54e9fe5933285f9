/// A strategy that can say how anomalous each client's update looked while combining them.
/// `RoundRunner` records the scores in `RoundRecord.anomalyScores` (plaintext mode only: with
/// secure aggregation the server never sees individual updates).
public protocol AnomalyScoring {
    /// `combine`, plus one `ClientAnomaly` per result.
    func combineScored(_ results: [FitResult]) throws -> RobustAggregate
}

extension Strategy {
    /// One aggregation step that keeps the anomaly scores when the strategy produces them:
    /// combine (scored if possible), then the server optimizer step. Returns the scores, or nil.
    public mutating func aggregateScored(global: inout [Float], results: [FitResult], round: Int) throws -> [ClientAnomaly]? {
        guard let scoring = self as? any AnomalyScoring else {
            try aggregate(global: &global, results: results, round: round)
            return nil
        }
        let combined = try scoring.combineScored(results)
        applyServerUpdate(combined.delta, to: &global, round: round)
        return combined.anomalies
    }
}

/// Any server strategy with a robust aggregator in its `combine` hook: the aggregator turns the
/// round's updates into Δ̄, the base strategy's server optimizer (FedAvg, FedAdam, …) applies it,
/// and the base still configures the clients (FedProx's μ).
///
/// Updates with non-finite values never reach the aggregator: they are excluded with score
/// `ClientAnomaly.nonFiniteScore`.
public struct RobustStrategy: WrappingStrategy, AnomalyScoring {
    /// The server optimizer and client configuration (FedAvg, FedAdam, FedProx, …).
    public var base: any Strategy
    /// The rule that turns the round's updates into Δ̄.
    public let aggregator: any RobustAggregator
    /// "base+aggregator", e.g. "fedavg+krum".
    public var name: String { "\(base.name)+\(aggregator.name)" }
    /// The global model the current round's clients trained from (FLTrust's starting point).
    public private(set) var global: [Float]
    /// The previous round's Δ̄ (centered clipping's centre).
    public private(set) var previousAggregate: [Float]?
    /// The round the next `combine` belongs to.
    public private(set) var round = 1
    let plan: LocalTrainingPlan?
    let seed: UInt64

    /// Wraps `base`; `initial` is the round-1 global model, `plan` the clients' training plan.
    public init(base: any Strategy, aggregator: any RobustAggregator, initial: [Float], plan: LocalTrainingPlan? = nil, seed: UInt64 = 0) {
        self.base = base
        self.aggregator = aggregator
        self.global = initial
        self.plan = plan
        self.seed = seed
    }

    public func combine(_ results: [FitResult]) throws -> [Float] { try combineScored(results).delta }

    public func combineScored(_ results: [FitResult]) throws -> RobustAggregate {
        var finite = [FitResult]()
        var rejected = [ClientAnomaly]()
        for r in results {
            if r.delta.allSatisfy(\.isFinite) {
                finite.append(r)
            } else {
                rejected.append(ClientAnomaly(client: r.client, score: ClientAnomaly.nonFiniteScore, excluded: true))
            }
        }
        guard !finite.isEmpty else {
            throw FLError.invalidConfiguration("round \(round): every update had non-finite values; nothing to aggregate")
        }
        let context = AggregationContext(
            round: round, global: global, previousAggregate: previousAggregate,
            plan: plan.map { base.configureFit(round: round, plan: $0) }, seed: seed)
        var out = try aggregator.aggregate(ClientUpdates(finite), context: context)
        out.anomalies += rejected
        return out
    }

    public mutating func applyServerUpdate(_ delta: [Float], to global: inout [Float], round: Int) {
        base.applyServerUpdate(delta, to: &global, round: round)
        self.global = global
        self.previousAggregate = delta
        self.round = round + 1
    }
}

extension ClientAnomaly {
    /// The score of an update with NaN or infinite values (finite, so JSON can encode it).
    public static let nonFiniteScore = 1e6
}
