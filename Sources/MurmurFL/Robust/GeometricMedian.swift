import MurmurTensor

/// Geometric median by the smoothed Weiszfeld algorithm of RFA (Pillutla, Kakade & Harchaoui,
/// IEEE TSP 2022, "Robust aggregation for federated learning", Alg. 2): v ← Σ βᵢxᵢ / Σ βᵢ with
/// βᵢ = αᵢ / max(ν, ‖v − xᵢ‖), αᵢ the sample weights. Breakdown point 1/2.
public struct GeometricMedian: RobustAggregator {
    public let name = "geomed"
    /// Smoothing ν (avoids division by zero when v lands on an update).
    public var smoothing: Float
    /// Maximum Weiszfeld iterations.
    public var maxIterations: Int
    /// Stop when the objective Σ αᵢ‖v − xᵢ‖ improves by less than this fraction.
    public var tolerance: Double

    public init(smoothing: Float = 1e-6, maxIterations: Int = 20, tolerance: Double = 1e-5) {
        self.smoothing = smoothing
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }

    public func aggregate(_ updates: ClientUpdates, context: AggregationContext) throws -> RobustAggregate {
        let alpha = updates.sampleCounts.map { Double(max($0, 0)) }
        guard alpha.reduce(0, +) > 0 else { throw FLError.invalidConfiguration("all clients reported 0 samples") }
        var v = updates.weightedMean(alpha.map(Float.init))
        var dist = updates.distances(to: v)
        var objective = zip(alpha, dist).reduce(0.0) { $0 + $1.0 * Double($1.1) }
        for _ in 0..<maxIterations {
            let beta = (0..<updates.count).map { Float(alpha[$0] / Double(max(smoothing, dist[$0]))) }
            v = updates.weightedMean(beta)
            dist = updates.distances(to: v)
            let next = zip(alpha, dist).reduce(0.0) { $0 + $1.0 * Double($1.1) }
            let done = objective - next <= tolerance * max(next, 1e-30)
            objective = next
            if done { break }
        }
        return RobustAggregate(delta: v, anomalies: distanceAnomalies(updates, aggregate: v))
    }
}
