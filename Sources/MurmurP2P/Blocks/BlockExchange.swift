import Foundation
import MurmurCore
import NIOConcurrencyHelpers

/// Publishes and fetches content-addressed objects over `/murmur/blocks/1`.
///
/// `put` chunks an object into a local `BlockStore` and announces its root CID through
/// `ProviderRouting` (the Kademlia DHT's provider records); `fetch` finds providers of a root
/// CID, downloads the manifest and then the chunks in parallel from several providers, hashing
/// every block before it is stored or used. A provider that sends a wrong block, closes the
/// connection, times out or breaks the framing is dropped and its blocks are asked of the others.
///
/// The host must serve the protocol: `config.handlers[BlockProtocol.id] = BlockProtocol.handler(store: store)`.
public final class BlockExchange: Sendable {
    /// Knobs of a fetch.
    public struct Configuration: Sendable {
        /// Chunk size for `put` (1 … `Block.maxSize`).
        public var chunkSize = Block.maxSize
        /// Providers asked of the routing per fetch.
        public var maxProviders = 8
        /// Requests in flight at once per fetch (spread over the providers, least loaded first).
        public var concurrency = 8
        /// Blocks asked for per request (1 … `BlockProtocol.maxWants`).
        public var wantsPerRequest = 2
        /// A request (stream open, want-list, all answers) must finish within this, else the
        /// provider is dropped and its blocks go to the others.
        public var requestTimeout: Duration = .seconds(30)
        /// The largest object a manifest may declare (checked before any chunk is fetched).
        public var maxObjectSize = 16 << 30
        /// Defaults: 1 MiB chunks, 8 providers, 8 requests in flight, 2 blocks per request, 30 s, 16 GiB.
        public init() {}
    }

    /// How far a fetch has come, reported after every verified block.
    public struct Progress: Sendable, Equatable {
        /// Chunks held (already local or fetched and verified).
        public var blocks: Int
        /// Chunks in the object.
        public var totalBlocks: Int
        /// Bytes held.
        public var bytes: Int
        /// The object's size.
        public var totalBytes: Int
    }

    /// The host the requests go out from.
    public let host: P2PHost
    /// Where blocks are kept (and served from, if the host serves this store).
    public let store: any BlockStore
    /// Where providers are announced and found.
    public let routing: any ProviderRouting
    /// The knobs.
    public let configuration: Configuration

    /// An exchange for `host`, keeping blocks in `store` and finding providers through `routing`.
    public init(host: P2PHost, store: any BlockStore, routing: any ProviderRouting, configuration: Configuration = .init()) {
        self.host = host
        self.store = store
        self.routing = routing
        self.configuration = configuration
    }

    // MARK: publishing

    /// Chunks `bytes` into the store and announces the root; returns the root (manifest) CID.
    ///
    /// Only the root is announced: fetchers ask the root's providers for the chunks.
    public func put(_ bytes: [UInt8]) async throws -> CID {
        guard (1...Block.maxSize).contains(configuration.chunkSize) else {
            throw BlockError.sizeLimitExceeded("chunkSize \(configuration.chunkSize) is outside 1…\(Block.maxSize)")
        }
        let (manifest, chunks) = BlockManifest.chunk(bytes, chunkSize: configuration.chunkSize)
        for chunk in chunks { try await store.put(chunk) }
        try await store.put(manifest)
        try await routing.provide(manifest.cid.multihash.bytes)
        return manifest.cid
    }

