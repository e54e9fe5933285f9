/// How a round's clients are scored for a ledger's contribution records and rewards (issue 8).
///
/// `participation` and `group` only need what a server running secure aggregation learns (who
/// took part, their self-reported sample counts, and — for `group` — one sum per group); `loo`
/// and `gtgShapley` need each client's update and so run in plaintext mode only.
public enum ContributionMethod: String, CaseIterable, Sendable, Codable {
    /// score = samples, for every client whose update arrived (participation × samples).
    case participation
    /// score = u(all) − u(all without the client), on the validation set.
    case loo
    /// Shapley value of the round's game by GTG-Shapley (Liu et al. 2022, ACM TIST 13(4):60).
    case gtgShapley = "gtg-shapley"
    /// Shapley value of secure-aggregation groups, split to members by samples.
    case group

    /// Whether the method works when the server only sees sums (`--secagg`).
    public var worksWithSecureAggregation: Bool { self == .participation || self == .group }

    /// Whether the method needs a validation set (every method but `participation`).
    public var needsValidation: Bool { self != .participation }
}

/// The utility u(w) a model is judged by when scoring contributions.
///
/// Default `.negativeLoss`: −(mean validation cross-entropy). It is smooth, so every update
/// moves it a little and leave-one-out and Shapley marginals are rarely exactly zero; validation
/// accuracy on a few hundred samples moves in steps of 1/N and ties most clients at 0.
public enum ContributionUtility: String, CaseIterable, Sendable, Codable {
    /// −(mean softmax cross-entropy on the validation set); higher is better.
    case negativeLoss = "loss"
    /// Fraction of the validation set classified correctly (the utility of Liu et al. 2022 §5).
    case accuracy
}

/// The knobs of GTG-Shapley (Liu et al. 2022, Alg. 1). Defaults follow the public reference
/// implementations of the paper (ε = 0.001, between-round threshold 0.001, 5 % relative change
/// over the last 10 estimates, at least 30 permutations), plus a cap on permutations.
public struct GTGShapleyOptions: Sendable, Codable, Equatable {
    /// Between-round truncation: a round with |u(w_{t+1}) − u(w_t)| ≤ this gives every client 0.
    public var roundThreshold: Double = 0.001
    /// Within-round truncation: once |u(w_{t+1}) − u(prefix)| < ε, the rest of the permutation
    /// adds nothing and is not evaluated.
    public var epsilon: Double = 0.001
    /// Sampling stops (at the end of a guided cycle) when the relative L1 change of the
    /// estimates over the last `window` permutations is ≤ this…
    public var convergence: Double = 0.05
    /// …over this many last permutations.
    public var window: Int = 10
    /// At least this many permutations.
    public var minPermutations: Int = 30
    /// At most this many permutations (a hard cost cap; the paper stops on convergence only).
    public var maxPermutations: Int = 200

    /// The defaults above.
    public init() {}
}

/// `SimulationConfig.scoring`: which method scores each round, and the validation set it uses.
public struct ContributionScoring: Sendable, Codable, Equatable {
    /// The scoring method.
    public var method: ContributionMethod
    /// Samples carved from the server's test split as the validation set (unused by
    /// `participation`). The reported test accuracy is then measured on the rest of the split.
    public var validationSamples: Int = 100
    /// What a model is judged by.
    public var utility: ContributionUtility = .negativeLoss
    /// Clients per secure-aggregation group for `.group` (the last groups may have one fewer).
    public var groupSize: Int = 3
    /// GTG-Shapley knobs (also used over groups when there are more than `exactShapleyGroups`).
    public var gtg = GTGShapleyOptions()
    /// Up to this many groups, `.group` computes the exact Shapley value over 2^G coalitions.
    public var exactShapleyGroups: Int = 10

    /// Scoring with `method` and the defaults above.
    public init(method: ContributionMethod) { self.method = method }

    /// Rejects values that cannot work, with a message naming the flag.
    public func validate() throws {
        func bad(_ m: String) -> FLError { .invalidConfiguration(m) }
        if method.needsValidation {
            guard validationSamples >= 1 else { throw bad("--validation must be ≥ 1 samples, got \(validationSamples)") }
        }
        guard groupSize >= 1 else { throw bad("--group-size must be ≥ 1, got \(groupSize)") }
        guard gtg.epsilon >= 0, gtg.roundThreshold >= 0, gtg.convergence > 0, gtg.window >= 1 else {
            throw bad("GTG-Shapley thresholds must be ≥ 0 and the convergence window ≥ 1")
        }
        guard gtg.minPermutations >= 1, gtg.maxPermutations >= gtg.minPermutations else {
            throw bad("GTG-Shapley needs 1 ≤ minPermutations ≤ maxPermutations, got \(gtg.minPermutations) and \(gtg.maxPermutations)")
        }
        guard (1...20).contains(exactShapleyGroups) else { throw bad("exactShapleyGroups must be in 1…20, got \(exactShapleyGroups)") }
    }
}

/// One client's contribution to one round, as `RoundRecord.contributions` carries it: the
/// fields a ledger's `contribution` record needs (round and peer come from the record and the
/// federation's client → peer map).
public struct ClientContribution: Sendable, Codable, Equatable {
    /// The client (its index in the simulated population).
    public var client: ClientID
    /// The sample count the client reported (self-reported; the server cannot check it).
    public var samples: Int
    /// The score: samples for `participation`, a utility difference for the other methods
    /// (positive = the client's update made the validation utility better).
    public var score: Double
    /// The method that produced `score`.
    public var method: ContributionMethod
    /// The secure-aggregation group the client was in (`group` method only).
    public var group: Int? = nil
    /// The robust aggregator's anomaly score for the client this round (nil without one).
    public var anomalyScore: Double? = nil
    /// True when the robust aggregator gave the update no weight (nil without one).
    public var excluded: Bool? = nil

    /// A contribution entry.
    public init(client: ClientID, samples: Int, score: Double, method: ContributionMethod, group: Int? = nil, anomalyScore: Double? = nil, excluded: Bool? = nil) {
        self.client = client
        self.samples = samples
        self.score = score
        self.method = method
        self.group = group
        self.anomalyScore = anomalyScore
        self.excluded = excluded
    }
}
