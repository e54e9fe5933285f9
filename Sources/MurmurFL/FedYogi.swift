/// FedYogi (Reddi et al. 2021, after Zaheer et al. 2018):
/// v ← v − (1 − β₂)·Δ̄²·sign(v − Δ̄²), which grows v more cautiously than Adam.
public struct FedYogi: Strategy {
    public let name = "fedyogi"
    public var serverLearningRate: Float
    public let beta2: Float
    var moments: AdaptiveMoments

    public init(parameterCount: Int, serverLearningRate: Float = 0.01, beta1: Float = 0.9, beta2: Float = 0.99, tau: Float = 1e-3) {
        self.serverLearningRate = serverLearningRate
        self.beta2 = beta2
        moments = AdaptiveMoments(parameterCount: parameterCount, beta1: beta1, tau: tau)
    }

    public mutating func applyServerUpdate(_ delta: [Float], to global: inout [Float], round: Int) {
        let b2 = beta2
        moments.step(delta, global: &global, eta: serverLearningRate) { v, g2 in
            let s: Float = v > g2 ? 1 : (v < g2 ? -1 : 0)
            return v - (1 - b2) * g2 * s
        }
    }
}
