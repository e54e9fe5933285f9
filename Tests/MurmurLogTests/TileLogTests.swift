import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurLog

/// The SQLite-backed tile log: roots and proofs equal the in-memory reference across tile boundaries,
/// state survives reopening, tiles are served in the tlog-tiles layout, corruption is detected.
@Suite(.ownThreads) struct TileLogTests {
    static func entry(_ i: Int) -> [UInt8] { [UInt8]("entry-\(i)") }

    @Test func matchesReferenceAcrossTilesAndReopen() async throws {
        try await onOwnThreads {
            let dir = temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("log.db").path
            var leaves: [LogHash] = []
            var log = try TileLog(storage: SQLiteLogStorage(path: path), origin: "murmur.test/log")
            #expect(log.state.root == RFC9162.emptyRoot)
            var rng = SystemRandomNumberGenerator()
            var checkpoints: [(UInt64, LogHash)] = []
            while leaves.count < 66_000 {
                let k = leaves.count < 600 ? Int.random(in: 1...40, using: &rng) : Int.random(in: 1...9000, using: &rng)
                let range = try log.append((leaves.count..<(leaves.count + k)).map(Self.entry))
                #expect(range == UInt64(leaves.count)..<UInt64(leaves.count + k))
                leaves += (leaves.count..<(leaves.count + k)).map { RFC9162.leafHash(Self.entry($0)) }
                let ref = MemoryTree(leaves: leaves)
                #expect(log.state.root == ref.root, "size \(leaves.count)")
                checkpoints.append((UInt64(leaves.count), ref.root))
                if Bool.random(using: &rng) { log = try TileLog(storage: SQLiteLogStorage(path: path), origin: "murmur.test/log") }
            }
            let n = UInt64(leaves.count)
            for i in [0, 1, 255, 256, 65_535, 65_536, leaves.count - 1].map(UInt64.init) {
                let p = try log.inclusionProof(index: i)
                try MerkleProof.verifyInclusion(index: i, size: n, leaf: leaves[Int(i)], proof: p, root: log.state.root)
                #expect(try log.entry(at: i) == Self.entry(Int(i)))
            }
            for (m, root) in checkpoints.prefix(20) + checkpoints.suffix(3) {
                #expect(try log.rootHash(size: m) == root)
                try MerkleProof.verifyConsistency(from: m, to: n, proof: log.consistencyProof(from: m), oldRoot: root, newRoot: log.state.root)
            }
            try log.verifyIntegrity()
            // Tiles: a full level-0 tile is 8192 bytes; a partial tile of a smaller width is a prefix.
            #expect(try log.resource(TileID(level: 0, index: 0)).count == 8192)
            #expect(try log.resource(TileID(level: 0, index: 0, width: 3)) == Array(try log.resource(TileID(level: 0, index: 0)).prefix(96)))
            #expect(try log.resource(TileID(level: 2, index: 0, width: 1)).count == 32)
            #expect(throws: LogStoreError.self) { try log.resource(TileID(level: 2, index: 0)) }
            #expect(throws: LogStoreError.self) { try log.resource(TileID(level: 0, index: n >> 8 + 5)) }
            let bundle = try EntryBundle.decode(log.resource(TileID(entriesAt: 1)))
            #expect(bundle.count == 256 && Array(bundle[0]) == Self.entry(256))
        }
    }

    @Test func checkpointsAreSignedAndRecorded() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ld = try LogDirectory.create(path: dir.path, origin: "murmur.test/cp")
        let log = try ld.open()
        try log.append([[UInt8]("a"), [UInt8]("b"), [UInt8]("c")])
        let note = try log.checkpoint(signer: ld.signer())
        let cp = try Checkpoint.open(Note(parsing: note.serialized), verifiers: [ld.verifierKey().verifier()])
        #expect(cp.size == 3 && cp.root == log.state.root && cp.origin == "murmur.test/cp")
        #expect(try log.latestCheckpoint() == note.serialized)
        #expect(throws: LogStoreError.self) { try LogDirectory.create(path: dir.path, origin: "again") }
    }

    @Test func corruptBytesAreDetectedNeverServed() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("log.db").path
        let log = try TileLog(storage: SQLiteLogStorage(path: path), origin: "murmur.test/c")
        try log.append((0..<1000).map(Self.entry))
        let raw = try SQLiteLogStorage(path: path)
        // Flip one byte inside full tile 0/0 (digest left as written): reading it is a hash mismatch.
        try raw.executeForTesting("UPDATE tile SET data = substr(data, 1, 99) || X'FF' || substr(data, 101) WHERE level = 0 AND idx = 0")
        let reopened = try TileLog(storage: SQLiteLogStorage(path: path), origin: "murmur.test/c")
        #expect { try reopened.resource(TileID(level: 0, index: 0)) } throws: { e in
            guard case LogStoreError.corrupt(let m) = e else { return false }
            return m.contains("tile 0/0") && "\(e)".contains("hash mismatch")
        }
        #expect(throws: LogStoreError.self) { try reopened.inclusionProof(index: 3) }
        #expect(throws: LogStoreError.self) { try reopened.verifyIntegrity() }
        // A corrupted partial (right-edge) tile is caught when the log is opened.
        try raw.executeForTesting("UPDATE tile SET data = X'00' || substr(data, 2) WHERE level = 0 AND idx = 3")
        #expect(throws: LogStoreError.self) { try TileLog(storage: SQLiteLogStorage(path: path), origin: "murmur.test/c") }
        // A bundle rewritten together with its digest is still caught: the entry no longer matches its leaf hash.
        let other = dir.appendingPathComponent("b.db").path
        let log2 = try TileLog(storage: SQLiteLogStorage(path: other), origin: "murmur.test/c")
        try log2.append((0..<600).map(Self.entry))
        var b: [UInt8] = []
        for i in 0..<256 { try EntryBundle.append(i == 7 ? [UInt8]("forged") : Self.entry(i), to: &b) }
        let blob = StoredBlob(data: b)
        try SQLiteLogStorage(path: other).executeForTesting("UPDATE bundle SET data = ?, digest = ? WHERE idx = 0", [Data(b), Data(blob.digest.bytes)])
        let log3 = try TileLog(storage: SQLiteLogStorage(path: other), origin: "murmur.test/c")
        #expect(try log3.entry(at: 6) == Self.entry(6))
        #expect(throws: LogStoreError.self) { try log3.entry(at: 7) }
        #expect(throws: LogStoreError.self) { try log3.verifyIntegrity() }
    }
}
