/// What the server knows when it aggregates a round, beyond the updates themselves.
/// FLTrust needs the current global model; centered clipping starts from the previous aggregate.
public struct AggregationContext: Sendable {
    /// The round being aggregated (1-based).
    public var round: Int
    /// The global parameters the clients trained from.
    public var global: [Float]
    /// The aggregate Δ̄ of the previous round (nil in round 1).
    public var previousAggregate: [Float]?
    /// The local training plan of the round (FLTrust trains its root data set with it).
    public var plan: LocalTrainingPlan?
    /// The federation seed.
    public var seed: UInt64

    public init(round: Int, global: [Float], previousAggregate: [Float]? = nil, plan: LocalTrainingPlan? = nil, seed: UInt64 = 0) {
        self.round = round
        self.global = global
        self.previousAggregate = previousAggregate
        self.plan = plan
        self.seed = seed
    }
}

/// How suspicious one client's update looked to the aggregator in one round.
/// Exposed per round (`RoundRecord.anomalyScores`) so a ledger can lower the reputation and
/// rewards of clients that keep looking like outliers.
public struct ClientAnomaly: Sendable, Codable, Equatable {
    /// The client the score is about.
    public var client: ClientID
    /// 0 = typical; larger = further from the honest majority. Scale: the client's distance to
    /// the aggregate over the median such distance, minus 1, floored at 0 — unless the
    /// aggregator documents its own (Krum: score over the median score; FLTrust: 1 − trust).
    public var score: Double
    /// True when the aggregator gave the update no weight at all (Krum not selected, FLTrust
    /// trust 0, non-finite values).
    public var excluded: Bool

    public init(client: ClientID, score: Double, excluded: Bool) {
        self.client = client
        self.score = score
        self.excluded = excluded
    }
}

/// A robust aggregate: the update direction and the per-client anomaly scores behind it.
public struct RobustAggregate: Sendable {
    /// The aggregate update Δ̄.
    public var delta: [Float]
    /// One entry per input row, in input order.
    public var anomalies: [ClientAnomaly]

    public init(delta: [Float], anomalies: [ClientAnomaly]) {
        self.delta = delta
        self.anomalies = anomalies
    }
}

/// A Byzantine-robust replacement for the mean in `Strategy.combine`: reduces the round's
/// client updates to one direction while bounding the influence of a minority of bad updates.
/// Wrapped by `RobustStrategy`, it composes with any server optimizer (FedAvg, FedAdam, …).
public protocol RobustAggregator: Sendable {
    /// The CLI name ("krum").
    var name: String { get }
    /// Reduces the updates (all finite, n ≥ 1) to one direction, with per-client scores.
    func aggregate(_ updates: ClientUpdates, context: AggregationContext) throws -> RobustAggregate
}

extension RobustAggregator {
    /// Convenience for callers holding fit results.
    public func aggregate(_ results: [FitResult], context: AggregationContext) throws -> RobustAggregate {
        try aggregate(ClientUpdates(results), context: context)
    }
}

/// The default anomaly score: dᵢ/median(d) − 1 floored at 0, with dᵢ = ‖Δᵢ − Δ̄‖.
/// Scale-free, so one threshold works for any model size.
public func distanceAnomalies(_ updates: ClientUpdates, aggregate: [Float], excluded: Set<Int> = []) -> [ClientAnomaly] {
    let d = updates.distances(to: aggregate).map(Double.init)
    let med = median(d)
    return d.enumerated().map { i, x in
        ClientAnomaly(client: updates.clients[i], score: med > 0 ? max(0, x / med - 1) : (x > 0 ? 1 : 0), excluded: excluded.contains(i))
    }
}

/// The median of a small array of doubles (mean of the two middle values for even counts).
func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return 0 }
    let s = xs.sorted()
    let n = s.count
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}
