import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurP2P
import NIOConcurrencyHelpers
import Testing

@testable import MurmurNode

/// Real `Node`s (each with its own node.sqlite, HTTP API and libp2p host) train together with
/// `FederationEngine`: the aggregator ends with the simulated model CID, serves the model, and
/// its `/v1/rounds` shows every round (issue 11, item 2).
@Suite struct RoundsFederationEngineTests {
    static func config() -> SimulationConfig {
        var c = RoundsLoopbackFederationTests.config()
        c.clients = 4
        return c
    }

    @Test(.timeLimit(.minutes(4))) func nodesTrainToTheSimulatedModel() async throws {
        let federation = Self.config()
        let simulated = try await Simulation(config: federation).run()
        let dir = temporaryFolder("federation")
        defer { cleanup(dir) }
        // The aggregator's key first: clients answer only it.
        let aggregatorKey = dir + "/aggregator.key"
        let aggregatorID = try NodeKeys.identity(at: aggregatorKey).identity.peerID
        var clients: [Node] = []
        var runners: [Task<Void, any Error>] = []
        var addresses: [Multiaddr] = []
        for i in 0..<federation.clients {
            let engine = try FederationEngine(config: federation, role: .client(index: i, aggregator: aggregatorID))
            let node = try Node(config: testConfig(dir + "/client\(i)"), roundEngine: engine, logger: quietLogger)
            runners.append(Task { try await node.run() })
            let endpoints = try await withDeadline(seconds: 20, "client \(i) start") { try await node.waitUntilStarted() }
            addresses.append(try #require(endpoints.p2p.first))
            clients.append(node)
        }
        let finished = NIOLockedValueBox<(SimulationResult, CID)?>(nil)
        let engine = try FederationEngine(config: federation, role: .aggregator(clients: addresses), deadline: .seconds(60)) { r, cid in
            finished.withLockedValue { $0 = (r, cid) }
        }
        var config = testConfig(dir + "/aggregator")
        config.roles = [.aggregator]
        config.identityFile = aggregatorKey
        let aggregator = try Node(config: config, roundEngine: engine, logger: quietLogger)
        do {
            try await withRunningNode(aggregator) { e in
                #expect(await eventually(seconds: 120) { finished.withLockedValue { $0 } != nil }, "the federation did not finish")
                let (result, cid) = try #require(finished.withLockedValue { $0 })
                #expect(result.parameters.map(\.bitPattern) == simulated.parameters.map(\.bitPattern))
                let simulatedModel = try ModelArtifact(
                    network: try Network(config: simulated.model, parameters: simulated.parameters),
                    metadata: federation.modelMetadata(dataset: "digits", round: federation.rounds))
                #expect(cid == (try simulatedModel.manifest.cid()))
                #expect(result.final.accuracy > 0.5)
                // The node serves the model and reports every round.
                #expect(try await http("GET", e.http.appendingPathComponent("v1/models/\(cid)")).status == 200)
                let rounds = try await http("GET", e.http.appendingPathComponent("v1/rounds")).object["rounds"] as? [[String: Any]] ?? []
                #expect(Set(rounds.compactMap { $0["round"] as? Int }) == [1, 2, 3])
                #expect(rounds.contains { $0["model"] as? String == cid.description })
            }
        } catch {
            Issue.record("aggregator: \(error)")
        }
        for c in clients { await c.shutdown() }
        for r in runners { _ = try? await withDeadline(seconds: 20, "client stop") { try await r.value } }
    }

    @Test func settingsThatCannotRunBetweenNodesAreRefused() throws {
        var c = Self.config()
        c.secagg = SecAggSettings()
        #expect(throws: FederationEngineError.self) { try FederationEngine(config: c, role: .aggregator(clients: [])) }
        #expect(throws: FederationEngineError.self) {
            try FederationEngine(config: Self.config(), role: .client(index: 9, aggregator: Identity().peerID))
        }
        #expect(throws: FederationEngineError.self) { try FederationEngine(config: Self.config(), role: .aggregator(clients: [])) }
    }
}
