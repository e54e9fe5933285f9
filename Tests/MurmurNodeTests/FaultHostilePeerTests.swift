import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurP2P
import MurmurTestSupport
import Testing

@testable import MurmurNode

#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 item 6: a peer sends garbage on every protocol the node serves, raw bytes before the
/// Noise handshake and after it; the node scores it down, disconnects and refuses it, and keeps
/// serving an honest peer (ping, the HTTP API, an FL fit request).
@Suite struct FaultHostilePeerTests {
    @Test(.timeLimit(.minutes(3))) func aPeerSendingGarbageIsDisconnectedAndTheNodeKeepsServing() async throws {
        let federation = {
            var c = RoundsLoopbackFederationTests.config()
            c.clients = 2
            return c
        }()
        let simulation = try Simulation(config: federation)
        let honest = P2PHost(identity: Identity())
        let engine = try FederationEngine(config: federation, role: .client(index: 0, aggregator: honest.peerID))
        let dir = temporaryFolder("fault-hostile")
        defer { cleanup(dir) }
        let node = try Node(config: testConfig(dir + "/node"), roundEngine: engine, logger: quietLogger)
        try await withRunningNode(node) { e in
            let address = try #require(e.p2p.first)
            let nodePeer = node.context.identity.peerID
            let port = try address.tcpEndpoint().port
            var rng = SeededRNG(seed: 0xBAD)
            func garbage(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }

            // Raw TCP garbage before any handshake: the node closes the connection and scores the
            // address (loopback is never refused: the honest local peers share it).
            let raw = garbage(70_000)
            #expect(try await offPool { try RawSocket(port: port).sendAndWaitClosed(raw) }, "the node kept a garbage connection open")

            // A hostile peer completes the handshake, then writes garbage on every protocol it serves.
            let hostile = P2PHost(identity: Identity())
            hostile.addAddresses([address], for: nodePeer)
            let served = node.context.host.servedProtocols
            #expect(served.contains(FLWire.protocolID))
            var passes = 0
            while !node.context.peerGuard.scores.isRefused(hostile.peerID.description), passes < 5 {
                passes += 1
                for proto in served {
                    guard let stream = try? await hostile.newStream(to: nodePeer, [proto]) else { continue }
                    try? await stream.write(garbage(1 + Int(rng.next() % 600)))
                    try? await stream.closeWrite()
                    _ = try? await withDeadline(seconds: 10, "\(proto) answer") { try await stream.readToEnd(limit: 1 << 20) }
                }
                // Meanwhile the honest peer is answered.
                #expect(try await PingProtocol.ping(try await honest.connect(address)).count == 1)
            }
            #expect(node.context.peerGuard.scores.isRefused(hostile.peerID.description), "still welcome after \(passes) passes")
            #expect(await eventually(seconds: 10) { !node.context.host.connectedPeers.contains(hostile.peerID) }, "the hostile peer is still connected")
            // Refused: a new connection is closed by the node right after the handshake.
            if let redial = try? await hostile.dial(address) {
                let closed = try? await withDeadline(seconds: 30, "closing a refused connection") { await redial.waitClosed(); return true }
                #expect(closed == true, "the node kept a refused peer's new connection")
            }

            // Another hostile identity: a correct handshake, then garbage in place of Noise frames.
            let other = Identity()
            let post = garbage(70_000)
            #expect(try await offPool { try RawSocket(port: port).handshakeThenSend(post, identity: other, expecting: nodePeer) })
            #expect(await eventually(seconds: 10) { node.context.peerGuard.scores.score(other.peerID.description) < -50 })

            // The honest peer is served throughout: ping, HTTP, an FL fit request.
            let conn = try await honest.connect(address)
            let rtts = try await PingProtocol.ping(conn, count: 2)
            #expect(rtts.count == 2)
            #expect(try await http("GET", e.http.appendingPathComponent("v1/status")).status == 200)
            let initial = try simulation.initialParameters()
            let transport = P2PTransport(host: honest, peers: [0: nodePeer], parameterCount: initial.count, deadline: .seconds(60))
            let fit = try await transport.fit(
                FitInstruction(round: 1, parameters: initial, plan: simulation.roundSettings.plan, seed: federation.seed), client: 0)
            #expect(fit.client == 0 && fit.delta.count == initial.count)
            #expect(node.context.peerGuard.scores.score(honest.peerID.description) == 0)

            // GET /v1/peers shows the scores.
            let peers = try await http("GET", e.http.appendingPathComponent("v1/peers")).object
            let scores = peers["scores"] as? [[String: Any]] ?? []
            let bad = try #require(scores.first { $0["peer"] as? String == hostile.peerID.description }, "\(peers)")
            #expect((bad["score"] as? Double ?? 0) < 0)
            #expect(bad["refused_until"] is Int)
            #expect((bad["offenses"] as? Int ?? 0) >= 2)
            let local = try #require(scores.first { $0["peer"] as? String == "ip4/127.0.0.1" }, "pre-handshake garbage not scored: \(scores)")
            #expect(local["refused_until"] == nil || local["refused_until"] is NSNull)
            let connected = peers["connected"] as? [[String: Any]] ?? []
            #expect(connected.first { $0["peer_id"] as? String == honest.peerID.description }?["score"] as? Double == 0)
            // Refusals are kept in node.sqlite for the next start.
            #expect(await eventually(seconds: 5) { (try? node.context.store.peerScores())?.contains { $0.peer == hostile.peerID.description } == true })
            for c in honest.connections(to: nodePeer) { await c.close() }
        }
    }
}

/// A blocking TCP client for byte-level fault injection; call only off the cooperative pool.
struct RawSocket {
    let fd: Int32

    struct Failure: Error, CustomStringConvertible { var description: String }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(fd); throw Failure(description: "connect: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes all of `bytes` (false if the peer closed first).
    func send(_ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    /// Up to 64 KiB, or nil at end of stream, on error or after the 10 s receive timeout.
    func receive() -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: 65_536)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buf[..<n]) : nil
    }

    /// True when the peer closed the connection (end of stream or reset) within the timeout.
    func waitClosed() -> Bool {
        var buf = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET || errno == EPIPE }
        }
    }

    /// Sends `garbage` as the first bytes of the connection; true once the node closed it.
    func sendAndWaitClosed(_ garbage: [UInt8]) -> Bool {
        defer { close(fd) }
        _ = send(garbage)
        return waitClosed()
    }

    /// Runs multistream + Noise + yamux as a dialer for `identity`, then sends `garbage` where Noise
    /// frames belong; true once the node closed the connection.
    func handshakeThenSend(_ garbage: [UInt8], identity: Identity, expecting peer: PeerID) throws -> Bool {
        defer { close(fd) }
        var machine = ConnectionMachine(isDialer: true, identity: identity, servedProtocols: [], expectedPeer: peer)
        var out = machine.start()
        var established = false
        while !established {
            guard send(out.send) else { throw Failure(description: "the node closed the connection during the handshake") }
            guard let bytes = receive() else { throw Failure(description: "no handshake answer") }
            out = try machine.receive(bytes)
            established = out.events.contains { if case .established = $0 { true } else { false } }
        }
        _ = send(out.send)
        _ = send(garbage)
        return waitClosed()
    }
}
