import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurP2P
import MurmurSecAgg
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
        let aggregator = Identity().peerID
        // Local DP would noise each update at the aggregator, which would then see it in the clear.
        var local = Self.config()
        local.dp = DPConfig()
        local.dp?.mode = .local
        local.dp?.noiseMultiplier = 1
        #expect(throws: FederationEngineError.self) { try FederationEngine(config: local, role: .client(index: 0, aggregator: aggregator)) }
        // Group scores under SecAgg+ are computed from in-memory group sums.
        var group = Self.config()
        group.secagg = SecAggSettings()
        group.scoring = ContributionScoring(method: .group)
        #expect(throws: FederationEngineError.self) { try FederationEngine(config: group, role: .client(index: 0, aggregator: aggregator)) }
        // A SecAgg+ client signs with the node's key, so it must be given.
        var secure = Self.config()
        secure.secagg = SecAggSettings()
        #expect(throws: FederationEngineError.self) { try FederationEngine(config: secure, role: .client(index: 0, aggregator: aggregator)) }
        let engine = try FederationEngine(config: secure, role: .client(index: 0, aggregator: aggregator), identity: Identity())
        #expect(Set(engine.protocolHandlers.keys) == [FLWire.protocolID, SecAggWire.protocolID])
        #expect(throws: FederationEngineError.self) {
            try FederationEngine(config: Self.config(), role: .client(index: 9, aggregator: aggregator))
        }
        #expect(throws: FederationEngineError.self) { try FederationEngine(config: Self.config(), role: .aggregator(clients: [])) }
    }

    @Test func aFaultPointNamesARoundAndAProtocolStep() throws {
        let point = try FaultPoint(parsing: "2:ShareBundle") {}
        #expect(point.round == 2 && point.message == "ShareBundle")
        for bad in ["ShareBundle", "0:fit", "2:Masked", "x:fit"] {
            #expect(throws: FederationEngineError.self, "\(bad)") { try FaultPoint(parsing: bad) {} }
        }
        // A `fit` point fires on that round's fit request only.
        let fired = NIOLockedValueBox<[Int]>([])
        let app = FaultingClientApp(base: EchoClient(), fault: try FaultPoint(parsing: "2:fit") { fired.withLockedValue { $0.append(1) } })
        let plan = LocalTrainingPlan(epochs: 1, batchSize: 1, learningRate: 0.1)
        for round in 1...3 { _ = try app.fit(FitInstruction(round: round, parameters: [0], plan: plan, seed: 1)) }
        #expect(fired.withLockedValue { $0 } == [1])
    }
}

/// A client that answers every fit with Δ = 0 and every evaluation with nothing.
struct EchoClient: ClientApp {
    func fit(_ instruction: FitInstruction) throws -> FitResult {
        FitResult(client: 0, delta: [Float](repeating: 0, count: instruction.parameters.count), sampleCount: 1, trainLoss: 0)
    }

    func evaluate(_ instruction: EvaluateInstruction) throws -> EvaluateResult {
        throw FLError.invalidConfiguration("not evaluated in this test")
    }
}
