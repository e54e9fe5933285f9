import MurmurCore
import Testing

@testable import MurmurP2P

/// The server side's answers, driven directly (no socket: the host never listens or dials).
struct KademliaServerTests {
    static func node(peers: Int) async throws -> (Kademlia, [PeerID]) {
        var rng = SeededRNG(seed: 41)
        let node = Kademlia.makeHost(identity: Identity(deterministic: &rng))
        var ids: [PeerID] = []
        for i in 0..<peers {
            let p = Identity(deterministic: &rng).peerID
            node.host.addAddresses([try Multiaddr("/ip4/10.0.0.\(i + 1)/tcp/4001")], for: p)
            await node.add(p)
            ids.append(p)
        }
        return (node, ids)
    }

    @Test func findNodeAnswersTheKClosestWithAddresses() async throws {
        let (node, peers) = try await Self.node(peers: 30)
        let asker = peers[0]
        let key = Array("some key".utf8)
        let reply = try #require(try await node.handle(KademliaMessage(type: .findNode, key: key), from: asker))
        #expect(reply.type == .findNode && reply.key == key)
        let ids = reply.closerPeers.compactMap(\.peerID)
        #expect(ids.count == 20)
        #expect(!ids.contains(asker))  // the asker is never sent itself
        let expected = Array(peers.dropFirst()).sortedByDistance(to: KademliaKey(key)).prefix(20)
        #expect(ids == Array(expected))
        #expect(reply.closerPeers.allSatisfy { $0.multiaddrs.count == 1 && $0.connection == .canConnect })
    }

    @Test func findNodeForAKnownPeerPutsItFirst() async throws {
        let (node, peers) = try await Self.node(peers: 30)
        let target = peers[17]
        let reply = try #require(try await node.handle(KademliaMessage(type: .findNode, key: target.multihash.bytes), from: peers[0]))
        #expect(reply.closerPeers.first?.peerID == target)
        #expect(reply.closerPeers.filter { $0.peerID == target }.count == 1)
        await #expect(throws: KademliaError.self) { try await node.handle(KademliaMessage(type: .findNode), from: peers[0]) }
    }

    @Test func providersOnlyAnnounceThemselves() async throws {
        let (node, peers) = try await Self.node(peers: 5)
        let key = CID.raw(Array("x".utf8)).multihash.bytes
        let addr = try Multiaddr("/ip4/192.168.1.9/tcp/7")
        let forged = KademliaPeer(peer: peers[2], addresses: [addr], connection: .connected)
        let honest = KademliaPeer(peer: peers[1], addresses: [addr], connection: .connected)
        let add = KademliaMessage(type: .addProvider, key: key, providerPeers: [forged, honest])
        #expect(try await node.handle(add, from: peers[1]) == nil)  // no response, as in go-libp2p
        let reply = try #require(try await node.handle(KademliaMessage(type: .getProviders, key: key), from: peers[3]))
        #expect(reply.providerPeers.compactMap(\.peerID) == [peers[1]])
        #expect(reply.providerPeers[0].multiaddrs == [addr])
        #expect(node.host.addresses(for: peers[1]).contains(addr))
        #expect(reply.closerPeers.count == 4)  // everyone but the asker
        let long = KademliaMessage(type: .addProvider, key: [UInt8](repeating: 1, count: 81), providerPeers: [honest])
        await #expect(throws: KademliaError.self) { try await node.handle(long, from: peers[1]) }
    }

    @Test func valuesAreValidatedAndEchoed() async throws {
        let (node, peers) = try await Self.node(peers: 3)
        let key = Array("/murmur/v".utf8)
        let put = KademliaMessage(type: .putValue, key: key, record: KademliaRecord(key: key, value: [4, 2]))
        let echo = try #require(try await node.handle(put, from: peers[0]))
        #expect(echo.type == .putValue && echo.key == key && echo.record?.value == [4, 2])
        #expect(echo.record?.timeReceived.isEmpty == false)  // stamped by the server
        let got = try #require(try await node.handle(KademliaMessage(type: .getValue, key: key), from: peers[1]))
        #expect(got.record?.value == [4, 2])
        #expect(got.closerPeers.count == 2)
        let missing = try #require(try await node.handle(KademliaMessage(type: .getValue, key: Array("/murmur/none".utf8)), from: peers[1]))
        #expect(missing.record == nil)
        // Record key ≠ message key, and a /pk/ value that is not the key's public key: refused.
        let mismatched = KademliaMessage(type: .putValue, key: key, record: KademliaRecord(key: Array("/murmur/w".utf8), value: [1]))
        await #expect(throws: KademliaError.self) { try await node.handle(mismatched, from: peers[0]) }
        let pkKey = Array("/pk/".utf8) + peers[0].multihash.bytes
        let badPK = KademliaMessage(type: .putValue, key: pkKey, record: KademliaRecord(key: pkKey, value: [1]))
        await #expect(throws: KademliaError.self) { try await node.handle(badPK, from: peers[0]) }
        #expect(try await node.handle(KademliaMessage(type: .ping), from: peers[0])?.type == .ping)
    }
}
