import Foundation
import MurmurCore
import MurmurP2P
import Testing
@testable import MurmurNode

/// `/murmur/receipts/1` and the receipt journal behind it: bounded, paged by sequence number, and
/// a peer sending garbage is reset and scored while the node keeps serving.
@Suite("Receipts protocol and journal", .timeLimit(.minutes(3)))
struct VerifyReceiptsProtocolTests {
    @Test("the journal keeps the newest receipts with bit-exact inputs; sequence numbers are never reused")
    func journalIsBounded() throws {
        let dir = temporaryFolder("receipt-journal")
        defer { cleanup(dir) }
        let store = try NodeStore(path: dir + "/node.sqlite")
        let odd: [Float] = [-0.0, .leastNonzeroMagnitude, 1e-38, -3.25, .greatestFiniteMagnitude]
        try store.appendReceipts((0..<7).map { (line: "r\($0)", input: odd) }, keep: 5)
        let seqs = try store.appendReceipts([(line: "r7", input: odd)], keep: 5)
        #expect(seqs == [8])
        let held = try store.receipts(since: 0, limit: 100)
        #expect(held.map(\.line) == ["r3", "r4", "r5", "r6", "r7"])
        #expect(held.map(\.sequence) == [4, 5, 6, 7, 8])
        #expect(held.allSatisfy { $0.input.map(\.bitPattern) == odd.map(\.bitPattern) })
        #expect(try store.receipts(since: 6, limit: 1).map(\.line) == ["r6"])
        #expect(try store.receipts(since: 6, limit: 1).map(\.sequence) == [7])
        #expect(try store.latestReceipt() == 8)
    }

    @Test("garbage, oversized and out-of-range requests are reset and scored; an honest peer is served throughout")
    func garbageIsRejected() async throws {
        let dir = temporaryFolder("receipts-garbage")
        defer { cleanup(dir) }
        _ = try writeTestModel(to: dir + "/model")
        var config = testConfig(dir, models: [dir + "/model"])
        config.roles = [.client]
        let node = try Node(config: config, logger: quietLogger)
        try await withRunningNode(node) { e in
            let address = try #require(e.p2p.first)
            let nodePeer = node.context.identity.peerID
            let rows: [[Float]] = [[0.1, 0.2, 0.3, 0.4], [1, -1, 0.5, 0]]
            let infer = try await http("POST", e.http.appending(path: "v1/infer"), json: ["features": rows])
            #expect(infer.status == 200)

            let honest = P2PHost(identity: Identity())
            honest.addAddresses([address], for: nodePeer)
            let hostile = P2PHost(identity: Identity())
            hostile.addAddresses([address], for: nodePeer)
            let requests: [[UInt8]] = [
                Array("not json at all".utf8),
                [0xFF, 0x00, 0x13, 0x37],
                Array(#"{"since":0,"limit":0}"#.utf8),
                Array(#"{"since":-5,"limit":3}"#.utf8),
                Array(repeating: UInt8(ascii: " "), count: 4096),
            ]
            var before = node.context.peerGuard.scores.score(hostile.peerID.description)
            for bytes in requests {
                let stream = try await hostile.newStream(to: nodePeer, [ReceiptsProtocol.id])
                try? await stream.write(bytes)
                try? await stream.closeWrite()
                let answer = try? await withDeadline(seconds: 20, "garbage answer") { try await stream.readToEnd(limit: 1 << 20) }
                #expect(answer == nil, "the node answered \(bytes.prefix(20)) with \(answer?.count ?? 0) bytes instead of resetting")
                // Scored down (a refusal resets the score to half the threshold).
                let scores = node.context.peerGuard.scores, key = hostile.peerID.description, previous = before
                #expect(await eventually(seconds: 10) { scores.score(key) < previous || scores.isRefused(key) })
                before = node.context.peerGuard.scores.score(hostile.peerID.description)

                // The honest peer is served in between, with the receipts and their inputs.
                let served = try await ReceiptsProtocol.fetch(from: nodePeer, host: honest, since: 0, limit: 10, deadline: .seconds(20))
                #expect(served.latest == 2 && served.receipts.map(\.seq) == [1, 2])
                #expect(served.receipts.map { $0.inputValues ?? [] } == rows)
                if node.context.peerGuard.scores.isRefused(hostile.peerID.description) { break }
            }
            #expect(node.context.peerGuard.scores.score(hostile.peerID.description) < 0)
            #expect(node.context.peerGuard.scores.score(honest.peerID.description) == 0)
            // Paging: after sequence 1, one receipt.
            let page = try await ReceiptsProtocol.fetch(from: nodePeer, host: honest, since: 1, limit: 64, deadline: .seconds(20))
            #expect(page.receipts.map(\.seq) == [2])
            #expect(try await http("GET", e.http.appending(path: "v1/status")).status == 200)
            for c in honest.connections(to: nodePeer) { await c.close() }
            for c in hostile.connections(to: nodePeer) { await c.close() }
        }
    }
}
