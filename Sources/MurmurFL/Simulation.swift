import Foundation
import MurmurCore
import MurmurML

/// Where a simulation's data comes from.
public enum DatasetSource: Sendable, Equatable, Codable {
    /// The bundled UCI handwritten digits (1,797 8×8 images).
    case digits
    /// The FedProx Synthetic(α, β) generator, one generating device per client.
    case synthetic(alpha: Double, beta: Double)
    /// A CSV file (label column last unless named).
    case csv(path: String, labelColumn: String?, groupColumn: String?)
    /// MNIST-format IDX files.
    case idx(images: String, labels: String)
}

/// The network to train.
public enum ModelKind: String, Sendable, Codable, CaseIterable {
    case logreg, mlp, cnn
}

/// Every knob of a simulated federation. Defaults are those of `murmur demo`.
public struct SimulationConfig: Sendable, Codable {
    public var dataset: DatasetSource = .digits
    public var model: ModelKind = .mlp
    /// Hidden widths of the MLP.
    public var hidden: [Int] = [128]
    /// CNN conv channels and dense width.
    public var cnnChannels: [Int] = [16]
    public var cnnHidden: Int = 64
    public var partition: PartitionKind = .dirichlet
    /// Dirichlet concentration α for `.dirichlet`.
    public var alpha: Double = 0.5
    /// Shards per client for `.shards`.
    public var shardsPerClient: Int = 2
    public var clients: Int = 100
    public var fraction: Double = 0.2
    public var rounds: Int = 30
    public var localEpochs: Int = 5
    public var batchSize: Int = 16
    public var learningRate: Float = 0.05
    public var momentum: Float = 0.9
    public var weightDecay: Float = 0
    public var strategy: StrategyKind = .fedavg
    public var mu: Float = 0.01
    public var serverLearningRate: Float? = nil
    public var serverMomentum: Float = 0.9
    public var seed: UInt64 = 42
    public var dropout: Double = 0
    public var stragglers: Double = 0
    public var evaluateEvery: Int = 1
    /// Fraction of clients for federated evaluation after evaluated rounds (nil = off).
    public var federatedEvaluationFraction: Double? = nil
    public var maxConcurrency: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Differential privacy (DP-FedAvg); nil = off.
    public var dp: DPConfig? = nil
    /// Secure aggregation (SecAgg+): the server learns only the sum of the updates; nil = off.
    public var secagg: SecAggSettings? = nil

    // Robust aggregation and simulated attacks (issue 6; see Robust/ and Attacks/).
    /// The robust aggregator in the strategy's `combine` hook (`mean` = FedAvg's weighted mean).
    public var aggregator: AggregatorKind = .mean
    /// The attack the malicious clients play (nil = everyone honest).
    public var attack: AttackKind? = nil
    /// Fraction of the population that is malicious.
    public var malicious: Double = 0
    /// Fraction of each round's updates the aggregators assume may be bad (Krum/Bulyan f, trimmed-mean β).
    public var byzantineFraction: Double = 0.2
    /// Size of FLTrust's server root data set.
    public var rootSamples: Int = 100
    /// Fraction of the population that free-rides (Δ = 0, real sample count claimed), besides
    /// `malicious`; for contribution-scoring experiments (Contribution/).
    public var freeRiders: Double = 0

    /// Per-round contribution scoring for a ledger (issue 8; Contribution/); nil = off.
    public var scoring: ContributionScoring? = nil

    public init() {}

