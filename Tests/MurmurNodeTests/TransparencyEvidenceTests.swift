import Foundation
import MurmurCore
import MurmurLog
import MurmurLogHTTP
import MurmurP2P
import Testing

@testable import MurmurNode

/// Split views between real nodes (issue 11, item 6): a witness node that is gossiped two checkpoints
/// of one log with the same size and different roots signs evidence and gossips it; another node
/// stores it, serves it at `GET /v1/evidence`, and refuses models from that log.
@Suite("Transparency: split-view evidence", .timeLimit(.minutes(2)))
struct TransparencyEvidenceTests {
    /// Two logs under one key that agree on 2 entries and differ in the third: a forking log operator.
    static func forkedCheckpoints(_ dir: String) throws -> (key: VerifierKey, honest: Note, forked: Note, signer: NoteSigner) {
        let signer = try NoteSigner(name: "murmur.test/fork", seed: Array(repeating: 9, count: 32))
        let honest = try TileLog(storage: SQLiteLogStorage(path: dir + "/honest.db"), origin: signer.name)
        let fork = try TileLog(storage: SQLiteLogStorage(path: dir + "/fork.db"), origin: signer.name)
        try honest.append([[1], [2], [3]])
        try fork.append([[1], [2], Array("evil".utf8)])
        return (signer.verifierKey, try honest.checkpoint(signer: signer), try fork.checkpoint(signer: signer), signer)
    }

    @Test func evidenceIsCanonicalJSONThatVerifiesAndRefusesTampering() throws {
        let dir = temporaryFolder("evidence")
        defer { cleanup(dir) }
        let (key, honest, forked, _) = try Self.forkedCheckpoints(dir)
        let reporter = try Cosigner(name: "witness.test/w", seed: Array(repeating: 4, count: 32))
        let e = try SplitViewEvidence(EquivocationEvidence.make(logKey: key, first: honest, second: forked, proof: [], reporter: reporter))
        #expect(e.logKey == key)
        let back = try SplitViewEvidence(json: e.json)
        #expect(back == e && back.cid == e.cid)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(e.json)) as? [String: Any])
        #expect(object["type"] as? String == SplitViewEvidence.type)
        #expect(object["first"] as? String == honest.serialized && object["second"] as? String == forked.serialized)
        #expect(object["log_key"] as? String == key.description && object["reporter"] as? String == "witness.test/w")
        // A field that differs from the signed evidence note, or the same object not in canonical form, is refused.
        // (The reporter's name is not authenticated: the evidence convicts the log from the log's own signatures.)
        let edited = String(decoding: e.json, as: UTF8.self).replacingOccurrences(of: "\"proof\":[]", with: "\"proof\":[\"AAAA\"]")
        #expect(edited != String(decoding: e.json, as: UTF8.self))
        #expect(throws: SplitViewEvidenceError.self) { try SplitViewEvidence(json: Array(edited.utf8)) }
        #expect(throws: SplitViewEvidenceError.self) { try SplitViewEvidence(json: Array(" ".utf8) + e.json) }
        // Two copies of one checkpoint are no evidence.
        #expect(throws: (any Error).self) { try EquivocationEvidence.make(logKey: key, first: honest, second: honest, proof: [], reporter: reporter) }
    }

