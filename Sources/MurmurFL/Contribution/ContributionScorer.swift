import MurmurCore
import MurmurML

/// What a contribution scorer sees of one round, taken by `RoundRunner` around the server step.
public struct RoundContributionInput: Sendable {
    /// The round (1-based).
    public var round: Int
    /// w_t, the global model the clients trained from.
    public var global: [Float]
    /// The clients' results as they arrived (sorted by client id).
    public var results: [FitResult]
    /// The server strategy in its state before the round's server step (a copy).
    public var strategy: any Strategy
    /// The robust aggregator's anomaly scores of the round, when it produced them.
    public var anomalies: [ClientAnomaly]?

    /// The round's input, as `RoundRunner` assembles it.
    public init(round: Int, global: [Float], results: [FitResult], strategy: any Strategy, anomalies: [ClientAnomaly]?) {
        self.round = round
        self.global = global
        self.results = results
        self.strategy = strategy
        self.anomalies = anomalies
    }
}

/// Scores each client's contribution to a round; `RoundRunner` stores the result in
/// `RoundRecord.contributions` for the ledger's contribution and reward records.
public protocol ContributionScorer: Sendable {
    /// One contribution per client of the round.
    func score(_ input: RoundContributionInput) throws -> [ClientContribution]
}

/// The scorer `Simulation` installs for `SimulationConfig.scoring`: one of the four methods,
/// judged on the server's validation set, deterministic given the seed.
///
/// Sub-models average coalitions with the round's own rule (`averaging`: sample-weighted under
/// FedAvg, clipped and uniform under secure aggregation) and then take the round's server
/// optimizer step. With a robust aggregator the sub-models still use that plain average: the
/// score says what an update is worth (or costs) when averaged in, not how well the defence
/// hid it; the aggregator's view is carried next to it (`anomalyScore`, `excluded`).
public struct RoundScorer: ContributionScorer {
    /// Method and knobs.
    public let scoring: ContributionScoring
    /// How the round averages updates.
    public let averaging: CoalitionAveraging
    /// The model architecture (to evaluate sub-models).
    public let model: ModelConfig
    /// The validation set (nil only for `participation`).
    public let validation: Dataset?
    /// The federation seed (GTG-Shapley permutations, groups).
    public let seed: UInt64

    /// A scorer; `validation` may be nil only for `participation`.
    public init(scoring: ContributionScoring, averaging: CoalitionAveraging, model: ModelConfig, validation: Dataset?, seed: UInt64) {
        self.scoring = scoring
        self.averaging = averaging
        self.model = model
        self.validation = validation
        self.seed = seed
    }

    /// One contribution per result, in result order, with the aggregator's anomaly view attached.
    public func score(_ input: RoundContributionInput) throws -> [ClientContribution] {
        // The colluding attacks replace updates inside the server strategy: score what it combines.
        let results = (input.strategy as? CollusionStrategy)?.poisoned(input.results) ?? input.results
        guard !results.isEmpty else { return [] }
        let method = scoring.method
        var scores: [Double]
        var groupOf = [Int?](repeating: nil, count: results.count)
        switch method {
        case .participation:
            scores = ParticipationScore.scores(results)
        case .loo:
            var game = try game(players: results.map(averaging.player), input: input)
            scores = try LeaveOneOut.values(&game)
        case .gtgShapley:
            var game = try game(players: results.map(averaging.player), input: input)
            var rng = SeededRNG(seed: seed, stream: 0x67_76_5348, UInt64(input.round))
            scores = try GTGShapley.estimate(&game, options: scoring.gtg, rng: &rng).values
        case .group:
            var rng = SeededRNG(seed: seed, stream: 0x67_5250, UInt64(input.round))
            let groups = GroupScore.groups(count: results.count, size: scoring.groupSize, rng: &rng)
            let players = results.map(averaging.player)
            let d = input.global.count
            var game = try game(players: groups.map { g in GameUpdate.sum(g.map { players[$0] }, dimension: d) }, input: input)
            let values = try GroupScore.groupValues(&game, exactLimit: scoring.exactShapleyGroups, gtg: scoring.gtg, rng: &rng)
            scores = GroupScore.split(groupValues: values, groups: groups, samples: results.map(\.sampleCount))
            for (g, members) in groups.enumerated() { for i in members { groupOf[i] = g } }
        }
        var anomaly = [ClientID: ClientAnomaly]()
        for a in input.anomalies ?? [] { anomaly[a.client] = a }
        return results.indices.map { i in
            let a = anomaly[results[i].client]
            return ClientContribution(
                client: results[i].client, samples: results[i].sampleCount, score: scores[i], method: method,
                group: groupOf[i], anomalyScore: a?.score, excluded: a?.excluded)
        }
    }

    func game(players: [GameUpdate], input: RoundContributionInput) throws -> RoundGame {
        guard let validation else {
            throw FLError.invalidConfiguration("--scoring \(scoring.method.rawValue) needs a validation set (--validation N)")
        }
        let utility = try ValidationUtility(model: model, data: validation, utility: scoring.utility)
        return RoundGame(players: players, global: input.global, strategy: input.strategy, round: input.round, utility: { try utility($0) })
    }
}

/// A client's contributions summed over a run, for "top contributors" tables.
public struct ContributorTotal: Sendable, Codable, Equatable {
    /// The client.
    public var client: ClientID
    /// Rounds it was scored in.
    public var rounds: Int
    /// Samples reported over those rounds.
    public var samples: Int
    /// Σ score over rounds.
    public var score: Double
    /// Mean of its rank within each round (1 = that round's best score; ties share the mean rank).
    public var meanRank: Double

    /// Totals from a run's history, best total score first (ties by client id).
    public static func summarize(_ history: [RoundRecord]) -> [ContributorTotal] {
        var totals = [ClientID: ContributorTotal]()
        for record in history {
            guard let c = record.contributions else { continue }
            for x in c {
                // Fractional ranking: tied scores share the mean of their ranks.
                let above = c.filter { $0.score > x.score }.count
                let tied = c.filter { $0.score == x.score }.count
                let rank = Double(above) + Double(tied + 1) / 2
                var t = totals[x.client] ?? ContributorTotal(client: x.client, rounds: 0, samples: 0, score: 0, meanRank: 0)
                t.meanRank = (t.meanRank * Double(t.rounds) + rank) / Double(t.rounds + 1)
                t.rounds += 1
                t.samples += x.samples
                t.score += x.score
                totals[x.client] = t
            }
        }
        return totals.values.sorted { $0.score != $1.score ? $0.score > $1.score : $0.client < $1.client }
    }
}