    /// Rejects values that cannot work, with a message naming the flag.
    public func validate() throws {
        func bad(_ m: String) -> FLError { .invalidConfiguration(m) }
        guard clients >= 1 else { throw bad("--clients must be ≥ 1, got \(clients)") }
        guard rounds >= 1 else { throw bad("--rounds must be ≥ 1, got \(rounds)") }
        guard localEpochs >= 1 else { throw bad("--local-epochs must be ≥ 1, got \(localEpochs)") }
        guard batchSize >= 1 else { throw bad("--batch-size must be ≥ 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("--lr must be a positive number, got \(learningRate)") }
        guard momentum >= 0, momentum < 1 else { throw bad("--momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 else { throw bad("--weight-decay must be ≥ 0, got \(weightDecay)") }
        guard alpha > 0, alpha.isFinite else { throw bad("--alpha must be > 0, got \(alpha)") }
        guard shardsPerClient >= 1 else { throw bad("--shards-per-client must be ≥ 1, got \(shardsPerClient)") }
        guard mu >= 0 else { throw bad("--mu must be ≥ 0, got \(mu)") }
        guard hidden.allSatisfy({ $0 >= 1 }) else { throw bad("--hidden widths must be ≥ 1") }
        guard evaluateEvery >= 0 else { throw bad("--eval-every must be ≥ 0") }
        if let s = serverLearningRate { guard s > 0 else { throw bad("--server-lr must be > 0, got \(s)") } }
        if case .synthetic(let a, let b) = dataset {
            guard a >= 0, b >= 0 else { throw bad("--synthetic-alpha and --synthetic-beta must be ≥ 0") }
        }
        try ClientSelection.fraction(fraction).validate()
        try NetworkConditions(dropout: dropout, straggler: stragglers).validate()
        if let f = federatedEvaluationFraction { try ClientSelection.fraction(f).validate() }
        try dp?.validate()
        try validateRobustness()
        try validateScoring()
        if let secagg {
            try secagg.validate()
            guard aggregator.worksWithSecureAggregation else {
                throw FLError.invalidConfiguration(
                    "--aggregator \(aggregator.rawValue) needs each client's update, which --secagg hides from the server; use --aggregator mean (clients bound their own norm with --secagg-clip)")
            }
            if let attack, attack.isColluding {
                throw FLError.invalidConfiguration(
                    "--attack \(attack.rawValue) is simulated inside the server's aggregation, which --secagg replaces; run it without --secagg")
            }
            if let dp { try DistributedDPPlan.validate(dp) }  // clients add the noise (distributed discrete Gaussian)
        }
        if dp != nil {
            guard aggregator == .mean else {
                throw FLError.invalidConfiguration(
                    "--dp accounts for the clipped mean of the updates; --aggregator \(aggregator.rawValue) changes what one client can move, which the accountant does not cover. Use --aggregator mean (the default with --dp)")
            }
            if let attack, attack.isColluding {
                throw FLError.invalidConfiguration(
                    "--attack \(attack.rawValue) rewrites updates inside the server's aggregation, which --dp replaces with clip-and-noise; simulate it without --dp")
            }
        }
    }
}

/// Partitioner names as the CLI spells them.
public enum PartitionKind: String, Sendable, Codable, CaseIterable {
    case iid, dirichlet, shards, column
}

/// The outcome of a simulation.
public struct SimulationResult: Sendable {
    public var config: SimulationConfig
    public var model: ModelConfig
    public var parameters: [Float]
    public var history: [RoundRecord]
    /// Final centralized evaluation on the held-out test split.
    public var final: Evaluation
    public var seconds: Double
    public var trainSamples: Int
    public var testSamples: Int
}

/// A federation of simulated devices in one process: loads and splits the data, partitions the
/// training part over the clients, and runs the round protocol over `InMemoryTransport`.
public struct Simulation: Sendable {
    public let config: SimulationConfig
    public let train: Dataset
    public let test: Dataset
    /// The server's validation set for contribution scoring, carved from the test split
    /// (`carveValidation`); nil when scoring is off or needs none.
    public let validation: Dataset?
    public let model: ModelConfig
    /// Each client's sample indices into `train`.
    public let partition: [[Int]]

    /// Loads the data and prepares clients; throws on bad configuration or data.
    public init(config: SimulationConfig) throws {
        try config.validate()
        self.config = config
        let (train, test) = try Self.load(config)
        self.train = train
        (self.validation, self.test) = try Self.carveValidation(test, config: config)
        self.model = try Self.modelConfig(config, data: train)
        var rng = SeededRNG(seed: config.seed, stream: 0x9A27)
        let partitioner: Partitioner
        switch config.partition {
        case .iid: partitioner = .iid
        case .dirichlet: partitioner = .dirichlet(alpha: config.alpha)
        case .shards: partitioner = .shards(perClient: config.shardsPerClient)
        case .column: partitioner = .column
        }
        self.partition = try partitioner.partition(train, clients: config.clients, rng: &rng)
    }

    /// The train/test split: the fixed digits split, or a fixed stratified 80/20 split of other data.
    static func load(_ config: SimulationConfig) throws -> (Dataset, Dataset) {
        let splitSeed: UInt64 = 20_170_217  // fixed: the test set must not move with --seed
        switch config.dataset {
        case .digits:
            return Digits.split()
        case let .synthetic(alpha, beta):
            let all = Synthetic.generate(alpha: alpha, beta: beta, devices: config.clients, seed: config.seed)
            return DataSplit.stratified(all, testFraction: 0.2, seed: splitSeed)
        case let .csv(path, label, group):
            let all = try CSVLoader.load(path: path, labelColumn: label, groupColumn: group)
            return DataSplit.stratified(all, testFraction: 0.2, seed: splitSeed)
        case let .idx(images, labels):
            let all = try IDXLoader.load(images: images, labels: labels)
            return DataSplit.stratified(all, testFraction: 0.2, seed: splitSeed)
        }
    }

    static func modelConfig(_ config: SimulationConfig, data: Dataset) throws -> ModelConfig {
        switch config.model {
        case .logreg:
            return ModelConfig(architecture: .logisticRegression, inputShape: [data.featureCount], classCount: data.classCount)
        case .mlp:
            return ModelConfig(architecture: .mlp(hidden: config.hidden), inputShape: [data.featureCount], classCount: data.classCount)
        case .cnn:
            guard data.sampleShape.count == 3 else {
                throw FLError.invalidConfiguration(
                    "--model cnn needs image data ([channels, height, width]); \(data.name) has samples of shape \(data.sampleShape). Use --model mlp or logreg")
            }
            return ModelConfig(
                architecture: .cnn(channels: config.cnnChannels, hidden: config.cnnHidden),
                inputShape: data.sampleShape, classCount: data.classCount)
        }
    }

    /// The simulated clients (client i trains on `partition[i]`).
    public func makeClients() -> [SimulatedClient] {
        partition.enumerated().map { i, idx in SimulatedClient(id: i, data: train.subset(idx), model: model) }
    }

    /// The round settings derived from the configuration.
    public var roundSettings: RoundSettings {
        RoundSettings(
            rounds: config.rounds,
            selection: config.dp?.selection(clients: config.clients, fraction: config.fraction) ?? .fraction(config.fraction),
            plan: LocalTrainingPlan(
                epochs: config.localEpochs, batchSize: config.batchSize, learningRate: config.learningRate,
                momentum: config.momentum, weightDecay: config.weightDecay),
            seed: config.seed, evaluateEvery: config.evaluateEvery,
            federatedEvaluation: config.federatedEvaluationFraction.map { .fraction($0) },
            maxConcurrency: config.maxConcurrency)
    }

    /// The initial global model (seeded).
    public func initialParameters() throws -> [Float] {
        try Network(config: model, seed: config.seed).parameters
    }

    /// The DP plan a run follows (nil without `--dp`): distributed discrete Gaussian when secure
    /// aggregation is on, else central/local DP-FedAvg. A ledger records its noise and ε budget.
    public func privacyPlan(dimension: Int) throws -> PrivacyPlan? {
        guard let dp = config.dp else { return nil }
        if let secagg = config.secagg {
            return .distributed(try DistributedDPPlan.make(
                dp: dp, secagg: secagg, clients: config.clients, fraction: config.fraction, rounds: config.rounds,
                dimension: dimension), secagg)
        }
        return .central(try dp.plan(clients: config.clients, fraction: config.fraction, rounds: config.rounds))
    }

    /// Runs the whole federation; `progress` is called after every round, then `afterRound` with
    /// the round's record and the new global parameters (a ledger records the model version there).
    public func run(progress: (RoundRecord) -> Void = { _ in },
                    afterRound: (RoundRecord, [Float]) throws -> Void = { _, _ in }) async throws -> SimulationResult {
        try await run(transport: makeTransport(), progress: progress, afterRound: afterRound)
    }

    /// The simulation's transport: `makeClientApps()` in memory, with the configured dropout and
    /// stragglers.
    public func makeTransport() -> InMemoryTransport {
        let clients = makeClientApps()
        return InMemoryTransport(
            clients: clients, ids: Array(clients.indices),
            conditions: NetworkConditions(dropout: config.dropout, straggler: config.stragglers), seed: config.seed)
    }

    /// Runs the same federation (strategy, settings, evaluation) over another transport — the
    /// network node passes libp2p streams to clients built by `makeClientApps()`, so a seeded
    /// networked run can be compared with the simulated one.
    /// With `--secagg`, `secureAggregation` (when given) runs each round's SecAgg+ with the clients
    /// instead of in memory.
    /// `resume` (a restarted aggregator) continues after round `resume.round` from that round's
    /// global model; the server strategy starts fresh, so a stateful server optimizer (FedAvgM,
    /// FedAdam, FedYogi, FedAdagrad) or DP noise stream does not continue bit-exactly.
    public func run(transport: any Transport, secureAggregation: (any SecureRoundAggregation)? = nil,
                    resume: (round: Int, parameters: [Float])? = nil,
                    progress: (RoundRecord) -> Void = { _ in },
                    afterRound: (RoundRecord, [Float]) throws -> Void = { _, _ in }) async throws -> SimulationResult {
        let start = Date()
        let model = self.model
        let test = self.test
        let evaluator: @Sendable ([Float]) throws -> Evaluation = { p in
            try Network(config: model, parameters: p).evaluate(test)
        }
        let initial = try initialParameters()
        var strategy = config.strategy.make(
            parameterCount: initial.count, mu: config.mu, serverLearningRate: config.serverLearningRate,
            serverMomentum: config.serverMomentum)
        strategy = try robustStrategy(wrapping: strategy, initial: initial)
        var settings = roundSettings
        if let secagg = config.secagg, config.dp == nil {
            strategy = SecureAggregation(base: strategy, settings: secagg, seed: config.seed)
            settings.minimumResults = max(settings.minimumResults, 2)
        }
        // DP-FedAvg: wrap the strategy, sample as the accountant assumes, report ε per round.
        var epsilons = [Double]()
        if let dp = config.dp, let privacy = try privacyPlan(dimension: initial.count) {
            epsilons = privacy.epsilons
            settings.minimumResults = 0
            switch privacy {
            case .distributed(let plan, let secagg):
                strategy = DistributedDP(base: strategy, plan: plan, clipNorm: dp.clipNorm,
                                         secagg: secagg, noise: dp.noise, seed: config.seed)
            case .central(let plan):
                strategy = try DifferentialPrivacy(
                    base: strategy, mode: dp.mode, noiseMultiplier: plan.updateNoiseMultiplier, clipNorm: dp.clipNorm,
                    adaptive: plan.adaptive, denominator: plan.denominator, parameterCount: initial.count,
                    noise: dp.noise, seed: config.seed)
            }
        }
        let withEpsilon = { (r: RoundRecord) -> RoundRecord in
            var r = r
            if r.round >= 1 && r.round <= epsilons.count { r.epsilon = epsilons[r.round - 1] }
            return r
        }
        var runner = RoundRunner(transport: transport, settings: settings, evaluator: evaluator)
        runner.contributionScorer = contributionScorer()
        if let secureAggregation {
            // Under --secagg, --dp is distributed DP (clients add the noise) and only scores that
            // need no single update (participation) can be computed from what the server learns.
            guard config.secagg != nil, config.scoring.map({ $0.method == .participation }) ?? true else {
                throw FLError.invalidConfiguration("networked secure aggregation needs --secagg, and with it --scoring participation or none")
            }
            runner.secureAggregation = secureAggregation
        }
        if let resume, resume.parameters.count != initial.count {
            throw FLError.invalidConfiguration("the resumed model has \(resume.parameters.count) parameters, the federation's \(initial.count)")
        }
        var (parameters, history) = try await runner.run(
            strategy: &strategy, initial: resume?.parameters ?? initial, firstRound: (resume?.round ?? 0) + 1, progress: { progress(withEpsilon($0)) },
            afterRound: { try afterRound(withEpsilon($0), $1) })
        history = history.map(withEpsilon)
        let final = try evaluator(parameters)
        return SimulationResult(
            config: config, model: model, parameters: parameters, history: history, final: final,
            seconds: Date().timeIntervalSince(start), trainSamples: train.count, testSamples: test.count)
    }
}

/// The DP plan of a simulation: who adds the noise decides which plan applies.
public enum PrivacyPlan: Sendable {
    /// The server (or each client, local DP) adds Gaussian noise: DP-FedAvg.
    case central(DPPlan)
    /// Clients add discrete Gaussian shares under SecAgg+.
    case distributed(DistributedDPPlan, SecAggSettings)

    /// Noise std of the aggregate over the clip norm.
    public var noiseMultiplier: Double {
        switch self {
        case .central(let p): p.updateNoiseMultiplier
        case .distributed(let p, _): p.noiseMultiplier
        }
    }

    /// ε(δ) after each round, index 0 = round 1.
    public var epsilons: [Double] {
        switch self {
        case .central(let p): p.epsilons
        case .distributed(let p, _): p.epsilons
        }
    }
}

extension SimulationConfig {
    /// The metadata in a federation's model artifact after `round` rounds. `murmur simulate
    /// --out`, the ledger's per-round model CIDs and a node's final model (`FederationEngine`)
    /// all use it, so the same parameters get the same model CID everywhere.
    public func modelMetadata(dataset: String, round: Int) -> [String: String] {
        ["strategy": strategy.rawValue, "rounds": String(round), "dataset": dataset,
         "seed": String(seed), "clients": String(clients)]
    }
}
