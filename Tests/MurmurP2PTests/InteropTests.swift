import Foundation
import MurmurCore
import MurmurTestSupport
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import MurmurP2P

/// Interop with py-libp2p 0.8.1 (pinned in scripts/requirements-test.txt) on 127.0.0.1:
/// scripts/reference/libp2p_peer.py. Fails (never skips) when the reference venv is missing.
@Suite(.serialized) struct InteropTests {
    static let streams = 100
    static let maxSize = 1 << 20

    /// (a) We dial py-libp2p: Noise + yamux, ping, identify, 100 concurrent echo streams up to 1 MiB.
    @Test(.timeLimit(.minutes(3))) func weDialPyLibp2p() async throws {
        let peer = try ReferencePeer.start(["listen", "--timeout", "150"])
        defer { peer.stop() }
        do {
            let pyID = try await PeerID(parsing: try peer.waitForLine(prefix: "PEER "))
            let addr = try await Multiaddr(try peer.waitForLine(prefix: "ADDR "))
            #expect(addr.peerID == pyID)
            let host = P2PHost(identity: Identity())
            let conn = try await withDeadline(seconds: 20, "dial \(addr)") { try await host.dial(addr) }
            #expect(conn.remotePeer == pyID)

            let rtts = try await withDeadline(seconds: 20, "ping") { try await PingProtocol.ping(conn, count: 3) }
            #expect(rtts.count == 3)
            let ident = try await withDeadline(seconds: 20, "identify") { try await IdentifyProtocol.identify(conn) }
            #expect(ident.agentVersion?.hasPrefix("py-libp2p") == true)
            #expect(ident.protocols.contains(EchoProtocol.id))
            #expect(ident.publicKey.map { PeerID(publicKeyProtobuf: $0) } == pyID)
            // identify/push: py-libp2p parses ours and takes it into its peerstore.
            let listener = try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))  // pushes by itself
            defer { listener.close(promise: nil) }
            try await withDeadline(seconds: 20, "identify push") { try await IdentifyProtocol.push(conn) }
            let push = try await peer.waitForLine(prefix: "PUSH ")
            #expect(push.hasPrefix("from=\(host.peerID) agent=murmur/"), "\(push)")
            let ours = try #require(host.addresses.first.map { Multiaddr(Array($0.components.dropLast())) })
            #expect(push.contains(ours.description), "\(push)")

            var rng = SeededRNG(seed: 9)
            let payloads = Self.payloads(&rng)
            let echoed = try await withDeadline(seconds: 120, "echo on \(Self.streams) streams") {
                try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                    for (i, p) in payloads.enumerated() {
                        group.addTask { (i, try await EchoProtocol.echo(conn, p)) }
                    }
                    var out = [[UInt8]](repeating: [], count: payloads.count)
                    for try await (i, b) in group { out[i] = b }
                    return out
                }
            }
            #expect(echoed == payloads)
            // The peer logs the id it authenticated us as on each echo stream.
            #expect(peer.lines().contains("REMOTE \(host.peerID)"))
            await conn.close()
        } catch {
            Issue.record("interop (we dial) failed: \(error)\n\(peer.logs())")
        }
    }

    /// (b) py-libp2p dials us: same checks, driven by the Python side.
    @Test(.timeLimit(.minutes(3))) func pyLibp2pDialsUs() async throws {
        let seen = NIOLockedPeers()
        let inbound = NIOLockedValueBox<[P2PConnection]>([])
        var config = P2PHost.Configuration()
        config.handlers[EchoProtocol.id] = EchoProtocol.serve
        config.onInboundConnection = { conn in
            if let p = conn.remotePeer { seen.append(p) }
            inbound.withLockedValue { $0.append(conn) }
        }
        let host = P2PHost(identity: Identity(), configuration: config)
        let listener = try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        defer { listener.close(promise: nil) }
        let addr = try #require(host.addresses.first)
        let result = try await runReference(
            ["dial", addr.description, "--streams", "\(Self.streams)", "--max-size", "\(Self.maxSize)", "--timeout", "150"])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        guard result.status == 0 else {
            Issue.record("libp2p_peer.py dial exited \(result.status)\nstdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            return
        }
        let pyID = try PeerID(parsing: String(try #require(lines.first { $0.hasPrefix("PEER ") }).dropFirst(5)))
        #expect(lines.contains("REMOTE \(host.peerID)"))
        #expect(seen.all.contains(pyID))
        #expect(lines.filter { $0.hasPrefix("PING ") }.count == 3)
        let ident = try #require(lines.first { $0.hasPrefix("IDENTIFY ") })
        #expect(ident.contains("agent=murmur/"))
        #expect(ident.contains(EchoProtocol.id))
        #expect(lines.contains { $0.hasPrefix("ECHO streams=\(Self.streams) ") })
        // py-libp2p pushed its identify (push_identify_to_peer); our connection keeps it.
        #expect(lines.contains("PUSHED ok=True"))
        let info = inbound.withLockedValue { $0 }.first { $0.remotePeer == pyID }?.peerInfo
        #expect(info?.agentVersion?.hasPrefix("py-libp2p") == true, "\(String(describing: info))")
        #expect(info?.publicKey.map { PeerID(publicKeyProtobuf: $0) } == pyID)
    }

    /// Random payloads, one of exactly `maxSize`, the rest uniform in 0…maxSize.
    static func payloads(_ rng: inout SeededRNG) -> [[UInt8]] {
        (0..<streams).map { i in
            let n = i == 0 ? maxSize : Int(rng.next() % UInt64(maxSize + 1))
            var bytes = [UInt8](repeating: 0, count: n)
            var j = 0
            while j < n {
                let word = rng.next()
                for k in 0..<min(8, n - j) { bytes[j + k] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(k))) }
                j += 8
            }
            return bytes
        }
    }
}
