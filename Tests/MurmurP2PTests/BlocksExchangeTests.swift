import Foundation
import MurmurCore
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import MurmurP2P

/// `BlockExchange` between real `P2PHost`s on loopback: a 50 MB object, lying, dying, hanging
/// and malformed providers, and the typed errors when nobody can help. Serialized: the timeouts
/// under test are real, and the 50 MB transfer beside them would make them race.
@Suite(.serialized) struct BlocksExchangeTests {
    /// A host serving `/murmur/blocks/1` (from `serving`, default its own store) with an exchange.
    struct Node {
        let host: P2PHost
        let store: any BlockStore
        let exchange: BlockExchange
        let listener: any Channel

        static func start(
            _ table: LocalProviderTable, store: any BlockStore = MemoryBlockStore(), serving: (any BlockStore)? = nil,
            handler: StreamHandler? = nil, configure: (inout BlockExchange.Configuration) -> Void = { _ in }
        ) async throws -> Node {
            var config = P2PHost.Configuration()
            config.handlers[BlockProtocol.id] = handler ?? BlockProtocol.handler(store: serving ?? store)
            let host = P2PHost(identity: Identity(), configuration: config)
            let listener = try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
            var exchange = BlockExchange.Configuration()
            configure(&exchange)
            return Node(host: host, store: store, exchange: BlockExchange(host: host, store: store, routing: table.routing(for: host), configuration: exchange), listener: listener)
        }

        /// Stops listening and closes every connection (a node that dies).
        func kill() async {
            try? await listener.close()
            for peer in host.connectedPeers { for c in host.connections(to: peer) { await c.close() } }
        }
    }

