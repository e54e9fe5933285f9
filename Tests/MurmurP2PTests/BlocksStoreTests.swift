import Foundation
import MurmurCore
import Testing

@testable import MurmurP2P

/// The in-memory and directory block stores: round trips, atomic files, verification on read.
@Suite struct BlocksStoreTests {
    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("murmur-blocks-\(UUID().uuidString)")
    }

    static func exercise(_ store: any BlockStore) async throws {
        let a = Block(raw: Array("first".utf8))
        let b = Block(raw: [UInt8](repeating: 0xEE, count: Block.maxSize))
        #expect(try await store.get(a.cid) == nil)
        #expect(try await store.has(a.cid) == false)
        try await store.put(a)
        try await store.put(b)
        try await store.put(a)  // idempotent
        #expect(try await store.get(a.cid) == a.bytes)
        #expect(try await store.get(b.cid) == b.bytes)
        #expect(try await store.has(b.cid))
        #expect(try await store.get(CID.raw([0])) == nil)
    }

    @Test func memoryStoreRoundTrips() async throws {
        let store = MemoryBlockStore()
        try await Self.exercise(store)
        #expect(store.count == 2)
    }

    @Test func directoryStoreRoundTripsWithOneFilePerCID() async throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try DirectoryBlockStore(directory: dir)
        try await Self.exercise(store)
        // Exactly the two block files, named by CID; no temporary file left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        let expected = [Block(raw: Array("first".utf8)).cid, Block(raw: [UInt8](repeating: 0xEE, count: Block.maxSize)).cid]
            .map { "\($0).block" }.sorted()
        #expect(names == expected)
        // A second store over the same folder sees the blocks (they are on disk).
        #expect(try await DirectoryBlockStore(directory: dir).get(CID.raw(Array("first".utf8))) == Array("first".utf8))
    }

    @Test func directoryStoreVerifiesOnRead() async throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try DirectoryBlockStore(directory: dir)
        let block = Block(raw: Array("model weights".utf8))
        try await store.put(block)
        // Flip one byte on disk: the read must fail, not hand out the wrong bytes.
        try Data("model weighTs".utf8).write(to: store.path(for: block.cid))
        await #expect(throws: BlockError.self) { _ = try await store.get(block.cid) }
        // An oversized file under a CID fails as well.
        try Data(repeating: 1, count: Block.maxSize + 10).write(to: store.path(for: block.cid))
        await #expect(throws: BlockError.self) { _ = try await store.get(block.cid) }
        // Putting the block again repairs it.
        try await store.put(block)
        #expect(try await store.get(block.cid) == block.bytes)
    }

    @Test func directoryStoreReportsAnUnwritableFolder() async throws {
        let file = Self.temporaryDirectory()
        try Data([1]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: BlockError.self) { _ = try DirectoryBlockStore(directory: file) }
    }
}
