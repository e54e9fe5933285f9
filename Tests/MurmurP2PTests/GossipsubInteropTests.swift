import Foundation
import MurmurCore
import MurmurTestSupport
import NIOCore
import Testing

@testable import MurmurP2P

/// Gossipsub interop with py-libp2p 0.8.1 (GossipSub /meshsub/1.1.0, heartbeat 1 s, strict
/// signing) through scripts/reference/libp2p_pubsub_peer.py. Fails (never skips) without the venv.
@Suite(.serialized) struct GossipsubInteropTests {
    static let topic = "murmur-interop"

    static func script() -> String { repositoryRoot.appendingPathComponent("scripts/reference/libp2p_pubsub_peer.py").path }

    static func host() throws -> (P2PHost, Gossipsub) {
        var config = P2PHost.Configuration()
        Gossipsub.register(in: &config)
        let host = P2PHost(identity: Identity(), configuration: config)
        var parameters = GossipsubParameters()
        parameters.heartbeatInterval = 0.5
        return (host, try Gossipsub(host: host, parameters: parameters))
    }

    /// The first message on `stream` with data `expected`, within `seconds`.
    static func next(_ stream: AsyncStream<PubsubMessage>, _ expected: String, seconds: Double) async throws -> PubsubMessage {
        try await withDeadline(seconds: seconds, "receiving '\(expected)'") {
            for await m in stream where m.data == Array(expected.utf8) { return m }
            throw P2PError.closed("the subscription ended before '\(expected)' arrived")
        }
    }

    /// (a) py-libp2p listens and we dial: it receives our signed message and replies; it also
    /// publishes on its own once we are in its mesh.
    @Test(.timeLimit(.minutes(2))) func weDialPyLibp2pGossipsub() async throws {
        try await Self.weDial(router: "gossipsub")
    }

    /// (a) against py-libp2p's FloodSub: we negotiate /floodsub/1.0.0 and exchange messages
    /// without a mesh.
    @Test(.timeLimit(.minutes(2))) func weDialPyLibp2pFloodsub() async throws {
        try await Self.weDial(router: "floodsub")
    }

    static func weDial(router: String) async throws {
        let peer = try ReferencePeer.start(
            executable: URL(fileURLWithPath: try PythonReference.python()),
            [Self.script(), "listen", "--router", router, "--topic", Self.topic, "--publish", "hello from py", "--reply", "py:", "--count", "1", "--timeout", "90"])
        defer { peer.stop() }
        let (host, pubsub) = try Self.host()
        defer { pubsub.close() }
        do {
            let pyID = try await PeerID(parsing: try peer.waitForLine(prefix: "PEER "))
            let addr = try await Multiaddr(try peer.waitForLine(prefix: "ADDR "))
            let messages = pubsub.subscribe(Self.topic)
            let conn = try await withDeadline(seconds: 20, "dial \(addr)") { try await host.connect(addr) }
            #expect(conn.remotePeer == pyID)
            if router == "gossipsub" {
                try await GossipsubNetworkTests.waitFor("py-libp2p in our mesh", seconds: 30) { pubsub.meshPeers(Self.topic).contains(pyID) }
            } else {
                try await GossipsubNetworkTests.waitFor("py-libp2p's subscription", seconds: 30) { pubsub.topicPeers(Self.topic).contains(pyID) }
            }
            // py publishes once it has us (mesh or subscription): we get its signed message.
            let fromPy = try await Self.next(messages, "hello from py", seconds: 30)
            #expect(fromPy.from == pyID)
            #expect(fromPy.sequenceNumber != nil)
            // We publish: py verifies our signature, prints it, and replies.
            let sent = try pubsub.publish(Self.topic, Array("hello from murmur".utf8))
            let reply = try await Self.next(messages, "py:hello from murmur", seconds: 30)
            #expect(reply.from == pyID)
            let line = try await peer.waitForLine(prefix: "RECV ")
            #expect(line == "from=\(host.peerID) seqno=\(sent.seqno.map { String(format: "%02x", $0) }.joined()) topic=\(Self.topic) data=hello from murmur")
            #expect(pubsub.stats.invalidSignatures == 0)
            #expect(pubsub.peerScore(pyID) >= 0)
            if router == "floodsub" { #expect(pubsub.meshPeers(Self.topic).isEmpty) }
            await conn.close()
        } catch {
            Issue.record("\(router) interop (we dial) failed: \(error)\n\(peer.logs())")
        }
    }

    /// (b) py-libp2p dials us: it publishes once meshed, we reply, it receives the reply and exits 0.
    @Test(.timeLimit(.minutes(2))) func pyLibp2pDialsOurGossipsub() async throws {
        let (host, pubsub) = try Self.host()
        defer { pubsub.close() }
        let listener = try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        defer { listener.close(promise: nil) }
        let addr = try #require(host.addresses.first)
        let messages = pubsub.subscribe(Self.topic)
        let replier = Task { () -> PubsubMessage? in
            for await m in messages where m.from != host.peerID {
                _ = try? pubsub.publish(Self.topic, Array("murmur:".utf8) + m.data)
                return m
            }
            return nil
        }
        defer { replier.cancel() }
        let python = try PythonReference.python()
        let result = try await runProcessAsync(URL(fileURLWithPath: python), [
            Self.script(), "dial", addr.description, "--topic", Self.topic, "--publish", "hello from py", "--count", "1", "--timeout", "60",
        ])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        guard result.status == 0 else {
            Issue.record("libp2p_pubsub_peer.py dial exited \(result.status)\nstdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            return
        }
        let pyID = try PeerID(parsing: String(try #require(lines.first { $0.hasPrefix("PEER ") }).dropFirst(5)))
        #expect(lines.contains("CONNECTED \(host.peerID)"))
        #expect(lines.contains("MESH \(host.peerID)"))
        let got = await replier.value
        #expect(got?.from == pyID)
        #expect(got?.data == Array("hello from py".utf8))
        let recv = try #require(lines.first { $0.hasPrefix("RECV ") }, "\(result.stdout)\n\(result.stderr)")
        #expect(recv.hasPrefix("RECV from=\(host.peerID) "))
        #expect(recv.hasSuffix(" topic=\(Self.topic) data=murmur:hello from py"))
    }
}
