import Foundation
import MurmurCore
import MurmurFL
import MurmurLedger
import MurmurLog
import MurmurML
import MurmurTestSupport
import Testing

@testable import MurmurNode

/// Issue 11 item 6: SIGKILL the aggregator `murmur node` process mid-round and restart it with the
/// same config and data folder: no log entry is lost, the interrupted round is retried, and the
/// run ends with the model an uninterrupted seeded run produces.
@Suite(.serialized) struct FaultAggregatorRestartTests {
    /// 3 clients, 8 rounds, digits, MLP [32], every client every round; 3 local epochs so a round
    /// lasts long enough to be interrupted.
    static func federation() -> SimulationConfig {
        var c = RoundsLoopbackFederationTests.config()
        c.clients = 3
        c.rounds = 8
        c.localEpochs = 3
        c.seed = 611
        return c
    }

    @Test func progressStoresTheModelAndReadsItsParametersBack() throws {
        let dir = temporaryFolder("aggregator-progress")
        defer { cleanup(dir) }
        let store = try NodeStore(path: dir + "/node.sqlite")
        #expect(try store.aggregatorProgress() == nil)
        let federation = Self.federation()
        let fingerprint = try AggregatorProgress.fingerprint(of: federation)
        var other = federation
        other.seed += 1
        #expect(try AggregatorProgress.fingerprint(of: other) != fingerprint)
        let net = try Network(config: ModelConfig(architecture: .mlp(hidden: [4]), inputShape: [3], classCount: 2), seed: 5)
        let cid = try store.saveAggregatorProgress(federation: fingerprint, round: 2, model: ModelArtifact(network: net))
        #expect(try store.aggregatorProgress() == AggregatorProgress(federation: fingerprint, round: 2, model: cid.description))
        #expect(try store.modelParameters(cid.description).map(\.bitPattern) == net.parameters.map(\.bitPattern))
        #expect(throws: NodeError.self) { try store.modelParameters(CID.raw([1, 2, 3]).description) }
    }

