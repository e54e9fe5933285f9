import Foundation

/// Coordinate-wise β-trimmed mean (Yin et al., ICML 2018): in each coordinate drop the ⌈β·n⌉
/// largest and smallest values and average the rest. Tolerates up to β·n bad updates.
public struct TrimmedMean: RobustAggregator {
    public let name = "trimmed-mean"
    /// Fraction trimmed from each end, in [0, 0.5).
    public var beta: Double
    /// Threads for the column work.
    public var threads: Int

    public init(beta: Double, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.beta = beta
        self.threads = threads
    }

    /// Values dropped at each end for n updates (at most (n − 1)/2).
    public func trimCount(_ n: Int) -> Int { min((n - 1) / 2, Int((beta * Double(n)).rounded(.up))) }

    public func aggregate(_ updates: ClientUpdates, context: AggregationContext) throws -> RobustAggregate {
        guard beta >= 0, beta < 0.5 else { throw FLError.invalidConfiguration("trimmed mean: β must be in [0, 0.5), got \(beta)") }
        let delta = CoordinateStatistics.trimmedMean(updates, trim: trimCount(updates.count), threads: threads)
        return RobustAggregate(delta: delta, anomalies: distanceAnomalies(updates, aggregate: delta))
    }
}
