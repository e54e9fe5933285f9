import MurmurTensor

/// FedAvg (McMahan et al. 2017): w ← w + η·Δ̄ with Δ̄ the sample-weighted mean of client deltas.
/// With η = 1 this is exactly the weighted average of the clients' models.
public struct FedAvg: Strategy {
    public let name = "fedavg"
    /// Server learning rate η (1 = plain model averaging).
    public var serverLearningRate: Float

    public init(serverLearningRate: Float = 1) { self.serverLearningRate = serverLearningRate }

    public mutating func applyServerUpdate(_ delta: [Float], to global: inout [Float], round: Int) {
        Vec.axpy(serverLearningRate, delta, &global)
    }
}
