import ArgumentParser
import Foundation
import MurmurFL

extension StrategyKind: ExpressibleByArgument {}
extension ModelKind: ExpressibleByArgument {}
extension PartitionKind: ExpressibleByArgument {}
extension ContributionMethod: ExpressibleByArgument {}
extension ContributionUtility: ExpressibleByArgument {}

/// Every knob of a simulated federation, as flags.
struct SimulationOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Data set: digits (bundled), synthetic (FedProx Synthetic(α, β)), or a PATH to a CSV file, an IDX images file (with --labels), or a folder with MNIST IDX files.",
        valueName: "digits|synthetic|PATH"))
    var dataset: String = "digits"

    @Option(help: "IDX labels file, when --dataset is an IDX images file.")
    var labels: String?

    @Option(help: "CSV label column (name or 0-based index; default: the last column).")
    var labelColumn: String?

    @Option(help: "CSV column holding a natural client id, for --partition column.")
    var groupColumn: String?

    @Option(name: .customLong("synthetic-alpha"), help: "α of Synthetic(α, β): how much the devices' models differ.")
    var syntheticAlpha: Double = 0.5

    @Option(name: .customLong("synthetic-beta"), help: "β of Synthetic(α, β): how much the devices' inputs differ.")
    var syntheticBeta: Double = 0.5

    @Option(help: "Model: logreg, mlp or cnn (cnn needs image data such as digits).")
    var model: ModelKind = .mlp

    @Option(help: "Hidden layer widths of the MLP, comma-separated.")
    var hidden: String = "128"

    @Option(help: "How the training data is split over clients: iid, dirichlet (label skew, see --alpha), shards (McMahan et al.), column (natural, see --group-column).")
    var partition: PartitionKind = .dirichlet

    @Option(help: "Dirichlet concentration α: small = very non-IID, large = nearly IID.")
    var alpha: Double = 0.5

    @Option(help: "Label shards per client for --partition shards.")
    var shardsPerClient: Int = 2

    @Option(help: "Number of simulated devices.")
    var clients: Int = 100

    @Option(help: "Fraction of clients sampled each round, in (0, 1].")
    var fraction: Double = 0.2

    @Option(help: "Federated rounds.")
    var rounds: Int = 30

    @Option(help: "Local epochs per round.")
    var localEpochs: Int = 5

    @Option(help: "Local minibatch size.")
    var batchSize: Int = 16

    @Option(help: "Client learning rate (SGD).")
    var lr: Float = 0.05

    @Option(help: "Client SGD momentum.")
    var momentum: Float = 0.9

    @Option(help: "Client L2 weight decay.")
    var weightDecay: Float = 0

    @Option(help: "Server strategy: fedavg, fedprox, fedavgm, fedadam, fedyogi, fedadagrad.")
    var strategy: StrategyKind = .fedavg

    @Option(help: "FedProx proximal coefficient μ.")
    var mu: Float = 0.01

    @Option(help: "Server learning rate (default: 1 for fedavg/fedprox/fedavgm, 0.01 fedadam/fedyogi, 0.1 fedadagrad).")
    var serverLr: Float?

    @Option(help: "Server momentum β for fedavgm.")
    var serverMomentum: Float = 0.9

    @Option(help: "Seed: the same seed gives the same run, bit for bit.")
    var seed: UInt64 = 42

    @Option(help: "Per-round probability that a selected client drops out, in [0, 1).")
    var dropout: Double = 0

    @Option(help: "Per-round probability that a selected client answers too late (its work is discarded), in [0, 1).")
    var stragglers: Double = 0

    @Option(help: "Evaluate the global model on the test split every N rounds (0 = only at the end).")
    var evalEvery: Int = 1

    @Option(help: "Also run federated evaluation on this fraction of clients' local data after evaluated rounds.")
    var federatedEval: Double?

    @Option(help: "Clients trained at once (default: number of cores).")
    var concurrency: Int?

    // Differential privacy (--dp, --clip, --noise, --target-epsilon, --delta, …): PrivacyOptions.swift.
    @OptionGroup(title: "Differential privacy") var privacy: PrivacyOptions

    // Robust aggregation and attacks (issue 6).
    @Option(help: "Robust aggregator in the server's combine step: mean, median, trimmed-mean, krum, multi-krum, bulyan, geomed, centered-clip, norm-bound, fltrust. `mean` is plain FedAvg averaging. Default: centered-clip, or mean with --dp.")
    var aggregator: AggregatorKind?

    @Option(help: "Attack played by the malicious clients: label-flip, sign-flip, noise, backdoor, alie, ipm, min-max, min-sum, free-ride (needs --malicious).")
    var attack: AttackKind?

    @Option(help: "Fraction of the clients that are malicious, in [0, 1).")
    var malicious: Double = 0

    @Option(help: "Fraction of each round's updates the aggregator assumes may be bad (Krum/Bulyan f, trimmed-mean β), in [0, 0.5).")
    var assumedMalicious: Double = 0.2

    @Option(help: "Samples in FLTrust's server root data set.")
    var rootSamples: Int = 100

    // Secure aggregation (SecAgg+).
    @Flag(help: "Secure aggregation (SecAgg+): the server learns only the sum of each round's updates. Clients weigh equally.")
    var secagg = false

    @Option(help: "With --secagg: L2 bound each client applies to its update before quantisation.")
    var secaggClip: Float = 1

    @Option(help: "With --secagg: probability that a client drops out at a random stage of the protocol, in [0, 1).")
    var secaggDropout: Double = 0

    // Contribution scoring (issue 8; docs/contribution.md).
    @Option(help: "Score every client's contribution each round: participation (samples), loo (leave-one-out), gtg-shapley, or group (Shapley over secure-aggregation groups). With --secagg only participation and group.")
    var scoring: ContributionMethod?

    @Option(help: "With --scoring loo|gtg-shapley|group: validation samples carved from the test split (default 100; test accuracy is then measured on the rest).")
    var validation: Int?

    @Option(help: "With --scoring: the utility sub-models are judged by, loss (−validation cross-entropy) or accuracy.")
    var scoringUtility: ContributionUtility = .negativeLoss

    @Option(help: "With --scoring group: clients per secure-aggregation group, at least (default 3).")
    var groupSize: Int?

    @Option(help: "Fraction of the clients that free-ride (send no update, claim their samples), besides --malicious, in [0, 1).")
    var freeRiders: Double = 0

    /// The aggregator of `murmur simulate` when none is given (chosen from docs/robustness.md).
    static let defaultAggregator: AggregatorKind = .centeredClip

    /// The library configuration these flags describe.
    func config() throws -> SimulationConfig {
        var c = SimulationConfig()
        switch dataset {
        case "digits": c.dataset = .digits
        case "synthetic": c.dataset = .synthetic(alpha: syntheticAlpha, beta: syntheticBeta)
        default:
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dataset, isDirectory: &isDir) else {
                throw ValidationError("--dataset: '\(dataset)' is not 'digits', 'synthetic', or an existing file or folder")
            }
            if isDir.boolValue {
                c.dataset = try Self.idxFolder(dataset)
            } else if let labels {
                c.dataset = .idx(images: dataset, labels: labels)
            } else if dataset.lowercased().hasSuffix(".csv") || dataset.lowercased().hasSuffix(".txt") {
                c.dataset = .csv(path: dataset, labelColumn: labelColumn, groupColumn: groupColumn)
            } else if dataset.contains("idx") || dataset.contains("ubyte") {
                throw ValidationError("--dataset '\(dataset)' looks like an IDX images file: give its labels with --labels PATH")
            } else {
                c.dataset = .csv(path: dataset, labelColumn: labelColumn, groupColumn: groupColumn)
            }
        }
        c.model = model
        let widths = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--hidden must be comma-separated positive integers, e.g. 128 or 256,128; got '\(hidden)'")
        }
        c.hidden = widths.compactMap { $0 }
        c.partition = partition
        if partition == .column, case .csv(_, _, nil) = c.dataset {
            throw ValidationError("--partition column with a CSV file needs --group-column NAME")
        }
        if partition == .column, case .digits = c.dataset {
            throw ValidationError("--partition column needs data with a natural client column (synthetic, or a CSV with --group-column); digits has none")
        }
        c.alpha = alpha
        c.shardsPerClient = shardsPerClient
        c.clients = clients
        c.fraction = fraction
        c.rounds = rounds
        c.localEpochs = localEpochs
        c.batchSize = batchSize
        c.learningRate = lr
        c.momentum = momentum
        c.weightDecay = weightDecay
        c.strategy = strategy
        c.mu = mu
        c.serverLearningRate = serverLr
        c.serverMomentum = serverMomentum
        c.seed = seed
        c.dropout = dropout
        c.stragglers = stragglers
        c.evaluateEvery = evalEvery
        c.federatedEvaluationFraction = federatedEval
        c.attack = attack
        c.malicious = malicious
        c.byzantineFraction = assumedMalicious
        c.rootSamples = rootSamples
        c.freeRiders = freeRiders
        if let method = scoring {
            var sc = ContributionScoring(method: method)
            sc.validationSamples = validation ?? sc.validationSamples
            sc.utility = scoringUtility
            sc.groupSize = groupSize ?? sc.groupSize
            c.scoring = sc
        } else if validation != nil || groupSize != nil || scoringUtility != .negativeLoss {
            throw ValidationError("--validation, --group-size and --scoring-utility need --scoring METHOD")
        }
        if let concurrency {
            guard concurrency >= 1 else { throw ValidationError("--concurrency must be ≥ 1") }
            c.maxConcurrency = concurrency
        }
        c.dp = try privacy.config()
        if secagg {
            var sa = SecAggSettings()
            sa.clipNorm = secaggClip
            sa.stageDropout = secaggDropout
            c.secagg = sa
        } else if secaggDropout != 0 || secaggClip != 1 {
            throw ValidationError("--secagg-clip and --secagg-dropout need --secagg")
        }
        c.aggregator = aggregator ?? ((c.dp != nil || c.secagg != nil) ? .mean : SimulationOptions.defaultAggregator)
        do {
            try c.validate()
        } catch let e as FLError {
            throw ValidationError(e.description)
        }
        return c
    }

    /// A folder with MNIST files: the first `*images*` and `*labels*` IDX files in it.
    static func idxFolder(_ path: String) throws -> DatasetSource {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path).sorted()) ?? []
        let images = names.first { $0.contains("images") && ($0.contains("idx") || $0.contains("ubyte")) }
        let labels = names.first { $0.contains("labels") && ($0.contains("idx") || $0.contains("ubyte")) }
        guard let images, let labels else {
            throw ValidationError("--dataset folder '\(path)' has no pair of IDX files named like train-images-idx3-ubyte and train-labels-idx1-ubyte")
        }
        return .idx(images: (path as NSString).appendingPathComponent(images), labels: (path as NSString).appendingPathComponent(labels))
    }
}
