import MurmurML

/// A client's identity within one federation (its index in the population).
public typealias ClientID = Int

/// How a client trains locally in one round: the server sends it with the model.
public struct LocalTrainingPlan: Sendable, Codable, Equatable {
    /// Passes over the client's local data.
    public var epochs: Int
    /// Minibatch size (the last batch of an epoch may be smaller).
    public var batchSize: Int
    /// Client learning rate.
    public var learningRate: Float
    /// SGD momentum on the client.
    public var momentum: Float
    /// L2 weight decay on the client.
    public var weightDecay: Float
    /// FedProx proximal coefficient μ: the client adds μ(w − w_global) to each gradient
    /// (Li et al. 2020). 0 is plain local SGD.
    public var proximalMu: Float

    public init(epochs: Int, batchSize: Int, learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, proximalMu: Float = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.proximalMu = proximalMu
    }
}

/// Server → client: train the global model on your data.
public struct FitInstruction: Sendable, Codable {
    public var round: Int
    /// The global model's flat parameters.
    public var parameters: [Float]
    public var plan: LocalTrainingPlan
    /// The federation's seed: clients derive their batch order from (seed, round, client id).
    public var seed: UInt64

    public init(round: Int, parameters: [Float], plan: LocalTrainingPlan, seed: UInt64) {
        self.round = round
        self.parameters = parameters
        self.plan = plan
        self.seed = seed
    }
}

/// Client → server: the result of local training.
public struct FitResult: Sendable, Codable {
    public var client: ClientID
    /// Δ = w_local − w_global.
    public var delta: [Float]
    /// Number of local samples trained on (the FedAvg weight).
    public var sampleCount: Int
    /// Mean training loss over the local steps.
    public var trainLoss: Double

    public init(client: ClientID, delta: [Float], sampleCount: Int, trainLoss: Double) {
        self.client = client
        self.delta = delta
        self.sampleCount = sampleCount
        self.trainLoss = trainLoss
    }
}

/// Server → client: evaluate the global model on your local data (federated evaluation).
public struct EvaluateInstruction: Sendable, Codable {
    public var round: Int
    public var parameters: [Float]

    public init(round: Int, parameters: [Float]) {
        self.round = round
        self.parameters = parameters
    }
}

/// Client → server: local evaluation of the global model.
public struct EvaluateResult: Sendable, Codable {
    public var client: ClientID
    public var evaluation: Evaluation

    public init(client: ClientID, evaluation: Evaluation) {
        self.client = client
        self.evaluation = evaluation
    }
}
