import Crypto
import MurmurCore
import NIOCore

/// Loopback measurements for `murmur bench blocks`: an object fetched over `/murmur/blocks/1`
/// between hosts in this process, and the SHA-256 throughput that verifying it costs.
///
/// Every fetched byte is hashed once by the client (and once by `put` on the provider, outside
/// the timed part), so one core's SHA-256 rate is a fair ceiling to compare the transfer with.
public enum BlockBenchmark {
    /// One timed fetch.
    public struct Transfer: Sendable {
        /// The object's size.
        public var bytes: Int
        /// Providers the client fetched from.
        public var providers: Int
        /// Chunks in the object.
        public var blocks: Int
        /// Wall time of the fetch (provider lookup, manifest, chunks, verification).
        public var seconds: Double
        /// bytes / seconds.
        public var bytesPerSecond: Double { Double(bytes) / seconds }
    }

    /// SHA-256 throughput on one core (bytes/s), hashing `bytes` in 1 MiB blocks as the client verifies them.
    public static func sha256BytesPerSecond(bytes: Int) -> Double {
        let block = [UInt8](repeating: 0x5A, count: Block.maxSize)
        let clock = ContinuousClock()
        let start = clock.now
        var hashed = 0
        var sink: UInt8 = 0
        while hashed < bytes {
            sink ^= Block.sha256(block)[0]
            hashed += block.count
        }
        let elapsed = clock.now - start
        // Keeps the digests observable so the loop cannot be dropped.
        if sink == 0x5A && hashed < 0 { return 0 }
        return Double(hashed) / P2PBenchmark.seconds(elapsed)
    }

    /// Puts `bytes` pseudo-random bytes on `providers` hosts, then times one client fetching them.
    public static func transfer(bytes: Int, providers: Int = 1, configuration: BlockExchange.Configuration = .init()) async throws -> Transfer {
        var rng = SeededRNG(seed: 2026)
        var object = [UInt8](repeating: 0, count: bytes)
        object.withUnsafeMutableBytes { raw in
            var i = 0
            while i < raw.count {
                var word = rng.next()
                let n = min(8, raw.count - i)
                withUnsafeBytes(of: &word) { w in for j in 0..<n { raw[i + j] = w[j] } }
                i += n
            }
        }
        let table = LocalProviderTable()
        var listeners: [any Channel] = []
        defer { for l in listeners { l.close(promise: nil) } }
        var root: CID?
        for _ in 0..<max(1, providers) {
            let store = MemoryBlockStore()
            var config = P2PHost.Configuration()
            config.handlers[BlockProtocol.id] = BlockProtocol.handler(store: store)
            let host = P2PHost(identity: Identity(), configuration: config)
            listeners.append(try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0")))
            root = try await BlockExchange(host: host, store: store, routing: table.routing(for: host)).put(object)
        }
        guard let root else { throw BlockError.noProviders(CID.raw([])) }
        let client = P2PHost(identity: Identity())
        let exchange = BlockExchange(host: client, store: MemoryBlockStore(), routing: table.routing(for: client), configuration: configuration)
        let clock = ContinuousClock()
        let start = clock.now
        let fetched = try await exchange.fetch(root)
        let elapsed = clock.now - start
        guard fetched == object else { throw BlockError.storeFailed("the benchmark fetched \(fetched.count) bytes that differ from the \(bytes) put") }
        await client.closeConnections()
        return Transfer(bytes: bytes, providers: max(1, providers), blocks: (bytes + Block.maxSize - 1) / Block.maxSize,
                        seconds: P2PBenchmark.seconds(elapsed))
    }
}
