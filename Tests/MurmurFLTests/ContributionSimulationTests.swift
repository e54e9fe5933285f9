import MurmurML
import MurmurTestSupport
import Testing
@testable import MurmurFL

/// Contribution scoring inside a simulated federation (Simulation+Contribution, RoundScorer).
@Suite(.ownThreads) struct ContributionSimulationTests {
    /// The docs/contribution.md experiment, shrunk to run in seconds in a debug build: 20 digits
    /// clients, all of them every round, 4 sign-flippers and 4 free-riders, plain mean.
    static func evidence(_ method: ContributionMethod) -> SimulationConfig {
        var c = SimulationConfig()
        c.clients = 20
        c.fraction = 1
        c.rounds = 3
        c.partition = .iid
        c.model = .logreg
        c.localEpochs = 2
        c.learningRate = 0.1
        c.aggregator = .mean
        c.attack = .signFlip
        c.malicious = 0.2
        c.freeRiders = 0.2
        c.evaluateEvery = 0
        c.seed = 42
        var s = ContributionScoring(method: method)
        s.gtg.maxPermutations = 40
        s.groupSize = 3
        c.scoring = s
        return c
    }

    /// Mean over clients of their mean rank in each role.
    static func meanRanks(_ sim: Simulation, _ history: [RoundRecord]) -> (honest: Double, freeRiders: Double, poisoners: Double) {
        let rank = Dictionary(uniqueKeysWithValues: ContributorTotal.summarize(history).map { ($0.client, $0.meanRank) })
        let free = sim.freeRidingClients, bad = sim.maliciousClients
        func mean(_ ids: [Int]) -> Double { ids.reduce(0) { $0 + rank[$1]! } / Double(ids.count) }
        let honest = (0..<sim.config.clients).filter { !free.contains($0) && !bad.contains($0) }
        return (mean(honest), mean(Array(free)), mean(Array(bad)))
    }

    @Test(arguments: [ContributionMethod.loo, .gtgShapley, .group])
    func honestClientsOutrankFreeRidersAndPoisoners(_ method: ContributionMethod) async throws {
        let sim = try Simulation(config: Self.evidence(method))
        #expect(sim.freeRidingClients.count == 4 && sim.maliciousClients.count == 4)
        #expect(sim.freeRidingClients.isDisjoint(with: sim.maliciousClients))
        let r = try await sim.run()
        #expect(r.history.allSatisfy { $0.contributions?.count == 20 && $0.contributions!.allSatisfy { $0.method == method } })
        let m = Self.meanRanks(sim, r.history)
        #expect(m.honest < m.freeRiders, "\(method.rawValue): \(m)")
        #expect(m.honest < m.poisoners, "\(method.rawValue): \(m)")
    }

    /// Participation × samples cannot tell a free-rider (which claims its samples) from an
    /// honest client: it is exactly the reported sample count.
    @Test func participationIsTheSampleCount() async throws {
        var c = Self.evidence(.participation)
        c.aggregator = .centeredClip
        let sim = try Simulation(config: c)
        #expect(sim.validation == nil)
        let r = try await sim.run()
        for record in r.history {
            for x in record.contributions ?? [] {
                #expect(x.score == Double(x.samples) && x.samples == sim.partition[x.client].count)
                #expect(x.anomalyScore != nil && x.excluded != nil)  // the robust aggregator's view rides along
            }
        }
    }

    /// Scoring only observes: the same seed trains the same model with or without it; the
    /// validation set is carved from the test split, disjoint, about the requested size.
    @Test func scoringDoesNotChangeTraining() async throws {
        var plain = Self.evidence(.loo)
        plain.rounds = 2
        plain.scoring = nil
        var scored = plain
        scored.scoring = ContributionScoring(method: .loo)
        scored.scoring?.validationSamples = 120
        let a = try await Simulation(config: plain).run()
        let sim = try Simulation(config: scored)
        let b = try await sim.run()
        #expect(a.parameters == b.parameters)
        #expect(a.history.allSatisfy { $0.contributions == nil } && b.history.allSatisfy { $0.contributions != nil })
        let validation = try #require(sim.validation)
        #expect(abs(validation.count - 120) <= 10)
        #expect(validation.count + sim.test.count == Digits.split().test.count)
        #expect(b.testSamples == sim.test.count)
    }

    @Test func sameSeedSameScores() async throws {
        var c = Self.evidence(.gtgShapley)
        c.rounds = 1
        let a = try await Simulation(config: c).run().history
        let b = try await Simulation(config: c).run().history
        #expect(a.map(\.contributions) == b.map(\.contributions))
    }

    @Test func methodsThatNeedUpdatesAreRefusedUnderSecAggAndDP() throws {
        for method in [ContributionMethod.loo, .gtgShapley] {
            var c = Self.evidence(method)
            c.attack = nil
            c.malicious = 0
            c.secagg = SecAggSettings()
            #expect { try Simulation(config: c) } throws: { e in
                (e as? FLError).map { "\($0)".contains("--secagg hides") } ?? false
            }
        }
        for method in [ContributionMethod.loo, .gtgShapley, .group] {
            var c = Self.evidence(method)
            c.attack = nil
            c.malicious = 0
            c.dp = DPConfig()
            c.dp?.noiseMultiplier = 1
            #expect(throws: FLError.self) { try Simulation(config: c) }
        }
        var tooBig = Self.evidence(.loo)
        tooBig.scoring?.validationSamples = 10_000
        #expect(throws: FLError.self) { try Simulation(config: tooBig) }
        var riders = Self.evidence(.loo)
        riders.freeRiders = 0.9
        #expect(throws: FLError.self) { try Simulation(config: riders) }
    }

    /// Under secure aggregation the group method scores groups' (clipped, unweighted) sums.
    @Test func groupScoringRunsUnderSecAgg() async throws {
        var c = SimulationConfig()
        c.clients = 8
        c.fraction = 1
        c.rounds = 2
        c.model = .logreg
        c.localEpochs = 1
        c.secagg = SecAggSettings()
        var s = ContributionScoring(method: .group)
        s.groupSize = 2
        c.scoring = s
        let r = try await Simulation(config: c).run()
        for record in r.history {
            let x = try #require(record.contributions)
            #expect(x.count == 8 && Set(x.compactMap(\.group)) == [0, 1, 2, 3])
            #expect(x.allSatisfy { $0.anomalyScore == nil })
        }
    }
}
