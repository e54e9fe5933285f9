/// FedAdam (Reddi et al. 2021): v ← β₂·v + (1 − β₂)·Δ̄², server step η·m/(√v + τ).
public struct FedAdam: Strategy {
    public let name = "fedadam"
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
        moments.step(delta, global: &global, eta: serverLearningRate) { v, g2 in b2 * v + (1 - b2) * g2 }
    }
}
