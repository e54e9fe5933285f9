/// Centered clipping (Karimireddy, He & Jaggi, ICML 2021, "Learning from history for Byzantine
/// robust optimization", Eq. 2): starting from the previous round's aggregate v,
/// repeat L times v ← v + (1/n) Σᵢ (xᵢ − v)·min(1, τ/‖xᵢ − v‖). Each bad update moves v by at
/// most τ/n per iteration. τ: fixed, or (default) the median of ‖xᵢ − v‖ at the first
/// iteration, an adaptive choice that needs no tuning per model.
public struct CenteredClipping: RobustAggregator {
    public let name = "centered-clip"
    /// Clipping radius τ; nil = median distance to the centre.
    public var radius: Float?
    /// Iterations L (the paper uses 1–3).
    public var iterations: Int

    public init(radius: Float? = nil, iterations: Int = 3) {
        self.radius = radius
        self.iterations = iterations
    }

    public func aggregate(_ updates: ClientUpdates, context: AggregationContext) throws -> RobustAggregate {
        let n = updates.count
        var v = context.previousAggregate ?? [Float](repeating: 0, count: updates.dimension)
        if v.count != updates.dimension { v = [Float](repeating: 0, count: updates.dimension) }
        var tau = radius
        for _ in 0..<max(1, iterations) {
            let dist = updates.distances(to: v)
            let t = tau ?? Float(median(dist.map(Double.init)))
            tau = t
            // v ← v + (1/n) Σ cᵢ (xᵢ − v) = (1 − Σcᵢ/n)·v + Σ (cᵢ/n)·xᵢ, cᵢ = min(1, τ/‖xᵢ − v‖)
            let c = dist.map { $0 > t && $0 > 0 ? t / $0 : 1 }
            let keep = 1 - c.reduce(0, +) / Float(n)
            var next = updates.weightedMean(c)  // Σ cᵢxᵢ / Σ cᵢ
            let scale = c.reduce(0, +) / Float(n)
            for j in 0..<next.count { next[j] = keep * v[j] + scale * next[j] }
            v = next
        }
        return RobustAggregate(delta: v, anomalies: distanceAnomalies(updates, aggregate: v))
    }
}
