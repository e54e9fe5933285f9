import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurSecAgg
import Testing

@testable import MurmurNode

/// FL rounds under SecAgg+ between libp2p peers (`NetworkSecureAggregation`): the aggregator
/// never receives a client's delta, yet the model equals the simulated `--secagg` run's.
@Suite struct RoundsSecureFederationTests {
    static func config(rounds: Int) -> SimulationConfig {
        var c = RoundsLoopbackFederationTests.config()
        c.rounds = rounds
        c.secagg = SecAggSettings()
        return c
    }

    @Test(.timeLimit(.minutes(3))) func seededSecureNetworkedRunEndsWithTheSimulatedModelCID() async throws {
        let simulation = try Simulation(config: Self.config(rounds: 2))
        let simulated = try await simulation.run()
        let federation = try await LoopbackFederation.start(simulation, deadline: .seconds(60))
        let networked = try await federation.run()
        await federation.shutdown()
        #expect(networked.parameters.map(\.bitPattern) == simulated.parameters.map(\.bitPattern))
        #expect(try RoundsLoopbackFederationTests.modelCID(networked) == RoundsLoopbackFederationTests.modelCID(simulated))
        #expect(networked.final.accuracy > 0.15)  // above chance (0.1) after 2 clipped rounds
        // Fit answers carried no delta: each is a few dozen bytes, not 4 bytes per parameter.
        let (_, received) = federation.transport.traffic.totals
        #expect(received < 2 * 8 * 100)
    }

    /// 3 of 10 clients (30 %) lose their link during round 2's SecAgg+: two before sending their
    /// masked input (left out of the sum), one after (kept in it, unmasked by its neighbours).
    /// With n = 10 the complete graph's threshold is t = 6, which the 7 answering survivors meet.
    @Test(.timeLimit(.minutes(3))) func clientsLostDuringSecureAggregationAreRecovered() async throws {
        var config = Self.config(rounds: 2)
        config.clients = 10
        let simulation = try Simulation(config: config)
        let handle = FederationHandle()
        let outcomes = OutcomeLog()
        let leaving: [ClientID: String] = [1: "ShareBundle", 5: "ShareBundle", 6: "UnmaskRequest"]
        let federation = try await LoopbackFederation.start(
            simulation, deadline: .seconds(60),
            onSecAggMessage: { id, m in
                guard m.round == 2, leaving[id] == m.kind, let f = handle.value else { return }
                await f.disconnect(client: id)
            },
            onSecAggOutcome: { round, clients, outcome in outcomes.record(round, clients, outcome) })
        handle.set(federation)
        let result = try await federation.run()
        await federation.shutdown()
        #expect(result.history.map(\.completed) == [10, 10])
        let rounds = outcomes.all
        #expect(rounds.map(\.round) == [1, 2])
        #expect(rounds[0].outcome.result.contributors == Array(0..<10))
        let second = rounds[1]
        #expect(second.clients == Array(0..<10))
        #expect(second.outcome.result.contributors == [0, 2, 3, 4, 6, 7, 8, 9])
        #expect(second.outcome.dropped == [1: .maskedInput, 5: .maskedInput, 6: .unmasking])
    }
}

/// SecAgg+ outcomes per round, collected for assertions.
final class OutcomeLog: @unchecked Sendable {
    // @unchecked: `entries` is only touched under `lock`.
    private let lock = NSLock()
    private var entries: [(round: Int, clients: [ClientID], outcome: SecAggNetworkOutcome)] = []
    func record(_ round: Int, _ clients: [ClientID], _ outcome: SecAggNetworkOutcome) {
        lock.withLock { entries.append((round, clients, outcome)) }
    }
    var all: [(round: Int, clients: [ClientID], outcome: SecAggNetworkOutcome)] { lock.withLock { entries } }
}
