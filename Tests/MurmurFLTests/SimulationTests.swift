import Foundation
import MurmurML
import MurmurTestSupport
import Testing
@testable import MurmurFL

@Suite(.ownThreads) struct SimulationTests {
    func small(seed: UInt64 = 1) -> SimulationConfig {
        var c = SimulationConfig()
        c.clients = 10
        c.rounds = 3
        c.fraction = 0.5
        c.localEpochs = 1
        c.hidden = [16]
        c.seed = seed
        return c
    }

    @Test func sameSeedSameWeights() async throws {
        let a = try await Simulation(config: small()).run()
        let b = try await Simulation(config: small()).run()
        #expect(a.parameters == b.parameters)
        let c = try await Simulation(config: small(seed: 2)).run()
        #expect(a.parameters != c.parameters)
        #expect(a.history.count == 3 && a.history.allSatisfy { $0.accuracy != nil })
    }

    /// Results are aggregated in client order, so the thread count does not change the model.
    @Test func concurrencyDoesNotChangeResult() async throws {
        var one = small()
        one.maxConcurrency = 1
        var four = small()
        four.maxConcurrency = 4
        #expect(try await Simulation(config: one).run().parameters == Simulation(config: four).run().parameters)
    }

    @Test func dropoutsAreCountedAndSurvived() async throws {
        var c = small()
        c.dropout = 0.3
        c.stragglers = 0.2
        c.fraction = 1
        c.rounds = 4
        let r = try await Simulation(config: c).run()
        let lost = r.history.reduce(0) { $0 + $1.dropped + $1.stragglers }
        #expect(lost > 0)
        #expect(r.history.allSatisfy { $0.completed + $0.dropped + $0.stragglers == $0.selected })
    }

    @Test func tooFewResultsAborts() async throws {
        let sim = try Simulation(config: small())
        let transport = InMemoryTransport(
            clients: sim.makeClients(), ids: Array(0..<10), conditions: NetworkConditions(dropout: 0.99), seed: 1)
        var settings = sim.roundSettings
        settings.minimumResults = 5
        var s: any Strategy = FedAvg()
        await #expect(throws: FLError.self) {
            _ = try await RoundRunner(transport: transport, settings: settings, evaluator: nil).run(strategy: &s, initial: try sim.initialParameters())
        }
    }

    @Test func everyStrategyAndModelRuns() async throws {
        for k in StrategyKind.allCases {
            var c = small()
            c.strategy = k
            c.rounds = 2
            let r = try await Simulation(config: c).run()
            #expect(r.final.accuracy > 0.1, "\(k)")
        }
        for m in ModelKind.allCases {
            var c = small()
            c.model = m
            c.rounds = 1
            #expect(try await Simulation(config: c).run().parameters.count > 0)
        }
    }

    @Test func federatedEvaluationReportsAccuracy() async throws {
        var c = small()
        c.federatedEvaluationFraction = 0.5
        let r = try await Simulation(config: c).run()
        #expect(r.history.allSatisfy { ($0.federatedAccuracy ?? -1) >= 0 })
    }

    @Test func badConfigurationsAreRejected() {
        var c = small()
        c.clients = 0
        #expect(throws: FLError.self) { try Simulation(config: c) }
        c = small()
        c.model = .cnn
        c.dataset = .synthetic(alpha: 0.5, beta: 0.5)
        #expect(throws: FLError.self) { try Simulation(config: c) }
        c = small()
        c.fraction = 2
        #expect(throws: FLError.self) { try Simulation(config: c) }
    }

    @Test func reportHasPlots() {
        let h = (1...3).map {
            RoundRecord(round: $0, accuracy: 0.5 + Double($0) / 10, loss: 1 / Double($0), federatedAccuracy: nil, trainLoss: 1,
                        selected: 2, completed: 2, dropped: 0, stragglers: 0, seconds: 0.1, elapsed: Double($0) / 10)
        }
        let html = SimulationReport.html(title: "t <x>", summary: [("a", "b")], history: h)
        #expect(html.contains("<svg") && html.components(separatedBy: "<polyline").count == 4)
        #expect(html.contains("t &lt;x&gt;"))
    }
}
