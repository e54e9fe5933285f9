import MurmurTensor

/// FedProx (Li et al. 2020): FedAvg aggregation, with clients minimising
/// Fₖ(w) + μ/2·‖w − w_global‖², i.e. adding μ(w − w_global) to every local gradient.
public struct FedProx: Strategy {
    public let name = "fedprox"
    /// Proximal coefficient μ.
    public var mu: Float
    public var serverLearningRate: Float

    public init(mu: Float, serverLearningRate: Float = 1) {
        self.mu = mu
        self.serverLearningRate = serverLearningRate
    }

    public func configureFit(round: Int, plan: LocalTrainingPlan) -> LocalTrainingPlan {
        var p = plan
        p.proximalMu = mu
        return p
    }

    public mutating func applyServerUpdate(_ delta: [Float], to global: inout [Float], round: Int) {
        Vec.axpy(serverLearningRate, delta, &global)
    }
}
