import Foundation
import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurP2P

/// `murmur p2p id|listen|ping` as a user runs them: the built binary, real loopback sockets.
@Suite(.serialized) struct CLITests {
    func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("murmur-p2p-\(UUID().uuidString)-\(name)").path
    }

    @Test func idIsStableForAKeyFile() async throws {
        let key = tempPath("node.key")
        defer { try? FileManager.default.removeItem(atPath: key) }
        let first = try await runProcessAsync(murmurBinary, ["p2p", "id", "--key", key])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try await runProcessAsync(murmurBinary, ["p2p", "id", "--key", key])
        #expect(second.stdout == first.stdout)
        let id = try PeerID(parsing: first.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let stored = try Identity(libp2pPrivateKey: Array(try Data(contentsOf: URL(fileURLWithPath: key))))
        #expect(stored.peerID == id)
        let attributes = try FileManager.default.attributesOfItem(atPath: key)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let json = try await runProcessAsync(murmurBinary, ["p2p", "id", "--key", key, "--json"])
        #expect(json.stdout.contains("\"cid\":\"\(id.cidString)\""))
    }

    @Test func corruptKeyFileIsRefused() async throws {
        let key = tempPath("bad.key")
        defer { try? FileManager.default.removeItem(atPath: key) }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: key))
        let r = try await runProcessAsync(murmurBinary, ["p2p", "id", "--key", key])
        #expect(r.status != 0)
        #expect(r.stderr.contains("not a libp2p Ed25519 private key"))
    }

    @Test(.timeLimit(.minutes(3))) func listenThenPing() async throws {
        let listener = try ReferencePeer.start(executable: murmurBinary, ["p2p", "listen", "--listen", "/ip4/127.0.0.1/tcp/0"])
        defer { listener.stop() }
        let addr = try await Multiaddr(try listener.waitForLine(prefix: "/ip4/127.0.0.1/tcp/").withPrefix("/ip4/127.0.0.1/tcp/"))
        #expect(addr.peerID != nil)
        let ping = try await runProcessAsync(murmurBinary, ["p2p", "ping", addr.description, "--count", "2"])
        #expect(ping.status == 0, "\(ping.stderr)\n\(listener.logs())")
        #expect(ping.stdout.contains("connected to \(addr.peerID!)"))
        #expect(ping.stdout.split(separator: "\n").filter { $0.hasPrefix("pong from ") }.count == 2)
        #expect(listener.interrupt() == 0)
    }

    @Test func pingingNothingFailsWithAReason() async throws {
        let r = try await runProcessAsync(murmurBinary, ["p2p", "ping", "/ip4/127.0.0.1/tcp/1", "--handshake-timeout", "2"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot reach"))
        let bad = try await runProcessAsync(murmurBinary, ["p2p", "ping", "/ip4/1.2.3/tcp/1"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("invalid multiaddr"))
    }
}

extension String {
    fileprivate func withPrefix(_ p: String) -> String { p + self }
}
