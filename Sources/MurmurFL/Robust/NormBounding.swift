/// Norm bounding (Sun et al. 2019, "Can you really backdoor federated learning?"): scale every
/// update down to norm ≤ M, then take the sample-weighted mean. Blunts scaled (model
/// replacement) updates; M is fixed or (default) the round's median update norm.
/// With secure aggregation this is the check that still applies, done on the client.
public struct NormBounding: RobustAggregator {
    public let name = "norm-bound"
    /// The bound M; nil = the median norm of the round's updates.
    public var bound: Float?

    public init(bound: Float? = nil) { self.bound = bound }

    public func aggregate(_ updates: ClientUpdates, context: AggregationContext) throws -> RobustAggregate {
        let norms = updates.rowNorms()
        let m = bound ?? Float(median(norms.map(Double.init)))
        let weights = (0..<updates.count).map { i -> Float in
            let s = norms[i] > m && norms[i] > 0 ? m / norms[i] : 1
            return Float(updates.sampleCounts[i]) * s
        }
        // Σ nᵢ·sᵢ·xᵢ / Σ nᵢ: the weighted mean of the clipped updates.
        var delta = updates.weightedMean(weights)
        let total = Float(updates.sampleCounts.reduce(0, +))
        guard total > 0 else { throw FLError.invalidConfiguration("all clients reported 0 samples") }
        let kept = weights.reduce(0, +) / total
        for j in 0..<delta.count { delta[j] *= kept }
        let anomalies = (0..<updates.count).map { i in
            ClientAnomaly(client: updates.clients[i], score: m > 0 ? max(0, Double(norms[i] / m) - 1) : 0, excluded: false)
        }
        return RobustAggregate(delta: delta, anomalies: anomalies)
    }
}
