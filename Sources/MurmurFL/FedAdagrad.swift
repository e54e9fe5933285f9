/// FedAdagrad (Reddi et al. 2021): v ← v + Δ̄², server step η·m/(√v + τ).
public struct FedAdagrad: Strategy {
    public let name = "fedadagrad"
    public var serverLearningRate: Float
    var moments: AdaptiveMoments

    public init(parameterCount: Int, serverLearningRate: Float = 0.1, beta1: Float = 0, tau: Float = 1e-3) {
        self.serverLearningRate = serverLearningRate
        moments = AdaptiveMoments(parameterCount: parameterCount, beta1: beta1, tau: tau)
    }

    public mutating func applyServerUpdate(_ delta: [Float], to global: inout [Float], round: Int) {
        moments.step(delta, global: &global, eta: serverLearningRate) { v, g2 in v + g2 }
    }
}
