import Foundation

/// Coordinate-wise median (Yin et al., ICML 2018, "Byzantine-robust distributed learning:
/// towards optimal statistical rates"): each parameter is the median of the clients' values,
/// robust to any minority of arbitrary updates per coordinate.
public struct CoordinateMedian: RobustAggregator {
    public let name = "median"
    /// Threads for the column work.
    public var threads: Int

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) { self.threads = threads }

    public func aggregate(_ updates: ClientUpdates, context: AggregationContext) throws -> RobustAggregate {
        let n = updates.count
        let delta = CoordinateStatistics.trimmedMean(updates, trim: (n - 1) / 2, threads: threads)
        return RobustAggregate(delta: delta, anomalies: distanceAnomalies(updates, aggregate: delta))
    }
}
