import Foundation
import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurP2P

/// `murmur p2p listen --topic` + `p2p sub` + `p2p pub` as a user runs them, on loopback.
@Suite(.serialized) struct GossipsubCLITests {
    /// Waits up to 30 s for `text` in the process's logs (stdout and stderr).
    static func waitForLog(_ p: ReferencePeer, _ text: String) async throws {
        for _ in 0..<300 {
            if p.logs().contains(text) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PythonReference.Failure(description: "no '\(text)' in the logs\n\(p.logs())")
    }

    @Test(.timeLimit(.minutes(2))) func listenSubPub() async throws {
        let listener = try ReferencePeer.start(executable: murmurBinary, ["p2p", "listen", "--topic", "news", "--heartbeat", "0.5"])
        defer { listener.stop() }
        let addr = await "/ip4/127.0.0.1/tcp/" + (try listener.waitForLine(prefix: "/ip4/127.0.0.1/tcp/"))
        let listenerID = try #require(try Multiaddr(addr).peerID)
        let sub = try ReferencePeer.start(executable: murmurBinary, ["p2p", "sub", "--peer", addr, "news", "--count", "2", "--heartbeat", "0.5"])
        defer { sub.stop() }
        let json = try ReferencePeer.start(executable: murmurBinary, ["p2p", "sub", "--peer", addr, "news", "--count", "2", "--json", "--heartbeat", "0.5"])
        defer { json.stop() }
        do {
            try await Self.waitForLog(sub, "joined the mesh of news via \(listenerID)")
            try await Self.waitForLog(json, "joined the mesh of news via \(listenerID)")
            let key = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-pub-\(UUID().uuidString).key").path
            defer { try? FileManager.default.removeItem(atPath: key) }
            let pub = try await runProcessAsync(murmurBinary, ["p2p", "pub", "--peer", addr, "--key", key, "news", "hello murmur"])
            #expect(pub.status == 0, "\(pub.stderr)")
            #expect(pub.stdout.hasPrefix("published seqno="), "\(pub.stdout)")
            let pub2 = try await runProcessAsync(murmurBinary, ["p2p", "pub", "--peer", addr, "--key", key, "news", "second"])
            #expect(pub2.status == 0, "\(pub2.stderr)")
            let publisher = try await runProcessAsync(murmurBinary, ["p2p", "id", "--key", key]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

            _ = try await sub.waitForLine(prefix: "second")
            #expect(sub.lines() == ["hello murmur", "second"])
            _ = try await json.waitForLine(prefix: "{\"data\":\"second\"")
            let first = try #require(json.lines().first)
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
            #expect(obj["data"] as? String == "hello murmur")
            #expect(obj["hex"] as? String == Array("hello murmur".utf8).map { String(format: "%02x", $0) }.joined())
            #expect(obj["from"] as? String == publisher)
            #expect(obj["topic"] as? String == "news")
            #expect(obj["seqno"] is NSNumber)
            let logged = try await listener.waitForLine(prefix: "pubsub topic=news from=\(publisher) ")
            #expect(logged.hasSuffix(" data=hello murmur"))
            // --count 2: both subscribers exit by themselves, successfully.
            #expect(sub.interrupt() == 0)
            #expect(json.interrupt() == 0)
            #expect(listener.interrupt() == 0)
        } catch {
            Issue.record("\(error)\nlisten:\n\(listener.logs())\nsub:\n\(sub.logs())\nsub --json:\n\(json.logs())")
        }
    }

    @Test func pubToNobodyFailsWithAReason() async throws {
        let r = try await runProcessAsync(murmurBinary, ["p2p", "pub", "--peer", "/ip4/127.0.0.1/tcp/1", "--handshake-timeout", "2", "t", "x"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot reach /ip4/127.0.0.1/tcp/1"), "\(r.stderr)")
        let bad = try await runProcessAsync(murmurBinary, ["p2p", "sub", "--peer", "/ip4/1.2.3/tcp/1", "t"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("invalid multiaddr"))
    }
}
