import Foundation
import MurmurCore
import Testing
@testable import MurmurNode

@Suite("node.sqlite tables")
struct NodeStoreTests {
    @Test("migrations run once and the log's tables share the file")
    func migrations() throws {
        let dir = temporaryFolder("store")
        defer { cleanup(dir) }
        let store = try NodeStore(path: dir + "/node.sqlite")
        #expect(try store.appliedMigrations() == ["node-v1", "node-v2-receipts"])
        let again = try NodeStore(path: dir + "/node.sqlite")
        #expect(try again.appliedMigrations() == ["node-v1", "node-v2-receipts"])
        let signer = try NodeLedger.makeSigner(origin: "example.com/store")
        _ = try NodeLedger(store: again, origin: "example.com/store", signer: signer)
        #expect(try again.ledgerSnapshot()?.size == 0)
    }

    @Test("the peer book merges addresses, keeps at most 8 per peer, and orders by last seen")
    func peerBook() throws {
        let dir = temporaryFolder("peers")
        defer { cleanup(dir) }
        let store = try NodeStore(path: dir + "/node.sqlite")
        try store.rememberPeer("p1", addresses: ["/ip4/127.0.0.1/tcp/1"], source: "bootstrap")
        try store.rememberPeer("p1", addresses: ["/ip4/127.0.0.1/tcp/1", "/ip4/127.0.0.1/tcp/2"], source: "dialed")
        for i in 3...12 { try store.rememberPeer("p1", addresses: ["/ip4/127.0.0.1/tcp/\(i)"], source: "dialed") }
        let p = try #require(store.peers().first)
        #expect(p.source == "bootstrap")
        #expect(p.addresses.count == NodeStore.maxAddressesPerPeer && p.addresses.last == "/ip4/127.0.0.1/tcp/12")
    }

    @Test("blocks are stored only under the CID their bytes hash to")
    func blocks() throws {
        let dir = temporaryFolder("blocks")
        defer { cleanup(dir) }
        let store = try NodeStore(path: dir + "/node.sqlite")
        let bytes: [UInt8] = Array("hello".utf8)
        try store.putBlock(bytes, cid: CID.raw(bytes), kind: "weights")
        #expect(try store.block(CID.raw(bytes).description) == bytes)
        #expect(throws: NodeError.self) { try store.putBlock(bytes, cid: CID.raw([1]), kind: "weights") }
        #expect(try store.block(CID.raw([1]).description) == nil)
        let cid = try writeTestModel(to: dir + "/m")
        let (artifact, _) = try ModelArtifactReader.read(dir + "/m")
        #expect(try store.putModel(artifact).description == cid)
        #expect(try store.model(cid)?.weights == artifact.blob)
        #expect(try store.blocks(kind: "manifest").map(\.cid) == [cid])
    }

    @Test("rounds are listed newest first and counted by status")
    func rounds() throws {
        let dir = temporaryFolder("rounds")
        defer { cleanup(dir) }
        let store = try NodeStore(path: dir + "/node.sqlite")
        try store.recordRound(RoundSummary(round: 1, status: .completed, participants: 3))
        try store.recordRound(RoundSummary(round: 2, status: .running))
        try store.recordRound(RoundSummary(round: 2, status: .failed, detail: "too few clients"))
        #expect(try store.rounds().map(\.round) == [2, 1])
        #expect(try store.rounds().first?.detail == "too few clients")
        #expect(try store.completedRounds() == 1)
        #expect(try store.rounds(limit: 1).count == 1)
    }
}

import MurmurML

/// Reads a model folder in tests.
enum ModelArtifactReader {
    static func read(_ path: String) throws -> (ModelArtifact, Network) {
        try ModelArtifact.read(from: URL(fileURLWithPath: path))
    }
}
