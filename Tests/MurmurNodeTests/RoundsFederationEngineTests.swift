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

    /// Writes `data` as a CSV (features, then the label) into a fresh folder `dir`.
    static func writeCSV(_ data: Dataset, to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var text = ""
        for i in 0..<data.count {
            let row = data.features[(i * data.featureCount)..<((i + 1) * data.featureCount)]
            text += row.map { "\($0)" }.joined(separator: ",") + ",\(data.labels[i])\n"
        }
        try text.write(toFile: dir + "/local.csv", atomically: true, encoding: .utf8)
    }

    /// Where the client nodes' training data comes from.
    enum LocalData: Sendable, CaseIterable { case bundledShard, sameSamplesInADataFolder, oneSampleLessInADataFolder }

    /// With a data folder, each client node reads its training data from a CSV in `data_folder`:
    /// the same samples as its seeded shard give the simulated model bit for bit; one sample
    /// fewer at client 0 gives another model (so the folder, not the bundled set, is trained on).
    @Test(.timeLimit(.minutes(4)), arguments: LocalData.allCases) func nodesTrainToTheSimulatedModel(data: LocalData) async throws {
        let dataFolders = data != .bundledShard
        let federation = Self.config()
        let simulation = try Simulation(config: federation)
        let simulated = try await simulation.run()
        let dir = temporaryFolder("federation")
        defer { cleanup(dir) }
        if dataFolders {
            for (i, client) in simulation.makeClients().enumerated() {
                var local = client.data
                if i == 0, data == .oneSampleLessInADataFolder { local = local.subset(Array(1..<local.count)) }
                try Self.writeCSV(local, to: dir + "/data\(i)")
            }
        }
        // The aggregator's key first: clients answer only it.
        let aggregatorKey = dir + "/aggregator.key"
        let aggregatorID = try NodeKeys.identity(at: aggregatorKey).identity.peerID
        var clients: [Node] = []
        var runners: [Task<Void, any Error>] = []
        var addresses: [Multiaddr] = []
        for i in 0..<federation.clients {
            let engine = try FederationEngine(config: federation, role: .client(index: i, aggregator: aggregatorID),
                                              dataFolder: dataFolders ? dir + "/data\(i)" : nil)
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
                let simulatedModel = ModelArtifact(
                    network: try Network(config: simulated.model, parameters: simulated.parameters),
                    metadata: federation.modelMetadata(dataset: "digits", round: federation.rounds))
                if data == .oneSampleLessInADataFolder {
                    #expect(result.parameters.map(\.bitPattern) != simulated.parameters.map(\.bitPattern))
                    #expect(cid != (try simulatedModel.manifest.cid()))
                } else {
                    #expect(result.parameters.map(\.bitPattern) == simulated.parameters.map(\.bitPattern))
                    #expect(cid == (try simulatedModel.manifest.cid()))
                }
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

    @Test func aDataFolderThatCannotTrainTheModelIsRefused() throws {
        let dir = temporaryFolder("badfolder")
        defer { cleanup(dir) }
        let model = try Simulation(config: Self.config()).model
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        #expect(throws: FederationEngineError.self) { try FederationEngine.localData(folder: dir + "/empty", model: model) }
        try FileManager.default.createDirectory(atPath: dir + "/narrow", withIntermediateDirectories: true)
        try "0.5,0.25,1\n0,1,0\n".write(toFile: dir + "/narrow/a.csv", atomically: true, encoding: .utf8)
        do {
            _ = try FederationEngine.localData(folder: dir + "/narrow", model: model)
            Issue.record("a 2-feature file was accepted for a 64-feature model")
        } catch {
            #expect("\(error)".contains("2 features per row"), "\(error)")
        }
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