    @Test(.clusterSlots, .timeLimit(.minutes(5))) func aKilledAggregatorResumesRetriesTheRoundAndLosesNoLogEntry() async throws {
        let federation = Self.federation()
        let simulated = try await Simulation(config: federation).run()
        let expectedModel = try ModelArtifact(
            network: try Network(config: simulated.model, parameters: simulated.parameters),
            metadata: federation.modelMetadata(dataset: "digits", round: federation.rounds)).manifest.cid().description

        let dir = temporaryFolder("fault-aggregator")
        let nodes = NodeProcesses()
        defer {
            nodes.killAll()
            cleanup(dir)
        }
        let federationFile = dir + "/federation.json"
        try JSONEncoder().encode(federation).write(to: URL(fileURLWithPath: federationFile))
        var aggregator = NodeConfig()
        aggregator.roles = [.aggregator]
        aggregator.dataDir = dir + "/aggregator"
        aggregator.identityFile = dir + "/aggregator/identity.key"
        aggregator.federation = federationFile
        aggregator.adminToken = "fault-test-admin-token-0123"
        try FileManager.default.createDirectory(atPath: aggregator.dataDir, withIntermediateDirectories: true)
        let aggregatorIdentity = try NodeKeys.identity(at: aggregator.identityPath).identity

        // The aggregator's log holds entries before the run: a genesis naming it coordinator.
        do {
            var plain = aggregator
            plain.federation = nil  // the same data folder and keys, no engine
            let seeded = try Node(config: plain, logger: quietLogger)
            try await seeded.context.ledger.append([
                LedgerRecord.sign(Genesis(federation: "fault-test", members: [aggregatorIdentity.peerID.description],
                                          coordinators: [aggregatorIdentity.peerID.description]), by: aggregatorIdentity),
            ])
        }

        var clients: [NodeProcesses.Child] = []
        for i in 0..<federation.clients {
            var c = NodeConfig()
            c.roles = [.client]
            c.dataDir = dir + "/client-\(i)"
            c.federation = federationFile
            c.clientIndex = i
            c.aggregator = aggregatorIdentity.peerID.description
            let child = try nodes.start("client \(i)", c, file: dir + "/client-\(i).json")
            aggregator.clients.append(try await child.line(prefix: "p2p "))
            clients.append(child)
        }
        // The first aggregator SIGKILLs itself mid-round 2, when the round's first fit result
        // arrives (clients have trained, nothing is aggregated): a fault point, not a race.
        let first = try nodes.start("aggregator", aggregator, file: dir + "/aggregator.json",
                                    environment: ["MURMUR_FAULT_CRASH_AT": "2:fit-result"])
        _ = try await first.line(prefix: "http ")
        let died = await eventually(seconds: 120) { !first.process.isRunning }
        try #require(died, "the aggregator did not reach its fault point: \(first.errorTail())")
        #expect(first.process.terminationReason == .uncaughtSignal, "\(first.errorTail())")

        // What the killed aggregator had made durable: its progress (the round it was in is the
        // next one) and its log (size and root at the kill).
        let done = try #require(try NodeStore(path: aggregator.databasePath).aggregatorProgress(), "no progress stored after round 1")
        try #require(done.round < federation.rounds, "killed after the last round (\(done.round)); the test needs a mid-run kill")
        let interrupted = done.round + 1
        let (oldSize, oldRoot, origin) = try {
            let storage = try SQLiteLogStorage(path: aggregator.databasePath)
            let log = try TileLog(storage: storage)
            return (log.size, try log.rootHash(size: log.size), log.origin)
        }()
        #expect(oldSize >= 1, "the log should hold the genesis entry")

        // Restart with the same config and data folder; the clients kept running.
        let second = try nodes.start("aggregator (restarted)", aggregator, file: dir + "/aggregator.json")
        let url2 = try #require(URL(string: try await second.line(prefix: "http ")))
        let finished = await eventually(seconds: 150) {
            let rounds = (try? await http("GET", url2.appendingPathComponent("v1/rounds")).object["rounds"] as? [[String: Any]]) ?? []
            return rounds.contains { $0["round"] as? Int == federation.rounds && $0["model"] is String }
        }
        try #require(finished, "the restarted aggregator did not finish: \(second.errorTail())")
        #expect(second.log().contains("resuming the federation after round \(done.round)"), "\(second.errorTail())")
        #expect(clients.allSatisfy { $0.process.isRunning }, "a client stopped")
        let rounds = try await http("GET", url2.appendingPathComponent("v1/rounds")).object["rounds"] as? [[String: Any]] ?? []
        let final = rounds.first { $0["round"] as? Int == federation.rounds }
        #expect(Set(rounds.compactMap { $0["round"] as? Int }) == Set(1...federation.rounds))
        let retried = try #require(rounds.first { $0["round"] as? Int == interrupted })
        #expect(retried["detail"] as? String == "retried after an aggregator restart", "\(retried)")
        #expect(retried["participants"] as? Int == federation.clients, "every client answered the retried round")
        // The seeded run is reproducible across the crash: the uninterrupted run's model.
        #expect(final?["model"] as? String == expectedModel, "restarted run ended with \(final?["model"] ?? "none"), uninterrupted \(expectedModel)")
        let after = try Checkpoint(text: try Note(parsing: try await http("GET", url2.appendingPathComponent("checkpoint")).text).text)
        #expect(await second.stop(SIGTERM), "the aggregator did not stop on SIGTERM")

        // No log entry lost: the tree at the old size has the old root, and the new checkpoint is
        // consistent with it (RFC 9162 §2.1.4).
        #expect(after.origin == origin)
        #expect(after.size >= oldSize)
        let log = try TileLog(storage: SQLiteLogStorage(path: aggregator.databasePath), origin: origin)
        #expect(log.size == after.size)
        #expect(try log.rootHash(size: oldSize) == oldRoot)
        let proof = try log.consistencyProof(from: oldSize, to: after.size)
        try MerkleProof.verifyConsistency(from: oldSize, to: after.size, proof: proof, oldRoot: oldRoot, newRoot: after.root)
    }
}
