import MurmurTestSupport
import Testing
@testable import MurmurFL

@Suite(.ownThreads) struct RobustStrategyTests {
    let results = [
        FitResult(client: 3, delta: [1, 2], sampleCount: 1, trainLoss: 0),
        FitResult(client: 5, delta: [4, -1], sampleCount: 3, trainLoss: 0),
        FitResult(client: 8, delta: [2, 0], sampleCount: 2, trainLoss: 0),
    ]

    @Test func meanWrapperMatchesFedAvgAndScoresClients() throws {
        var plain = FedAvg()
        var wPlain: [Float] = [10, 10]
        try plain.aggregate(global: &wPlain, results: results, round: 1)
        var robust: any Strategy = RobustStrategy(base: FedAvg(), aggregator: Mean(), initial: [10, 10])
        var w: [Float] = [10, 10]
        let scores = try robust.aggregateScored(global: &w, results: results, round: 1)
        #expect(w == wPlain)
        #expect(scores?.map(\.client) == [3, 5, 8])
        // Plain strategies report no scores.
        var fedavg: any Strategy = FedAvg()
        #expect(try fedavg.aggregateScored(global: &w, results: results, round: 2) == nil)
    }

    @Test func serverOptimizerStepAndStateForward() throws {
        var s = RobustStrategy(base: FedAvg(serverLearningRate: 0.5), aggregator: CoordinateMedian(), initial: [0, 0])
        var w: [Float] = [0, 0]
        let delta = try s.combine(results)  // median: [2, 0]
        #expect(delta == [2, 0])
        s.applyServerUpdate(delta, to: &w, round: 1)
        #expect(w == [1, 0] && s.global == [1, 0] && s.previousAggregate == [2, 0] && s.round == 2)
        #expect(s.name == "fedavg+median")
        let prox = RobustStrategy(base: FedProx(mu: 0.3), aggregator: Mean(), initial: [0])
        #expect(prox.configureFit(round: 1, plan: LocalTrainingPlan(epochs: 1, batchSize: 1, learningRate: 0.1)).proximalMu == 0.3)
    }

    @Test func nonFiniteUpdatesAreExcluded() throws {
        var bad = results
        bad.append(FitResult(client: 9, delta: [.nan, 1], sampleCount: 100, trainLoss: 0))
        let s = RobustStrategy(base: FedAvg(), aggregator: Mean(), initial: [0, 0])
        let r = try s.combineScored(bad)
        #expect(r.delta == (try weightedMeanDelta(results)))
        #expect(r.anomalies.last == ClientAnomaly(client: 9, score: ClientAnomaly.nonFiniteScore, excluded: true))
        #expect(throws: FLError.self) { try s.combine([bad[3]]) }
    }

    /// The simulation records one anomaly score per answering client, every round.
    @Test func simulationRecordsAnomalyScores() async throws {
        var c = SimulationConfig()
        c.clients = 10
        c.rounds = 2
        c.hidden = [8]
        c.fraction = 1
        c.aggregator = .krum
        c.attack = .noise
        c.malicious = 0.2
        let sim = try Simulation(config: c)
        let result = try await sim.run()
        for r in result.history {
            let scores = try #require(r.anomalyScores)
            #expect(scores.count == r.completed)
            // Krum keeps one update and never a noise one.
            for bad in sim.maliciousClients { #expect(scores.first { $0.client == bad }?.excluded == true) }
        }
    }
}
