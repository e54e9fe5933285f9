import Foundation
import Logging
import MurmurML

/// Settings of the round protocol that do not belong to a strategy.
public struct RoundSettings: Sendable {
    /// Number of rounds to run.
    public var rounds: Int
    /// Clients sampled per round.
    public var selection: ClientSelection
    /// Local training plan (the strategy may adjust it per round).
    public var plan: LocalTrainingPlan
    /// The federation seed (sampling, client batch order).
    public var seed: UInt64
    /// A round aborts unless at least this many client results arrive.
    public var minimumResults: Int
    /// Centralized evaluation every this many rounds (and always after the last round); 0 = never.
    public var evaluateEvery: Int
    /// Fraction of clients asked for federated evaluation after each evaluated round; nil = none.
    public var federatedEvaluation: ClientSelection?
    /// Clients training at once (defaults to the number of cores).
    public var maxConcurrency: Int

    public init(
        rounds: Int, selection: ClientSelection, plan: LocalTrainingPlan, seed: UInt64,
        minimumResults: Int = 1, evaluateEvery: Int = 1, federatedEvaluation: ClientSelection? = nil,
        maxConcurrency: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        self.rounds = rounds
        self.selection = selection
        self.plan = plan
        self.seed = seed
        self.minimumResults = minimumResults
        self.evaluateEvery = evaluateEvery
        self.federatedEvaluation = federatedEvaluation
        self.maxConcurrency = max(1, maxConcurrency)
    }
}

/// What happened in one round.
public struct RoundRecord: Sendable, Codable, Equatable {
    public var round: Int
    /// Centralized test accuracy after the round (nil when not evaluated this round).
    public var accuracy: Double?
    /// Centralized test loss after the round.
    public var loss: Double?
    /// Sample-weighted federated evaluation accuracy (nil when not run).
    public var federatedAccuracy: Double?
    /// Sample-weighted mean local training loss of the clients that answered.
    public var trainLoss: Double
    public var selected: Int
    public var completed: Int
    public var dropped: Int
    public var stragglers: Int
    /// Wall-clock seconds of this round and since the start.
    public var seconds: Double
    public var elapsed: Double
    /// Differential privacy: ε spent so far (at the run's δ), nil when DP is off.
    public var epsilon: Double? = nil
    /// Per-client anomaly scores of the round's aggregation (plaintext robust aggregation only;
    /// nil otherwise), for a ledger's reputation and rewards.
    public var anomalyScores: [ClientAnomaly]? = nil
    /// Per-client contribution scores of the round (nil when scoring is off; Contribution/),
    /// for a ledger's contribution and reward records.
    public var contributions: [ClientContribution]? = nil
    /// Wall-clock seconds spent scoring contributions this round (part of `seconds`).
    public var scoringSeconds: Double? = nil
}

/// The round protocol — select, broadcast, train locally, aggregate, evaluate — written once
/// against `Transport`, so the simulation and the network node run the same code.
public struct RoundRunner: Sendable {
    public let transport: any Transport
    public let settings: RoundSettings
    /// Centralized evaluation of a parameter vector (on the server's held-out test set).
    public let evaluator: (@Sendable ([Float]) throws -> Evaluation)?
    /// Scores each client's contribution after the round's aggregation (nil = off).
    public var contributionScorer: (any ContributionScorer)? = nil
    /// Aggregates each round as a protocol with the clients (networked SecAgg+), who then send
    /// no delta with their fit results; nil = the strategy aggregates the deltas it receives.
    public var secureAggregation: (any SecureRoundAggregation)? = nil
    let logger = Logger(label: "murmur.fl")

    public init(transport: any Transport, settings: RoundSettings, evaluator: (@Sendable ([Float]) throws -> Evaluation)?) {
        self.transport = transport
        self.settings = settings
        self.evaluator = evaluator
    }

