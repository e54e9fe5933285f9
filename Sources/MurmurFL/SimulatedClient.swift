import MurmurCore
import MurmurML
import MurmurTensor

/// A simulated device: its local data and the model architecture. It holds no model state between
/// rounds: a `Network` exists only while `fit` or `evaluate` runs, so memory stays bounded by the
/// number of clients training at once, not by the population.
public struct SimulatedClient: ClientApp {
    public let id: ClientID
    public let data: Dataset
    public let model: ModelConfig

    public init(id: ClientID, data: Dataset, model: ModelConfig) {
        self.id = id
        self.data = data
        self.model = model
    }

    /// Local training (SGD with the plan's knobs) starting from the global model; returns
    /// Δ = w_local − w_global. The batch order comes from (seed, round, client id).
    public func fit(_ instruction: FitInstruction) throws -> FitResult {
        let plan = instruction.plan
        let global = instruction.parameters
        let net = try Network(config: model, parameters: global)
        var optimizer = SGD(learningRate: plan.learningRate, momentum: plan.momentum, weightDecay: plan.weightDecay)
        var rng = Self.batchOrderRNG(seed: instruction.seed, round: instruction.round, client: id)
        let mu = plan.proximalMu
        // FedProx: ∇[μ/2·‖w − w₀‖²] = μ(w − w₀), added to every local gradient.
        let hook: ((UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void)? =
            mu == 0 ? nil : { g, w in
                global.withUnsafeBufferPointer { w0 in
                    for i in 0..<g.count { g[i] += mu * (w[i] - w0[i]) }
                }
            }
        let stats = Trainer.train(
            net, on: data, epochs: plan.epochs, batchSize: plan.batchSize,
            optimizer: &optimizer, rng: &rng, gradientHook: hook)
        var delta = net.parameters
        Vec.axpy(-1, global, &delta)
        return FitResult(client: id, delta: delta, sampleCount: data.count, trainLoss: stats.meanLoss)
    }

    /// The generator behind a client's minibatch order in a round: a pure function of
    /// (federation seed, round, client id), so any replay (or a reference implementation) can
    /// reproduce the exact batches.
    public static func batchOrderRNG(seed: UInt64, round: Int, client: ClientID) -> SeededRNG {
        SeededRNG(seed: seed, stream: 0xF17, UInt64(round), UInt64(client))
    }

    /// Evaluates the global model on this client's local data.
    public func evaluate(_ instruction: EvaluateInstruction) throws -> EvaluateResult {
        let net = try Network(config: model, parameters: instruction.parameters)
        return EvaluateResult(client: id, evaluation: net.evaluate(data))
    }
}