    /// `put` for a file's contents.
    public func put(contentsOf file: URL) async throws -> CID {
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw BlockError.storeFailed("cannot read \(file.path): \(error.localizedDescription)")
        }
        return try await put([UInt8](data))
    }

    // MARK: fetching

    /// Fetches the object named `root` (a manifest, or a single raw block) and returns its bytes.
    ///
    /// Blocks already in the store are not fetched again; fetched ones stay in the store (so
    /// this node can serve them). `progress` is called once before the download and after every
    /// verified chunk, one call at a time (keep it short). Throws `BlockError` (no providers,
    /// all failed, corrupt manifest, limits).
    public func fetch(_ root: CID, progress: (@Sendable (Progress) -> Void)? = nil) async throws -> [UInt8] {
        let cids = try await retrieve(root, progress: progress)
        var out: [UInt8] = []
        for cid in cids {
            guard let bytes = try await store.get(cid) else {
                throw BlockError.storeFailed("block \(cid) vanished from the store during the fetch")
            }
            out += bytes
        }
        return out
    }

    /// Fetches the object named `root` into `file` (written to a temporary file, then renamed).
    public func fetch(_ root: CID, to file: URL, progress: (@Sendable (Progress) -> Void)? = nil) async throws {
        let cids = try await retrieve(root, progress: progress)
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).part")
        do {
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw BlockError.storeFailed("cannot create \(temporary.path)")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            for cid in cids {
                guard let bytes = try await store.get(cid) else {
                    throw BlockError.storeFailed("block \(cid) vanished from the store during the fetch")
                }
                try handle.write(contentsOf: bytes)
            }
            try handle.synchronize()
            if rename(temporary.path, file.path) != 0 {
                throw BlockError.storeFailed("cannot rename into \(file.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if error is BlockError { throw error }
            throw BlockError.storeFailed("cannot write \(file.path): \(error.localizedDescription)")
        }
    }

    /// Makes every block of `root` local; returns the object's chunk CIDs in order.
    func retrieve(_ root: CID, progress: (@Sendable (Progress) -> Void)?) async throws -> [CID] {
        guard root.multihash.code == Multihash.sha256Code, root.codec == CID.rawCodec || root.codec == CID.jsonCodec else {
            throw BlockError.unsupportedCID("\(root): only raw blocks and json manifests hashed with sha2-256 are fetched")
        }
        var session: BlockFetchSession?
        func providers() async throws -> BlockFetchSession {
            if let session { return session }
            let found = try await routing.findProviders(root.multihash.bytes, limit: configuration.maxProviders)
                .filter { $0 != host.peerID }
            guard !found.isEmpty else { throw BlockError.noProviders(root) }
            let s = BlockFetchSession(providers: found, count: 0)
            session = s
            return s
        }

        // The root: a single raw block is the whole object.
        var rootBytes = try await localBlock(root)
        if rootBytes == nil {
            let s = try await providers()
            try await download([root], sizes: [0], of: root, session: s, progress: nil)
            rootBytes = try await localBlock(root)
        }
        guard let rootBytes else { throw BlockError.storeFailed("block \(root) vanished from the store during the fetch") }
        if root.codec == CID.rawCodec {
            progress?(Progress(blocks: 1, totalBlocks: 1, bytes: rootBytes.count, totalBytes: rootBytes.count))
            return [root]
        }
        let manifest = try BlockManifest(decoding: Block(trusted: rootBytes, cid: root))
        guard manifest.size <= configuration.maxObjectSize else {
            throw BlockError.sizeLimitExceeded("\(root) declares \(manifest.size) bytes, above the limit of \(configuration.maxObjectSize)")
        }

        // The chunks not held yet (a stored copy that no longer verifies counts as missing and is replaced).
        var missing: [Int] = []
        var heldBytes = 0
        for (i, chunk) in manifest.chunks.enumerated() {
            if try await store.has(chunk.cid), try await localBlock(chunk.cid) != nil { heldBytes += chunk.size } else { missing.append(i) }
        }
        let total = manifest.chunks.count
        let counter = NIOLockedValueBox((blocks: total - missing.count, bytes: heldBytes))
        progress?(Progress(blocks: total - missing.count, totalBlocks: total, bytes: heldBytes, totalBytes: manifest.size))
        if !missing.isEmpty {
            let s = try await providers()
            let sizes = missing.map { manifest.chunks[$0].size }
            try await download(missing.map { manifest.chunks[$0].cid }, sizes: sizes, of: root, session: s) { size in
                // Under the lock, so reports arrive in order even from parallel requests.
                counter.withLockedValue { c in
                    c.blocks += 1
                    c.bytes += size
                    progress?(Progress(blocks: c.blocks, totalBlocks: total, bytes: c.bytes, totalBytes: manifest.size))
                }
            }
        }
        return manifest.chunks.map(\.cid)
    }

    /// A block from the store, or nil if it is missing or no longer verifies (then it is fetched again).
    private func localBlock(_ cid: CID) async throws -> [UInt8]? {
        do { return try await store.get(cid) } catch BlockError.storeFailed { return nil }
    }

    /// Downloads `cids` (blocks of `root`) into the store with `configuration.concurrency` workers over the session's providers.
    private func download(_ cids: [CID], sizes: [Int], of root: CID, session: BlockFetchSession, progress: (@Sendable (Int) -> Void)?) async throws {
        await session.restart(count: cids.count)
        let wants = max(1, min(configuration.wantsPerRequest, BlockProtocol.maxWants))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, configuration.concurrency) {
                group.addTask {
                    while let (peer, batch) = await session.assign(max: wants) {
                        try Task.checkCancellation()
                        try await self.request(batch, of: cids, sizes: sizes, from: peer, session: session, progress: progress)
                    }
                }
            }
            try await group.waitForAll()
        }
        let done = await session.done
        guard done == cids.count else {
            var reasons = await session.failures
            reasons.append("\(cids.count - done) of \(cids.count) blocks were held by no provider still answering")
            throw BlockError.allProvidersFailed(root, reasons)
        }
    }

    /// One request to `peer` for blocks `batch`; records the outcome in `session`.
    ///
    /// Provider faults drop the provider; a store failure is ours and ends the fetch.
    private func request(
        _ batch: [Int], of cids: [CID], sizes: [Int], from peer: PeerID, session: BlockFetchSession,
        progress: (@Sendable (Int) -> Void)?
    ) async throws {
        let finished = NIOLockedValueBox(Set<Int>())
        let stream = NIOLockedValueBox<P2PStream?>(nil)
        let timedOut = NIOLockedValueBox(false)
        let timeout = configuration.requestTimeout
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let s = try await self.host.newStream(to: peer, [BlockProtocol.id])
                    stream.withLockedValue { $0 = s }
                    if timedOut.withLockedValue({ $0 }) { await s.reset() }
                    try await s.write(BlockProtocol.encodeRequest(batch.map { cids[$0] }))
                    try await s.closeWrite()
                    var reader = BlockFrameReader()
                    for i in batch {
                        guard let frame = try await reader.next(maxLength: BlockProtocol.maxResponseLength, from: s.read) else {
                            throw BlockError.malformedMessage("the stream ended before the answer for \(cids[i])")
                        }
                        switch try BlockProtocol.decodeResponse(frame) {
                        case .block(let bytes):
                            let block = try Block(verifying: bytes, as: cids[i])
                            do { try await self.store.put(block) } catch { throw FetchAborted(error: error) }
                            finished.withLockedValue { _ = $0.insert(i) }
                            await session.delivered(i)
                            progress?(sizes[i])
                        case .dontHave:
                            finished.withLockedValue { _ = $0.insert(i) }
                            await session.refused(i, by: peer)
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    timedOut.withLockedValue { $0 = true }
                    if let s = stream.withLockedValue({ $0 }) {
                        await s.reset()
                    } else {
                        // Still opening the stream: closing the connection fails the open.
                        for c in self.host.connections(to: peer) { await c.close(linger: .zero) }
                    }
                }
                // The first child to finish decides; the other is cancelled (a cancelled sleep ends at once).
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch let aborted as FetchAborted {
            await stream.withLockedValue { $0 }?.reset()
            throw aborted.error
        } catch {
            let unfinished = batch.filter { !finished.withLockedValue { $0 }.contains($0) }
            let reason = timedOut.withLockedValue { $0 } ? "no complete answer within \(timeout)" : "\(error)"
            await stream.withLockedValue { $0 }?.reset()
            await session.failed(peer, reason: reason, unfinished: unfinished)
            return
        }
        if timedOut.withLockedValue({ $0 }) {
            let unfinished = batch.filter { !finished.withLockedValue { $0 }.contains($0) }
            await session.failed(peer, reason: "no complete answer within \(timeout)", unfinished: unfinished)
        } else {
            await session.finished(peer, unfinished: [])
        }
    }
}

/// A failure of our own store inside a request: ends the whole fetch instead of blaming the provider.
private struct FetchAborted: Error {
    let error: any Error
}
