import Foundation

/// Bulyan (El Mhamdi et al., ICML 2018, "The hidden vulnerability of distributed learning in
/// Byzantium"): pick θ = n − 2f updates by applying Krum repeatedly (each time removing the
/// chosen update), then in every coordinate average the β = θ − 2f values around the median
/// (implemented as the trimmed mean dropping f at each end). Needs n ≥ 4f + 3; with fewer updates f is lowered to fit.
public struct Bulyan: RobustAggregator {
    public let name = "bulyan"
    /// Assumed number of Byzantine updates f.
    public var byzantine: Int
    /// Threads for the coordinate-wise step.
    public var threads: Int

    public init(byzantine f: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.byzantine = f
        self.threads = threads
    }

    /// The θ indices chosen by iterated Krum on a squared-distance matrix.
    static func iteratedKrum(_ dist: [Float], n: Int, f: Int, count theta: Int) -> [Int] {
        // Each row's other indices sorted by distance once; a Krum score over the remaining set
        // walks that order skipping removed indices.
        let order: [[Int]] = (0..<n).map { i in
            (0..<n).filter { $0 != i }.sorted { (dist[i * n + $0], $0) < (dist[i * n + $1], $1) }
        }
        var remaining = [Bool](repeating: true, count: n)
        var left = n
        var chosen = [Int]()
        while chosen.count < theta {
            let k = max(1, left - f - 2)
            var bestScore = Double.infinity, best = -1
            for i in 0..<n where remaining[i] {
                var s = 0.0, taken = 0
                for j in order[i] where remaining[j] {
                    s += Double(dist[i * n + j])
                    taken += 1
                    if taken == k { break }
                }
                if s < bestScore { bestScore = s; best = i }
            }
            guard best >= 0 else { break }
            chosen.append(best)
            remaining[best] = false
            left -= 1
        }
        return chosen
    }

    public func aggregate(_ updates: ClientUpdates, context: AggregationContext) throws -> RobustAggregate {
        let n = updates.count
        guard byzantine >= 0 else { throw FLError.invalidConfiguration("bulyan: f must be ≥ 0, got \(byzantine)") }
        if n < 3 { return try Mean().aggregate(updates, context: context) }
        // Bulyan needs n ≥ 4f + 3; a round with fewer updates uses the largest f it allows.
        let f = min(byzantine, (n - 3) / 4)
        let dist = PairwiseDistances.squared(updates)
        let theta = n - 2 * f
        let chosen = Self.iteratedKrum(dist, n: n, f: f, count: theta)
        let selected = updates.rows(chosen)
        let delta = CoordinateStatistics.trimmedMean(selected, trim: f, threads: threads)
        return RobustAggregate(delta: delta, anomalies: distanceAnomalies(updates, aggregate: delta, excluded: Set(0..<n).subtracting(chosen)))
    }
}
