import Foundation
import MurmurCore
import MurmurLedger
import MurmurLog
import Testing
@testable import MurmurNode

/// The witness role over HTTP: node B cosigns node A's log (c2sp.org/tlog-witness) when A's admin asks.
@Suite("Witness role", .timeLimit(.minutes(2)))
struct WitnessRoleTests {
    @Test("a log operator gets its checkpoint cosigned by a witness node; the cosignature is served and survives a restart")
    func cosign() async throws {
        let dir = temporaryFolder("witness")
        defer { cleanup(dir) }
        let a = try Node(config: testConfig(dir + "/a"), logger: quietLogger)
        let member = Identity()
        try await a.context.ledger.append([
            LedgerRecord.sign(Genesis(federation: "w", members: [member.peerID.description], coordinators: [member.peerID.description]), by: member),
        ])
        var bc = testConfig(dir + "/b")
        bc.roles = [.witness]
        bc.witnessLogs = [a.context.ledger.verifierKey]
        let b = try Node(config: bc, logger: quietLogger)
        let witnessKey = try #require(b.context.witnessKey)
        let name = try VerifierKey(witnessKey).name
        #expect(a.context.witnessKey == nil)
        let stranger = try Node(config: testConfig(dir + "/c"), logger: quietLogger)
        try await withRunningNode(b) { be in
            try await withRunningNode(a) { ae in
                let status = try await http("GET", be.http.appending(path: "v1/status"))
                #expect(status.object["witness_key"] as? String == witnessKey)
                let url = ae.http.appending(path: "v1/admin/cosign")
                // B answers, but its cosignature is not by the key A was told to expect.
                let wrongKey = try await http("POST", url, json: ["witness": be.http.absoluteString, "key": stranger.context.ledger.verifierKey], token: a.adminToken)
                #expect(wrongKey.status == 502, "\(wrongKey.text)")
                let ok = try await http("POST", url, json: ["witness": be.http.absoluteString, "key": witnessKey], token: a.adminToken)
                #expect(ok.status == 200, "\(ok.text)")
                let cp = try await http("GET", ae.http.appending(path: "checkpoint"))
                #expect(cp.text.contains("— \(name) "), "\(cp.text)")
            }
            // A log B does not witness is refused (tlog-witness: 404 unknown log).
            await #expect(throws: NodeError.self) { try await stranger.context.ledger.cosign(witness: be.http, key: VerifierKey(witnessKey)) }
        }
        let reopened = try Node(config: testConfig(dir + "/a"), logger: quietLogger)
        #expect(try await reopened.context.ledger.snapshot().checkpoint?.contains("— \(name) ") == true)
    }
}
