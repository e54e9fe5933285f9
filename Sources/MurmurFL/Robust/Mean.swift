/// The sample-weighted mean of FedAvg (McMahan et al. 2017), as a `RobustAggregator`: the
/// non-robust baseline of the robustness matrix, with anomaly scores for the ledger.
public struct Mean: RobustAggregator {
    public let name = "mean"

    public init() {}

    public func aggregate(_ updates: ClientUpdates, context: AggregationContext) throws -> RobustAggregate {
        let total = updates.sampleCounts.reduce(0, +)
        guard total > 0 else { throw FLError.invalidConfiguration("all clients reported 0 samples") }
        let delta = updates.weightedMean(updates.sampleCounts.map(Float.init))
        return RobustAggregate(delta: delta, anomalies: distanceAnomalies(updates, aggregate: delta))
    }
}
