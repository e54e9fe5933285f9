import MurmurTensor

/// FedAvgM (Hsu et al. 2019): server momentum on the averaged delta,
/// v ← β·v + Δ̄,  w ← w + η·v.
public struct FedAvgM: Strategy {
    public let name = "fedavgm"
    public var serverLearningRate: Float
    /// Server momentum β.
    public var momentum: Float
    var velocity: [Float]

    public init(parameterCount: Int, serverLearningRate: Float = 1, momentum: Float = 0.9) {
        self.serverLearningRate = serverLearningRate
        self.momentum = momentum
        self.velocity = [Float](repeating: 0, count: parameterCount)
    }

    public mutating func applyServerUpdate(_ delta: [Float], to global: inout [Float], round: Int) {
        Vec.scale(momentum, &velocity)
        Vec.axpy(1, delta, &velocity)
        Vec.axpy(serverLearningRate, velocity, &global)
    }
}