    /// `count` pseudo-random bytes from `seed` (a word at a time: the 50 MB object must not hold a
    /// test thread for seconds in a debug build).
    static func object(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRNG(seed: seed)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var i = 0
            while i + 8 <= count {
                raw.storeBytes(of: rng.next().littleEndian, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            if i < count {
                var word = rng.next().littleEndian
                withUnsafeBytes(of: &word) { w in for j in 0..<(count - i) { buffer[i + j] = w[j] } }
            }
            initialized = count
        }
    }

    /// Whether two objects are equal; a mismatch is recorded as sizes and the first differing
    /// offset (not megabytes of bytes).
    static func same(_ got: [UInt8], _ expected: [UInt8]) -> Bool {
        let equal = got.count == expected.count
            && (got.isEmpty || got.withUnsafeBytes { g in expected.withUnsafeBytes { e in memcmp(g.baseAddress!, e.baseAddress!, g.count) == 0 } })
        guard !equal else { return true }
        let at = (0..<min(got.count, expected.count)).first { got[$0] != expected[$0] } ?? min(got.count, expected.count)
        Issue.record("got \(got.count) bytes, expected \(expected.count); first difference at offset \(at)")
        return false
    }

    /// A provider's store that corrupts every raw block it serves (the manifest stays honest).
    final class LyingStore: BlockStore {
        let base: any BlockStore
        let served = NIOLockedValueBox(0)
        init(_ base: any BlockStore) { self.base = base }
        func get(_ cid: CID) async throws -> [UInt8]? {
            guard var bytes = try await base.get(cid) else { return nil }
            if cid.codec == CID.rawCodec, !bytes.isEmpty {
                bytes[bytes.count / 2] ^= 0x01
                served.withLockedValue { $0 += 1 }
            }
            return bytes
        }
        func put(_ block: Block) async throws { try await base.put(block) }
        func has(_ cid: CID) async throws -> Bool { try await base.has(cid) }
    }

    /// A provider's store that runs `failure` when asked for its `after`-th block.
    final class FailingStore: BlockStore {
        let base: any BlockStore
        let after: Int
        let served = NIOLockedValueBox(0)
        let failure = NIOLockedValueBox<(@Sendable () async -> Void)?>(nil)
        init(_ base: any BlockStore, after: Int) {
            self.base = base
            self.after = after
        }
        func get(_ cid: CID) async throws -> [UInt8]? {
            let n = served.withLockedValue { $0 += 1; return $0 }
            if n >= after, let failure = failure.withLockedValue({ $0 }) { await failure() }
            return try await base.get(cid)
        }
        func put(_ block: Block) async throws { try await base.put(block) }
        func has(_ cid: CID) async throws -> Bool { try await base.has(cid) }
    }

    @Test(.timeLimit(.minutes(3))) func fiftyMegabytesMoveBetweenTwoHostsAndVerify() async throws {
        let table = LocalProviderTable()
        let provider = try await Node.start(table)
        let directory = BlocksStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let client = try await Node.start(table, store: try DirectoryBlockStore(directory: directory.appendingPathComponent("blocks")))
        defer {
            provider.listener.close(promise: nil)
            client.listener.close(promise: nil)
        }
        let model = Self.object(50_000_000, seed: 50)
        let root = try await provider.exchange.put(model)
        #expect(root.codec == CID.jsonCodec)

        let reports = NIOLockedValueBox<[BlockExchange.Progress]>([])
        let file = directory.appendingPathComponent("model.safetensors")
        try await withDeadline(seconds: 120, "the 50 MB fetch") {
            try await client.exchange.fetch(root, to: file) { p in reports.withLockedValue { $0.append(p) } }
        }
        #expect(Self.same([UInt8](try Data(contentsOf: file)), model))
        let progress = reports.withLockedValue { $0 }
        #expect(progress.first == .init(blocks: 0, totalBlocks: 48, bytes: 0, totalBytes: 50_000_000))
        #expect(progress.last == .init(blocks: 48, totalBlocks: 48, bytes: 50_000_000, totalBytes: 50_000_000))
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0.bytes < $1.bytes })
        // The client now holds (and could serve) every chunk; a second fetch needs no network.
        await provider.kill()
        #expect(Self.same(try await client.exchange.fetch(root), model))
    }

    @Test(.timeLimit(.minutes(2))) func aLyingProviderIsDetectedAndTheFetchCompletesFromAnHonestOne() async throws {
        let table = LocalProviderTable()
        let data = Self.object(3_000_000, seed: 1)
        let shared = MemoryBlockStore()
        let lies = LyingStore(shared)
        let liar = try await Node.start(table, store: shared, serving: lies)
        let root = try await liar.exchange.put(data)  // the liar announces first, so it is asked first
        let honest = try await Node.start(table)
        #expect(try await honest.exchange.put(data) == root)
        let client = try await Node.start(table)
        defer { for n in [liar, honest, client] { n.listener.close(promise: nil) } }

        let fetched = try await withDeadline(seconds: 60, "fetch") { try await client.exchange.fetch(root) }
        #expect(Self.same(fetched, data))
        #expect(lies.served.withLockedValue { $0 } >= 1)

        // With only the liar, nothing it sends is accepted: a typed error naming the mismatch.
        let alone = LocalProviderTable()
        let liar2 = try await Node.start(alone, store: shared, serving: lies)
        try await alone.routing(for: liar2.host).provide(root.multihash.bytes)
        let victim = try await Node.start(alone)
        defer { for n in [liar2, victim] { n.listener.close(promise: nil) } }
        do {
            _ = try await withDeadline(seconds: 60, "fetch") { try await victim.exchange.fetch(root) }
            Issue.record("a fetch from a lying provider succeeded")
        } catch BlockError.allProvidersFailed(let cid, let reasons) {
            #expect(cid == root)
            #expect(reasons.first?.contains("do not hash to") == true, "\(reasons)")
        }
        #expect(try await victim.store.has(root))  // the honest manifest was kept, no chunk was
        #expect((victim.store as? MemoryBlockStore)?.count == 1)
    }

    @Test(.timeLimit(.minutes(2))) func aProviderThatDiesMidTransferIsReplaced() async throws {
        let table = LocalProviderTable()
        let data = Self.object(12_000_000, seed: 2)
        let shared = MemoryBlockStore()
        let dying = FailingStore(shared, after: 4)
        let victim = try await Node.start(table, store: shared, serving: dying)
        dying.failure.withLockedValue { $0 = { await victim.kill() } }
        let root = try await victim.exchange.put(data)
        let survivor = try await Node.start(table)
        _ = try await survivor.exchange.put(data)
        let client = try await Node.start(table)
        defer { for n in [survivor, client] { n.listener.close(promise: nil) } }
        let fetched = try await withDeadline(seconds: 60, "fetch") { try await client.exchange.fetch(root) }
        #expect(Self.same(fetched, data))
        #expect(dying.served.withLockedValue { $0 } >= 4)
    }

    @Test(.timeLimit(.minutes(3))) func aProviderThatStallsTimesOutAndIsReplaced() async throws {
        let table = LocalProviderTable()
        let data = Self.object(6_000_000, seed: 3)
        let shared = MemoryBlockStore()
        let stalling = FailingStore(shared, after: 3)
        stalling.failure.withLockedValue { $0 = { try? await Task.sleep(for: .seconds(30)) } }
        let staller = try await Node.start(table, store: shared, serving: stalling)
        let root = try await staller.exchange.put(data)
        let good = try await Node.start(table)
        _ = try await good.exchange.put(data)
        // 15 s: long enough that the honest provider answers on a loaded machine, short enough
        // that the staller (30 s) is the one that times out.
        let client = try await Node.start(table, configure: { $0.requestTimeout = .seconds(15) })
        defer { for n in [staller, good, client] { n.listener.close(promise: nil) } }
        let fetched = try await withDeadline(seconds: 120, "fetch") { try await client.exchange.fetch(root) }
        #expect(Self.same(fetched, data))
        #expect(stalling.served.withLockedValue { $0 } >= 3)
    }

    @Test(.timeLimit(.minutes(2))) func oversizeAndMalformedAnswersDropTheProvider() async throws {
        let data = Self.object(2_500_000, seed: 4)
        // Each bad server answers any request with one broken frame.
        let broken: [(String, [UInt8])] = [
            ("size limit exceeded", UnsignedVarint.encode(UInt64(BlockProtocol.maxResponseLength + 1)) + [0, 1, 2]),
            ("unknown status byte", [2, 7, 0]),
            ("malformed", [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]),
            ("ended", [10, 0, 1, 2]),
        ]
        for (expected, reply) in broken {
            let table = LocalProviderTable()
            let server = try await Node.start(table, handler: { stream in
                var reader = BlockFrameReader()
                _ = try await reader.next(maxLength: BlockProtocol.maxRequestLength, from: stream.read)
                try await stream.write(reply)
                try await stream.closeWrite()
            })
            let root = try await server.exchange.put(data)
            let client = try await Node.start(table)
            defer { for n in [server, client] { n.listener.close(promise: nil) } }
            do {
                _ = try await withDeadline(seconds: 30, "fetch") { try await client.exchange.fetch(root) }
                Issue.record("a fetch from a malformed provider succeeded")
            } catch BlockError.allProvidersFailed(_, let reasons) {
                #expect(reasons.first?.contains(expected) == true, "\(expected): \(reasons)")
            }
            // An honest provider joins: the same fetch now completes.
            let honest = try await Node.start(table)
            defer { honest.listener.close(promise: nil) }
            _ = try await honest.exchange.put(data)
            #expect(Self.same(try await withDeadline(seconds: 30, "fetch") { try await client.exchange.fetch(root) }, data))
        }
    }

    @Test(.timeLimit(.minutes(3))) func theServerResetsAStreamWithAMalformedRequest() async throws {
        let table = LocalProviderTable()
        let server = try await Node.start(table)
        let client = P2PHost(identity: Identity())
        defer { server.listener.close(promise: nil) }
        let address = try #require(server.host.addresses.first)
        for request: [UInt8] in [[3, 0, 0, 0], [2, 1, 200], UnsignedVarint.encode(1 << 20) + [1]] {
            let stream = try await withDeadline(seconds: 30, "open") { try await client.connect(address).openStream([BlockProtocol.id]) }
            try await stream.write(request)
            try await stream.closeWrite()
            await #expect(throws: P2PError.streamReset) { _ = try await stream.readToEnd(limit: 1 << 20) }
        }
        // A valid request on the same connection still gets an answer ("don't have").
        let stream = try await client.connect(address).openStream([BlockProtocol.id])
        try await stream.write(try BlockProtocol.encodeRequest([CID.raw([1])]))
        try await stream.closeWrite()
        #expect(try await stream.readToEnd(limit: 100) == [1, 1])
    }

    @Test(.timeLimit(.minutes(3))) func nobodyToAskIsATypedError() async throws {
        let table = LocalProviderTable()
        let client = try await Node.start(table)
        defer { client.listener.close(promise: nil) }
        let root = BlockManifest.chunk(Array("nobody has this".utf8)).manifest.cid
        await #expect(throws: BlockError.noProviders(root)) { _ = try await client.exchange.fetch(root) }
        // A provider that is announced but gone: all providers failed.
        let gone = try await Node.start(table)
        _ = try await gone.exchange.put(Array("nobody has this".utf8))
        await gone.kill()
        do {
            _ = try await withDeadline(seconds: 30, "fetch") { try await client.exchange.fetch(root) }
            Issue.record("a fetch from a dead provider succeeded")
        } catch BlockError.allProvidersFailed(let cid, let reasons) {
            #expect(cid == root && reasons.count == 2, "\(reasons)")
        }
        // A manifest declaring more than the client accepts is refused before any chunk moves.
        let big = try await Node.start(table)
        let small = try await Node.start(table, configure: { $0.maxObjectSize = 1000 })
        defer { for n in [big, small] { n.listener.close(promise: nil) } }
        let bigRoot = try await big.exchange.put(Self.object(5000, seed: 5))
        await #expect(throws: BlockError.sizeLimitExceeded("\(bigRoot) declares 5000 bytes, above the limit of 1000")) {
            _ = try await small.exchange.fetch(bigRoot)
        }
    }

    @Test(.timeLimit(.minutes(3))) func aCorruptLocalChunkIsFetchedAgain() async throws {
        let table = LocalProviderTable()
        let provider = try await Node.start(table)
        let directory = BlocksStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try DirectoryBlockStore(directory: directory)
        let client = try await Node.start(table, store: store)
        defer { for n in [provider, client] { n.listener.close(promise: nil) } }
        let data = Self.object(3_000_000, seed: 6)
        let root = try await provider.exchange.put(data)
        #expect(Self.same(try await client.exchange.fetch(root), data))
        // Damage one chunk on disk: the next fetch notices, replaces it from the provider, and the file verifies again.
        let chunk = BlockManifest.chunk(data).chunks[1]
        try Data(repeating: 0, count: 10).write(to: store.path(for: chunk.cid))
        #expect(Self.same(try await withDeadline(seconds: 30, "refetch") { try await client.exchange.fetch(root) }, data))
        #expect(try await store.get(chunk.cid) == chunk.bytes)
    }

    @Test(.timeLimit(.minutes(3))) func aSingleRawBlockAndTheEmptyObjectFetch() async throws {
        let table = LocalProviderTable()
        let provider = try await Node.start(table)
        let client = try await Node.start(table)
        defer { for n in [provider, client] { n.listener.close(promise: nil) } }
        let block = Block(raw: Array("one block".utf8))
        try await provider.store.put(block)
        try await table.routing(for: provider.host).provide(block.cid.multihash.bytes)
        #expect(try await client.exchange.fetch(block.cid) == block.bytes)
        let empty = try await provider.exchange.put([])
        #expect(try await client.exchange.fetch(empty) == [])
    }
}
