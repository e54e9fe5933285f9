import Foundation
import MurmurCore
import MurmurLedger
import Testing
@testable import MurmurNode

/// A stopped and restarted node resumes: identity, admin token, peer book, log, ledger and rounds persist.
@Suite("Node restart", .timeLimit(.minutes(2)))
struct NodeRestartTests {
    @Test("restart keeps identity, token, peer book, log and ledger, and reconnects to known peers")
    func resumes() async throws {
        let dir = temporaryFolder("restart")
        defer { cleanup(dir) }
        var config = testConfig(dir + "/a")
        config.adminToken = nil  // generated on first start, kept in the data dir
        let peer = try Node(config: testConfig(dir + "/peer"), logger: quietLogger)
        let peerRun = Task { try await peer.run() }
        let peerEnd = try await withDeadline(seconds: 20, "peer start") { try await peer.waitUntilStarted() }
        let member = Identity()

        let first = try Node(config: config, logger: quietLogger)
        #expect(first.identityCreated)
        let token = first.adminToken
        #expect(first.adminTokenFile == config.adminTokenPath)
        let firstDigest = try await withRunningNode(first) { e in
            let added = try await http("POST", e.http.appending(path: "v1/admin/peers"), json: ["address": peerEnd.p2p[0].description], token: token)
            #expect(added.status == 200, "\(added.text)")
            try await first.context.ledger.append([
                LedgerRecord.sign(Genesis(federation: "restart", members: [member.peerID.description], coordinators: [member.peerID.description]), by: member),
            ])
            try first.context.recordRound(RoundSummary(round: 1, status: .completed, model: "m1", participants: 2))
            return try await first.context.ledger.snapshot()
        }

        let second = try Node(config: config, logger: quietLogger)
        #expect(!second.identityCreated)
        #expect(second.context.identity.peerID == first.context.identity.peerID)
        #expect(second.adminToken == token)
        #expect(second.context.ledger.verifierKey == first.context.ledger.verifierKey)
        let snap = try await second.context.ledger.snapshot()
        #expect(snap == firstDigest)
        #expect(await second.context.ledger.state.federation == "restart")
        #expect(try second.context.store.rounds().map(\.round) == [1])
        #expect(try second.context.store.metadata("starts") == "2")
        try await withRunningNode(second) { e in
            // Reconnects to the peer from its book, without a bootstrap list.
            let back = await eventually { second.context.host.connectedPeers.contains(peer.context.identity.peerID) }
            #expect(back)
            let status = try await http("GET", e.http.appending(path: "v1/status"))
            #expect(status.object["peer_id"] as? String == first.context.identity.peerID.description)
            #expect(status.object["rounds_completed"] as? Int == 1)
            // The ledger continues where it stopped: the next record chains onto the replayed head.
            let outcome = try await second.context.ledger.append([
                LedgerRecord.sign(Genesis(federation: "again", members: [member.peerID.description], coordinators: [member.peerID.description]), by: member),
            ])
            #expect(outcome.count == 1 && !outcome[0].accepted)  // a second genesis is rejected but logged
            #expect(await second.context.ledger.size == 2)
        }
        await peer.shutdown()
        try await withDeadline(seconds: 20, "peer stop") { try await peerRun.value }
    }

    @Test("a data dir with another node's log key is refused with a clear error")
    func originMismatch() throws {
        let dir = temporaryFolder("origin")
        defer { cleanup(dir) }
        var c = testConfig(dir)
        c.logOrigin = "example.com/a"
        _ = try Node(config: c, logger: quietLogger)
        c.logOrigin = "example.com/b"
        #expect(throws: NodeError.self) { try Node(config: c) }
    }
}
