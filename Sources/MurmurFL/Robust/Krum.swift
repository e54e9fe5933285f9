/// Krum and Multi-Krum (Blanchard et al., NeurIPS 2017, "Machine learning with adversaries:
/// Byzantine tolerant gradient descent"): score each update by the sum of squared distances to
/// its n − f − 2 nearest neighbours; Krum keeps the best-scored update, Multi-Krum averages the
/// m best. Needs n > 2f + 2; with fewer updates f is lowered to fit. Pairwise distances come from one GEMM (`PairwiseDistances`).
public struct Krum: RobustAggregator {
    public var name: String { selectionCount == 1 ? "krum" : "multi-krum" }
    /// Assumed number of Byzantine updates f.
    public var byzantine: Int
    /// Updates averaged: 1 = Krum; nil = n − f (Multi-Krum's usual choice).
    public var selectionCount: Int?

    /// Krum with f assumed Byzantine updates.
    public init(byzantine f: Int) {
        self.byzantine = f
        self.selectionCount = 1
    }

    /// Multi-Krum: average the m best-scored updates (m = n − f when nil).
    public init(byzantine f: Int, multi m: Int?) {
        self.byzantine = f
        self.selectionCount = m
    }

    /// Krum scores from a squared-distance matrix: sᵢ = Σ of the n − f − 2 smallest D[i][j], j ≠ i.
    static func scores(_ dist: [Float], n: Int, f: Int) -> [Double] {
        let neighbours = max(1, n - f - 2)
        return (0..<n).map { i in
            var row = [Float]()
            row.reserveCapacity(n - 1)
            for j in 0..<n where j != i { row.append(dist[i * n + j]) }
            row.sort()
            return row.prefix(neighbours).reduce(0.0) { $0 + Double($1) }
        }
    }

    /// Indices of the m best (lowest) scores, ties broken by index.
    static func best(_ scores: [Double], m: Int) -> [Int] {
        Array(scores.indices.sorted { (scores[$0], $0) < (scores[$1], $1) }.prefix(m))
    }

    public func aggregate(_ updates: ClientUpdates, context: AggregationContext) throws -> RobustAggregate {
        let n = updates.count
        guard byzantine >= 0 else { throw FLError.invalidConfiguration("\(name): f must be ≥ 0, got \(byzantine)") }
        if n <= 2 {  // nothing to compare against: fall back to the mean
            return try Mean().aggregate(updates, context: context)
        }
        // Krum needs n > 2f + 2; a round with fewer updates (dropouts) uses the largest f it allows.
        let f = min(byzantine, (n - 3) / 2)
        let dist = PairwiseDistances.squared(updates)
        let s = Self.scores(dist, n: n, f: f)
        let m = min(n, max(1, selectionCount ?? (n - f)))
        let chosen = Self.best(s, m: m)
        let chosenSet = Set(chosen)
        let delta = updates.weightedMean((0..<n).map { chosenSet.contains($0) ? 1 : 0 })
        let med = median(s)
        let anomalies = (0..<n).map { i in
            ClientAnomaly(client: updates.clients[i], score: med > 0 ? max(0, s[i] / med - 1) : 0, excluded: !chosenSet.contains(i))
        }
        return RobustAggregate(delta: delta, anomalies: anomalies)
    }
}
