import Foundation
import MurmurCore
import MurmurFL
import MurmurLog
import MurmurML
import MurmurP2P
import NIOConcurrencyHelpers
import Testing

@testable import MurmurNode

/// Model transparency between real nodes (issue 11, item 2): the aggregator logs every model
/// version, has the checkpoint cosigned by a witness node and gossips it; each client fetches the
/// model by CID over `/murmur/blocks/1` and trains it only after checking the cosigned checkpoint and
/// the inclusion proof. The run still ends with the simulated model CID.
@Suite("Transparency: federation", .timeLimit(.minutes(4)))
struct TransparencyFederationTests {
    static func config() -> SimulationConfig {
        var c = RoundsLoopbackFederationTests.config()
        c.clients = 3
        c.rounds = 2
        return c
    }

    @Test func clientsTrainOnlyWitnessedModelsAndTheRunEndsWithTheSimulatedCID() async throws {
        let federation = Self.config()
        let simulated = try await Simulation(config: federation).run()
        let dir = temporaryFolder("transparency")
        defer { cleanup(dir) }
        // The aggregator's identity and log key exist before any node starts (as `murmur cluster` does it).
        let aggregatorDir = dir + "/aggregator/data"
        let aggregatorID = try NodeKeys.identity(at: aggregatorDir + "/identity.key").identity.peerID
        let logKey = try NodeKeys.logSigner(at: aggregatorDir + "/log.key", origin: "murmur.node/\(aggregatorID.description.prefix(16))").verifierKey

        var wc = testConfig(dir + "/witness")
        wc.roles = [.witness]
        wc.witnessLogs = [logKey.description]
        let witness = try Node(config: wc, roundEngine: try TransparencyEngine.from(wc), logger: quietLogger)
        let witnessKey = try VerifierKey(try #require(witness.context.witnessKey))
        try await withRunningNode(witness) { we in
            let settings = try TransparencySettings(logKey: logKey, witnesses: [.init(key: witnessKey)], quorum: 1)
            var clients: [Node] = []
            var runners: [Task<Void, any Error>] = []
            var addresses: [Multiaddr] = []
            var gates: [ModelGate] = []
            for i in 0..<federation.clients {
                let engine = try FederationEngine(config: federation, role: .client(index: i, aggregator: aggregatorID), transparency: settings)
                gates.append(try #require(engine.transparency?.gate))
                let node = try Node(config: testConfig(dir + "/client\(i)"), roundEngine: engine, logger: quietLogger)
                runners.append(Task { try await node.run() })
                let endpoints = try await withDeadline(seconds: 20, "client \(i) start") { try await node.waitUntilStarted() }
                addresses.append(try #require(endpoints.p2p.first))
                clients.append(node)
            }
            let gateList = gates, firstClient = clients[0].context
            let finished = NIOLockedValueBox<CID?>(nil)
            // A second witness that is down: the quorum of 1 is still met by the running one.
            let deadWitness = try Cosigner(name: "murmur.witness/down", seed: Array(repeating: 5, count: 32)).verifierKey
            let deadURL = try #require(URL(string: "http://127.0.0.1:1"))
            let aggregatorSettings = try TransparencySettings(logKey: nil, witnesses: [.init(key: witnessKey, url: we.http), .init(key: deadWitness, url: deadURL)], quorum: 1)
            let engine = try FederationEngine(config: federation, role: .aggregator(clients: addresses), deadline: .seconds(60),
                                              transparency: aggregatorSettings) { _, cid in finished.withLockedValue { $0 = cid } }
            var ac = testConfig(dir + "/aggregator")
            ac.roles = [.aggregator]
            ac.bootstrap = [try #require(we.p2p.first).description]
            let aggregator = try Node(config: ac, roundEngine: engine, logger: quietLogger)
            #expect(aggregator.context.ledger.verifierKey == logKey.description)
            do {
                try await withRunningNode(aggregator) { ae in
                    #expect(await eventually(seconds: 50) { finished.withLockedValue { $0 } != nil }, "the federation did not finish")
                    let cid = try #require(finished.withLockedValue { $0 })
                    let simulatedModel = ModelArtifact(
                        network: try Network(config: simulated.model, parameters: simulated.parameters),
                        metadata: federation.modelMetadata(dataset: "digits", round: federation.rounds))
                    #expect(cid == (try simulatedModel.manifest.cid()))
                    // Every client verified and trained the logged model of each round.
                    for gate in gateList {
                        #expect(gate.acceptedModel(round: 1) != nil && gate.acceptedModel(round: 2) != nil)
                    }
                    // The served checkpoint carries the witness's cosignature and covers the final version.
                    let checkpoint = try await http("GET", ae.http.appending(path: "checkpoint")).text
                    let cp = try WitnessPolicy(logKey: logKey, witnesses: [witnessKey], quorum: 1).accept(try Note(parsing: checkpoint))
                    // The ledger's records: genesis (names version 0), then per round a model version, one
                    // contribution per client and a reward; the announcements reuse them, adding none.
                    #expect(cp.size == UInt64(1 + federation.rounds * (2 + federation.clients)), "size \(cp.size)")
                    let final = try #require(await engine.transparency?.publisher?.published[federation.rounds])
                    #expect(final.model == cid.description)
                    #expect(final.weightsChunks == nil, "the weights fit one block")

                    // Refusals: a client that requires a witness this checkpoint lacks, or an entry that names another model.
                    let stranger = try Cosigner(name: "murmur.witness/stranger", seed: Array(repeating: 3, count: 32)).verifierKey
                    let strict = try ModelGate(settings: TransparencySettings(logKey: logKey, witnesses: [.init(key: witnessKey), .init(key: stranger)], quorum: 2),
                                               aggregator: aggregatorID)
                    strict.attach(firstClient)
                    await #expect(throws: ModelRefusal.self) { try await strict.accept(final) }
                    do { try await strict.accept(final) } catch let e as ModelRefusal {
                        guard case .checkpointRejected = e else { Issue.record("expected checkpointRejected, got \(e)"); return }
                    }
                    var lying = final
                    lying.model = simulatedModel.manifest.weights.description
                    await #expect(throws: ModelRefusal.self) { try await gateList[0].accept(lying) }
                    var wrongProof = final
                    wrongProof.index = 0
                    await #expect(throws: ModelRefusal.self) { try await gateList[0].accept(wrongProof) }
                    // With only the dead witness the quorum cannot be met: publishing stops with a typed error.
                    let alone = ModelPublisher(settings: try TransparencySettings(logKey: nil, witnesses: [.init(key: deadWitness, url: deadURL)], quorum: 1),
                                               model: simulated.model, strategy: "fedavg") { _ in [:] }
                    do {
                        _ = try await alone.publish(version: 7, parameters: simulated.parameters, node: aggregator.context, gossip: nil)
                        Issue.record("published without a quorum")
                    } catch let e as TransparencyError {
                        guard case .quorumNotReached(cosigned: 0, quorum: 1, _) = e else { Issue.record("\(e)"); return }
                    }
                    // A fit request with parameters no checkpoint vouches for is refused.
                    let plan = LocalTrainingPlan(epochs: 1, batchSize: 8, learningRate: 0.1)
                    #expect(throws: ModelRefusal.notAccepted(round: 9)) {
                        try gateList[0].check(FitInstruction(round: 9, parameters: simulated.parameters, plan: plan, seed: 1))
                    }
                }
            } catch {
                Issue.record("aggregator: \(error)")
            }
            for c in clients { await c.shutdown() }
            for r in runners { _ = try? await withDeadline(seconds: 20, "client stop") { try await r.value } }
        }
    }
}
