import Foundation
import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurP2P

/// Kademlia interop with py-libp2p 0.8.1's `libp2p.kad_dht` (scripts/reference/libp2p_kad_peer.py)
/// on 127.0.0.1. Fails (never skips) when the reference venv is missing; a failure prints the
/// peer's output.
@Suite(.serialized) struct KademliaInteropTests {
    static func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

    static func startPeer(_ arguments: [String]) throws -> ReferencePeer {
        let script = repositoryRoot.appendingPathComponent("scripts/reference/libp2p_kad_peer.py").path
        return try ReferencePeer.start(executable: URL(fileURLWithPath: try PythonReference.python()), [script] + arguments)
    }

    /// Waits (up to `seconds`) for a line starting with `prefix`, off the cooperative pool.
    static func line(_ peer: ReferencePeer, _ prefix: String, seconds: Double = 60) async throws -> String {
        let clock = ContinuousClock()
        let end = clock.now + .seconds(seconds)
        while clock.now < end {
            if let l = peer.lines().first(where: { $0.hasPrefix(prefix) }) { return String(l.dropFirst(prefix.count)) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PythonReference.Failure(description: "the kad peer printed no '\(prefix)' line within \(seconds) s")
    }

    /// (a) py puts a value and a provider record, we find both; (b) we put and provide, py finds
    /// them; FIND_NODE both ways: py finds a Swift node it never connected to, we ask py for one.
    @Test(.timeLimit(.minutes(3))) func bothDirections() async throws {
        let (nodes, listeners) = try await KademliaNetworkTests.nodes(3, seed: 31, timeout: .seconds(10))
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])
        let pyKey = "/murmur/interop/py"
        let swiftKey = "/murmur/interop/swift"
        let pyCID = CID.raw(Array("provided by python".utf8)).multihash.bytes
        let swiftCID = CID.raw(Array("provided by swift".utf8)).multihash.bytes
        try await b.bootstrap(peers: a.host.addresses)
        let peer = try Self.startPeer([
            "--bootstrap", a.host.addresses[0].description,
            "--put", pyKey, "from python", "--provide", Self.hex(pyCID),
            "--get", swiftKey, "--find-providers", Self.hex(swiftCID), "--find-peer", b.host.peerID.description,
            "--timeout", "90", "--linger", "120",
        ])
        defer { peer.stop() }
        do {
            let pyID = try PeerID(parsing: try await Self.line(peer, "PEER "))
            let pyAddr = try Multiaddr(try await Self.line(peer, "ADDR "))
            #expect(try await Self.line(peer, "PUT ") == "ok")
            #expect(try await Self.line(peer, "PROVIDED ") == "ok")

            // (a) c knows only py; it finds py's value and provider record through the DHT.
            try await withDeadline(seconds: 60, "we find what py put") {
                try await c.bootstrap(peers: [pyAddr])
                #expect(try await c.getValue(Array(pyKey.utf8)) == Array("from python".utf8))
                let providers = try await c.findProviders(pyCID, count: 5)
                #expect(providers.map(\.0).contains(pyID))
                #expect(providers.first { $0.0 == pyID }?.1.contains(pyAddr.withoutPeer) == true)
                // FIND_NODE to py for a's id: py names a with its address.
                let reply = try await KademliaRPC.exchange(
                    host: c.host, peer: pyID, KademliaMessage(type: .findNode, key: a.host.peerID.multihash.bytes),
                    expectResponse: true, timeout: .seconds(10))
                let entry = reply?.closerPeers.first { $0.peerID == a.host.peerID }
                #expect(entry?.multiaddrs.contains(a.host.addresses[0].withoutPeer) == true)
                #expect(try await c.findPeer(b.host.peerID).contains(b.host.addresses[0].withoutPeer))
            }

            // (b) a puts and provides; py finds them (and b, which it never dialed).
            try await withDeadline(seconds: 60, "py finds what we put") {
                #expect(try await a.putValue(Array(swiftKey.utf8), Array("from swift".utf8)) >= 1)
                #expect(try await a.provideCount(swiftCID) >= 1)
                #expect(try await Self.line(peer, "GOT ") == "from swift")
                #expect(try await Self.line(peer, "PROVIDERS ").split(separator: ",").contains { $0 == a.host.peerID.description })
                let found = try await Self.line(peer, "FOUND_PEER ")
                #expect(found.contains(b.host.addresses[0].withoutPeer.description))
                _ = try await Self.line(peer, "DONE")
            }
        } catch {
            Issue.record("Kademlia interop failed: \(error)\n\(peer.logs())")
        }
        await KademliaNetworkTests.shutDown(nodes, listeners)
    }
}
