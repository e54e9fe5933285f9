import MurmurCore
import NIOCore
import Testing

@testable import MurmurP2P

/// Kademlia over real hosts on 127.0.0.1, in one process.
@Suite(.serialized) struct KademliaNetworkTests {
    /// `count` DHT nodes listening on loopback.
    static func nodes(_ count: Int, seed: UInt64, timeout: Duration = .seconds(10)) async throws -> ([Kademlia], [any Channel]) {
        var rng = SeededRNG(seed: seed)
        var config = Kademlia.Configuration()
        config.requestTimeout = timeout
        var out: [Kademlia] = []
        var listeners: [any Channel] = []
        for _ in 0..<count {
            let node = Kademlia.makeHost(identity: Identity(deterministic: &rng), configuration: config)
            listeners.append(try await node.host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0")))
            out.append(node)
        }
        return (out, listeners)
    }

    static func shutDown(_ nodes: [Kademlia], _ listeners: [any Channel]) async {
        for l in listeners { try? await l.close() }
        for n in nodes {
            for p in n.host.connectedPeers {
                for c in n.host.connections(to: p) { await c.close() }
            }
        }
    }

    /// Two nodes: every RPC kind end to end over Noise + yamux.
    @Test(.timeLimit(.minutes(2))) func twoNodesExchangeEveryRPC() async throws {
        let (nodes, listeners) = try await Self.nodes(2, seed: 21)
        let (a, b) = (nodes[0], nodes[1])
        do {
            try await withDeadline(seconds: 60, "two-node DHT") {
                let size = try await b.bootstrap(peers: a.host.addresses)
                #expect(size == 1)
                // a learns of b through identify on the new connection.
                for _ in 0..<400 where await a.routingTablePeers.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
                #expect(await a.routingTablePeers == [b.host.peerID])

                let key = Array("/murmur/test/two".utf8)
                #expect(try await b.putValue(key, Array("v1".utf8)) == 1)
                #expect(try await a.getValue(key) == Array("v1".utf8))
                // Latest wins: a newer put replaces the value at both nodes.
                try await a.putValue(key, Array("v2".utf8))
                #expect(try await b.getValue(key) == Array("v2".utf8))

                let cid = CID.raw(Array("block".utf8)).multihash.bytes
                #expect(try await a.provideCount(cid) == 1)
                let providers = try await b.findProviders(cid, count: 5)
                #expect(providers.map(\.0) == [a.host.peerID])
                #expect(providers.first?.1.isEmpty == false)
                #expect(try await b.findProviders(cid, limit: 1) == [a.host.peerID])
                #expect(try await a.findProviders(cid, count: 5).isEmpty)  // we are not our own provider

                #expect(try await b.findPeer(a.host.peerID) == a.host.addresses.map(\.withoutPeer))
                #expect(try await b.closestPeers(Array("anything".utf8)) == [a.host.peerID])
                await #expect(throws: KademliaError.self) { try await b.getValue(Array("/murmur/missing".utf8)) }
                // The validator runs before anything is sent.
                await #expect(throws: KademliaError.self) { try await b.putValue(Array("/pk/bogus".utf8), [1]) }
            }
        } catch {
            Issue.record("two-node DHT failed: \(error)")
        }
        await Self.shutDown(nodes, listeners)
    }

    /// A request the validator rejects resets the stream; the node keeps serving.
    @Test(.timeLimit(.minutes(3))) func invalidPutIsRejected() async throws {
        let (nodes, listeners) = try await Self.nodes(2, seed: 22)
        do {
            try await nodes[1].bootstrap(peers: nodes[0].host.addresses)
            let bad = KademliaMessage(type: .putValue, key: Array("/pk/x".utf8), record: KademliaRecord(key: Array("/pk/x".utf8), value: [1]))
            await #expect(throws: (any Error).self) {
                try await KademliaRPC.exchange(host: nodes[1].host, peer: nodes[0].host.peerID, bad, expectResponse: true, timeout: .seconds(5))
            }
            let ping = try await KademliaRPC.exchange(
                host: nodes[1].host, peer: nodes[0].host.peerID, KademliaMessage(type: .ping), expectResponse: true, timeout: .seconds(5))
            #expect(ping?.type == .ping)
        } catch {
            Issue.record("invalid put test failed: \(error)")
        }
        await Self.shutDown(nodes, listeners)
    }