    /// Runs all rounds from `initial`; calls `progress` after each round, then `afterRound` with
    /// the round's record and new global parameters (e.g. to record the model version in a
    /// ledger; an error it throws stops the run). Returns the final parameters and the history.
    /// `firstRound` > 1 resumes a run whose rounds before it are done and whose global model is
    /// `initial` (a restarted aggregator: selection and client batch order depend only on the
    /// round and seed, so the resumed rounds are the ones an uninterrupted run would have had).
    public func run(
        strategy: inout any Strategy, initial: [Float], firstRound: Int = 1,
        progress: (RoundRecord) -> Void = { _ in },
        afterRound: (RoundRecord, [Float]) throws -> Void = { _, _ in }
    ) async throws -> (parameters: [Float], history: [RoundRecord]) {
        guard settings.rounds >= 1 else { throw FLError.invalidConfiguration("--rounds must be ≥ 1, got \(settings.rounds)") }
        guard (1...settings.rounds).contains(firstRound) else {
            throw FLError.invalidConfiguration("cannot resume at round \(firstRound) of a \(settings.rounds)-round run")
        }
        var global = initial
        var history = [RoundRecord]()
        let start = Date()
        for round in firstRound...settings.rounds {
            let roundStart = Date()
            let online = await transport.onlineClients()
            let chosen = settings.selection.select(from: online, round: round, seed: settings.seed)
            let plan = strategy.configureFit(round: round, plan: settings.plan)
            let instruction = FitInstruction(round: round, parameters: global, plan: plan, seed: settings.seed)
            let outcome = try await fitAll(instruction, clients: chosen)
            // Poisson sampling (DP) may legitimately pick nobody; the strategy then sees no results.
            let needed = settings.selection.allowsEmptyRound ? settings.minimumResults : max(1, settings.minimumResults)
            guard outcome.results.count >= needed else {
                throw FLError.tooFewResults(round: round, got: outcome.results.count, needed: needed)
            }
            let before = contributionScorer == nil ? nil : (global: global, strategy: strategy)
            let anomalies: [ClientAnomaly]?
            if let secure = secureAggregation {
                if let mean = try await secure.release(round: round, results: outcome.results) {
                    strategy.applyServerUpdate(mean, to: &global, round: round)
                }
                anomalies = nil
            } else {
                anomalies = try strategy.aggregateScored(global: &global, results: outcome.results, round: round)
            }

            let samples = outcome.results.reduce(0) { $0 + $1.sampleCount }
            let trainLoss = outcome.results.reduce(0.0) { $0 + $1.trainLoss * Double($1.sampleCount) } / Double(max(samples, 1))
            var record = RoundRecord(
                round: round, accuracy: nil, loss: nil, federatedAccuracy: nil, trainLoss: trainLoss,
                selected: chosen.count, completed: outcome.results.count, dropped: outcome.dropped,
                stragglers: outcome.stragglers, seconds: 0, elapsed: 0, anomalyScores: anomalies)
            if let scorer = contributionScorer, let before {
                let scoringStart = Date()
                record.contributions = try scorer.score(RoundContributionInput(
                    round: round, global: before.global, results: outcome.results, strategy: before.strategy, anomalies: anomalies))
                record.scoringSeconds = Date().timeIntervalSince(scoringStart)
            }
            let evaluateNow = settings.evaluateEvery > 0 && (round % settings.evaluateEvery == 0 || round == settings.rounds)
            if evaluateNow, let evaluator {
                let e = try evaluator(global)
                record.accuracy = e.accuracy
                record.loss = e.loss
            }
            if evaluateNow, let fed = settings.federatedEvaluation {
                record.federatedAccuracy = try await federatedAccuracy(global, round: round, selection: fed, online: online)
            }
            record.seconds = Date().timeIntervalSince(roundStart)
            record.elapsed = Date().timeIntervalSince(start)
            logger.debug("round \(round) done: \(outcome.results.count)/\(chosen.count) results")
            history.append(record)
            progress(record)
            try afterRound(record, global)
        }
        return (global, history)
    }

    struct FitOutcome {
        var results: [FitResult]
        var dropped = 0
        var stragglers = 0
    }

    /// Sends the instruction to every chosen client, at most `maxConcurrency` at a time, and
    /// returns the results sorted by client id (so aggregation order, and hence the floating-point
    /// sum, does not depend on which client finished first).
    func fitAll(_ instruction: FitInstruction, clients: [ClientID]) async throws -> FitOutcome {
        let transport = self.transport
        // Under secure aggregation a client keeps its update and answers with an empty delta.
        let expectedDelta = secureAggregation == nil ? instruction.parameters.count : 0
        var outcome = FitOutcome(results: [])
        try await withThrowingTaskGroup(of: Result<FitResult, FLError>.self) { group in
            var next = 0
            func launch() {
                let client = clients[next]
                next += 1
                group.addTask {
                    do {
                        let r = try await transport.fit(instruction, client: client)
                        guard r.delta.count == expectedDelta else {
                            return .failure(.malformedUpdate(client: client, reason: "delta has \(r.delta.count) values, expected \(expectedDelta)"))
                        }
                        return .success(r)
                    } catch let e as FLError {
                        return .failure(e)
                    }
                }
            }
            while next < clients.count && next < settings.maxConcurrency { launch() }
            while let r = try await group.next() {
                switch r {
                case .success(let fit): outcome.results.append(fit)
                case .failure(.clientDropped): outcome.dropped += 1
                case .failure(.clientTimedOut): outcome.stragglers += 1
                case .failure(let e):
                    logger.warning("round \(instruction.round): \(e)")
                    outcome.dropped += 1
                }
                if next < clients.count { launch() }
            }
        }
        outcome.results.sort { $0.client < $1.client }
        return outcome
    }

    /// Sample-weighted accuracy of the global model on sampled clients' local data.
    func federatedAccuracy(_ global: [Float], round: Int, selection: ClientSelection, online: [ClientID]) async throws -> Double? {
        let chosen = selection.select(from: online, round: round, seed: settings.seed ^ 0xE7A1)
        let instruction = EvaluateInstruction(round: round, parameters: global)
        let transport = self.transport
        var correct = 0.0
        var total = 0
        try await withThrowingTaskGroup(of: EvaluateResult?.self) { group in
            var next = 0
            func launch() {
                let client = chosen[next]
                next += 1
                group.addTask { try? await transport.evaluate(instruction, client: client) }
            }
            while next < chosen.count && next < settings.maxConcurrency { launch() }
            while let r = try await group.next() {
                if let e = r?.evaluation {
                    correct += e.accuracy * Double(e.count)
                    total += e.count
                }
                if next < chosen.count { launch() }
            }
        }
        return total > 0 ? correct / Double(total) : nil
    }
}
