import MurmurCore
import NIOCore
import Testing

@testable import MurmurP2P

/// Block exchange with the real DHT as its `ProviderRouting`: the provider is found through
/// Kademlia provider records, not a shared table (issue 9, item 4).
@Suite struct BlocksOverKademliaTests {
    @Test(.timeLimit(.minutes(2))) func anObjectIsFoundThroughTheDHTAndFetched() async throws {
        var rng = SeededRNG(seed: 0xB10C)
        var built: [(Kademlia, BlockExchange)] = []
        var listeners: [any Channel] = []
        for _ in 0..<4 {
            let store = MemoryBlockStore()
            var hostConfig = P2PHost.Configuration()
            hostConfig.handlers[BlockProtocol.id] = BlockProtocol.handler(store: store)
            let dht = Kademlia.makeHost(identity: Identity(deterministic: &rng), hostConfiguration: hostConfig)
            listeners.append(try await dht.host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0")))
            built.append((dht, BlockExchange(host: dht.host, store: store, routing: dht)))
        }
        let nodes = built
        defer { for l in listeners { l.close(promise: nil) } }
        // A chain: each node knows only the previous one.
        for i in 1..<nodes.count { _ = try await nodes[i].0.bootstrap(peers: nodes[i - 1].0.host.addresses) }
        let object = (0..<(5 << 20) + 123).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let root = try await withDeadline(seconds: 30, "put") { try await nodes[0].1.put(object) }
        // The last node never connected to the first: it learns the provider from the DHT.
        let fetched = try await withDeadline(seconds: 60, "fetch") { try await nodes[3].1.fetch(root) }
        #expect(fetched == object)
        #expect(try await nodes[3].0.findProviders(root.multihash.bytes, limit: 4).contains(nodes[0].0.host.peerID))
    }
}