    /// A client-only node (its host did not register the protocol) queries but stays out of routing tables (identify does
    /// not list the kad protocol); `republish` reaches a server that joined after the put.
    @Test(.timeLimit(.minutes(2))) func clientsStayOutAndRepublishReachesLateJoiners() async throws {
        let (nodes, listeners) = try await Self.nodes(2, seed: 24)
        let (a, late) = (nodes[0], nodes[1])
        let client = Kademlia(host: P2PHost(identity: Identity()))
        do {
            try await withDeadline(seconds: 60, "client and republish") {
                #expect(!client.isServer)
                try await client.bootstrap(peers: a.host.addresses)
                let key = Array("/murmur/test/client".utf8)
                #expect(try await client.putValue(key, Array("from a client".utf8)) == 1)
                #expect(try await a.getValue(key) == Array("from a client".utf8))
                // a ran identify on the client's connection by now (the put needed a's answers);
                // give its observer task a moment, then check the client was not added.
                try await Task.sleep(for: .milliseconds(300))
                #expect(await a.routingTablePeers.isEmpty)

                let cid = CID.raw(Array("late".utf8)).multihash.bytes
                try await a.provide(cid)  // a has no server peers yet: only the local record
                try await late.bootstrap(peers: a.host.addresses)
                #expect(try await late.findProviders(cid, limit: 1) == [a.host.peerID])
                let counts = try await a.republish()
                #expect(counts.providers == 1)
            }
        } catch {
            Issue.record("client/republish test failed: \(error)")
        }
        await Self.shutDown(nodes + [client], listeners)
    }

    /// 30 nodes, each bootstrapped from one or two earlier ones: a value put by one node and a
    /// provider record announced by another are found by every other node.
    @Test(.timeLimit(.minutes(3))) func thirtyNodeNetwork() async throws {
        let count = 30
        let (nodes, listeners) = try await Self.nodes(count, seed: 23)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await withDeadline(seconds: 90, "30-node DHT") {
                for i in 1..<count {
                    var seeds = nodes[i - 1].host.addresses
                    if i >= 3 { seeds += nodes[i / 2].host.addresses }
                    try await nodes[i].bootstrap(peers: seeds)
                }
                let key = Array("/murmur/test/thirty".utf8)
                let value = Array("found by all".utf8)
                try await nodes[7].putValue(key, value)
                let cid = CID.raw(Array("thirty-node block".utf8)).multihash.bytes
                try await nodes[13].provide(cid)
                let provider = nodes[13].host.peerID

                let results = try await withThrowingTaskGroup(of: (Int, [UInt8], [PeerID]).self) { group in
                    for (i, n) in nodes.enumerated() where i != 7 {
                        group.addTask {
                            let v = try await n.getValue(key)
                            let p = i == 13 ? [provider] : try await n.findProviders(cid, limit: 1)
                            return (i, v, p)
                        }
                    }
                    var out: [(Int, [UInt8], [PeerID])] = []
                    for try await r in group { out.append(r) }
                    return out
                }
                #expect(results.count == count - 1)
                for (i, v, p) in results {
                    #expect(v == value, "node \(i) got a different value")
                    #expect(p == [provider], "node \(i) found providers \(p)")
                }
                let sizes = await withTaskGroup(of: Int.self) { g in
                    for n in nodes { g.addTask { await n.routingTablePeers.count } }
                    return await g.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(sizes.allSatisfy { $0 >= 5 }, "routing table sizes \(sizes.sorted())")
            }
        } catch {
            Issue.record("30-node DHT failed: \(error)")
        }
        print("kad 30-node network: \(clock.now - start)")
        await Self.shutDown(nodes, listeners)
    }
}