    @Test func aWitnessThatSeesConflictingCheckpointsGossipsEvidenceThatAnotherNodeRecords() async throws {
        let dir = temporaryFolder("splitview")
        defer { cleanup(dir) }
        let (key, honest, forked, _) = try Self.forkedCheckpoints(dir)
        var wc = testConfig(dir + "/w")
        wc.roles = [.witness]
        wc.witnessLogs = [key.description]
        let witnessEngine = try #require(try TransparencyEngine.from(wc))
        let witness = try Node(config: wc, roundEngine: witnessEngine, logger: quietLogger)
        try await withRunningNode(witness) { we in
            var nc = testConfig(dir + "/n", bootstrap: [try #require(we.p2p.first).description])
            nc.federationLog = key.description
            let engine = try #require(try TransparencyEngine.from(nc))
            let node = try Node(config: nc, roundEngine: engine, logger: quietLogger)
            try await withRunningNode(node) { ne in
                // A forger gossips both views to the witness.
                var hc = P2PHost.Configuration()
                Gossipsub.register(in: &hc)
                let forger = P2PHost(identity: Identity(), configuration: hc)
                let pubsub = try Gossipsub(host: forger)
                defer { pubsub.close() }
                _ = try await forger.connect(try #require(we.p2p.first))
                #expect(await eventually(seconds: 20) { pubsub.topicPeers(CheckpointGossip.checkpointTopic).contains(witness.context.identity.peerID) })
                #expect(await eventually(seconds: 20) {
                    engine.transparency.gossip?.pubsub.topicPeers(CheckpointGossip.evidenceTopic).contains(witness.context.identity.peerID) == true
                })
                #expect(await eventually(seconds: 20) {
                    witnessEngine.transparency.gossip?.pubsub.topicPeers(CheckpointGossip.evidenceTopic).contains(node.context.identity.peerID) == true
                })
                try pubsub.publish(CheckpointGossip.checkpointTopic, Array(honest.serialized.utf8))
                try pubsub.publish(CheckpointGossip.checkpointTopic, Array(forked.serialized.utf8))

                // The witness produced evidence, and the other node received it over gossip.
                #expect(await eventually(seconds: 20) { (try? witness.context.store.evidence().count) == 1 })
                #expect(await eventually(seconds: 30) { (try? node.context.store.evidence().count) == 1 })
                let answer = try await http("GET", ne.http.appending(path: "v1/evidence"))
                #expect(answer.status == 200)
                #expect(answer.object["count"] as? Int == 1)
                let item = try #require((answer.object["evidence"] as? [[String: Any]])?.first)
                let object = try #require(item["object"] as? [String: Any])
                #expect(object["log_key"] as? String == key.description)
                #expect(object["reporter"] as? String == (try VerifierKey(try #require(witness.context.witnessKey))).name)

                // The node now refuses any model from that log, before looking further.
                let gate = try ModelGate(settings: TransparencySettings(logKey: key, witnesses: []), aggregator: Identity().peerID)
                gate.attach(node.context)
                let announcement = ModelAnnouncement(round: 1, version: 0, model: "x", index: 0, entry: [], proof: [], checkpoint: honest.serialized)
                await #expect(throws: ModelRefusal.logConvicted(log: key.name)) { try await gate.accept(announcement) }
            }
        }
    }

    @Test func aWitnessRefusingAnInconsistentProofGossipsTheEvidence() async throws {
        let dir = temporaryFolder("splitproof")
        defer { cleanup(dir) }
        let (key, honest, _, signer) = try Self.forkedCheckpoints(dir)
        // The fork grows to 5 entries; its proof from size 3 implies another tree of size 3 than the one cosigned.
        let fork = try TileLog(storage: SQLiteLogStorage(path: dir + "/fork.db"), origin: signer.name)
        try fork.append([[4], [5]])
        let grown = try fork.checkpoint(signer: signer)
        let proof = try fork.consistencyProof(from: 3)
        var wc = testConfig(dir + "/w")
        wc.roles = [.witness]
        wc.witnessLogs = [key.description]
        let witnessEngine = try #require(try TransparencyEngine.from(wc))
        let witness = try Node(config: wc, roundEngine: witnessEngine, logger: quietLogger)
        try await withRunningNode(witness) { we in
            var nc = testConfig(dir + "/n", bootstrap: [try #require(we.p2p.first).description])
            nc.federationLog = key.description
            let engine = try #require(try TransparencyEngine.from(nc))
            let node = try Node(config: nc, roundEngine: engine, logger: quietLogger)
            try await withRunningNode(node) { _ in
                #expect(await eventually(seconds: 20) {
                    engine.transparency.gossip?.pubsub.topicPeers(CheckpointGossip.evidenceTopic).contains(witness.context.identity.peerID) == true
                })
                #expect(await eventually(seconds: 20) {
                    witnessEngine.transparency.gossip?.pubsub.topicPeers(CheckpointGossip.evidenceTopic).contains(node.context.identity.peerID) == true
                })
                // The log operator's side of c2sp.org/tlog-witness: the honest size 3 is cosigned, the fork's growth refused.
                let client = WitnessClient(url: we.http)
                guard case .cosigned = try await client.submit(note: honest, oldSize: 0, proof: []) else {
                    Issue.record("the witness did not cosign the first checkpoint")
                    return
                }
                let answer = try await client.submit(note: grown, oldSize: 3, proof: proof)
                #expect(answer != .cosigned([]), "\(answer)")
                guard case .refused(let status, _) = answer else { Issue.record("expected a refusal, got \(answer)"); return }
                #expect(status == 422)
                #expect(await eventually(seconds: 30) { (try? node.context.store.evidence().count) == 1 })
                let e = try #require(try node.context.store.evidence().first)
                #expect(e.logKey == key)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(e.json)) as? [String: Any])
                #expect((object["proof"] as? [String])?.isEmpty == false)
            }
        }
    }
}
