import MurmurCore
import NIOCore
import NIOPosix
import Testing

@testable import MurmurP2P

/// Two `P2PHost`s over real loopback TCP: ping, identify, echo, timeouts, peer pinning.
@Suite struct HostTests {
    static func listener(_ configure: (inout P2PHost.Configuration) -> Void = { _ in }) async throws -> (P2PHost, any Channel) {
        var config = P2PHost.Configuration()
        config.handlers[EchoProtocol.id] = EchoProtocol.serve
        configure(&config)
        let host = P2PHost(identity: Identity(), configuration: config)
        let channel = try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        return (host, channel)
    }

    @Test(.timeLimit(.minutes(1))) func pingIdentifyEchoBetweenTwoHosts() async throws {
        let (server, channel) = try await Self.listener()
        defer { channel.close(promise: nil) }
        let addr = try #require(server.addresses.first)
        #expect(addr.peerID == server.peerID)
        let client = P2PHost(identity: Identity())
        let conn = try await withDeadline(seconds: 30, "dial") { try await client.dial(addr) }
        #expect(conn.remotePeer == server.peerID)
        #expect(try await PingProtocol.ping(conn, count: 3).count == 3)
        try await conn.muxerPing()
        let ident = try await IdentifyProtocol.identify(conn)
        #expect(ident.agentVersion == "murmur/0.1")
        #expect(ident.protocols.contains(EchoProtocol.id) && ident.protocols.contains(PingProtocol.id))
        #expect(ident.listenAddrs.compactMap { try? Multiaddr(bytes: $0) }.contains(Multiaddr(Array(addr.components.dropLast()))))
        let payloads = (0..<20).map { i in (0..<(i * 40_000)).map { UInt8(truncatingIfNeeded: $0 &* (i + 1)) } }
        let echoed = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (i, p) in payloads.enumerated() { group.addTask { (i, try await EchoProtocol.echo(conn, p)) } }
            var out = [[UInt8]](repeating: [], count: payloads.count)
            for try await (i, b) in group { out[i] = b }
            return out
        }
        #expect(echoed == payloads)
        await do_close(conn)
    }

    func do_close(_ conn: P2PConnection) async {
        await conn.close()
        await conn.waitClosed()
    }

    @Test(.timeLimit(.minutes(1))) func dialingTheWrongPeerIDFails() async throws {
        let (server, channel) = try await Self.listener()
        defer { channel.close(promise: nil) }
        let addr = try #require(server.addresses.first).with(peer: Identity().peerID)
        await #expect(throws: P2PError.self) { try await P2PHost(identity: Identity()).dial(addr) }
    }

    @Test(.timeLimit(.minutes(1))) func aSilentPeerHitsTheHandshakeTimeout() async throws {
        // A plain TCP server that accepts and never answers.
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        var config = P2PHost.Configuration()
        config.handshakeTimeout = .milliseconds(300)
        let client = P2PHost(identity: Identity(), configuration: config)
        let port = try #require(silent.localAddress?.port)
        await #expect(throws: P2PError.self) { try await client.dial(try Multiaddr("/ip4/127.0.0.1/tcp/\(port)")) }
    }

    @Test(.timeLimit(.minutes(1))) func unsupportedProtocolFailsTheStreamNotTheConnection() async throws {
        let (server, channel) = try await Self.listener()
        defer { channel.close(promise: nil) }
        let conn = try await P2PHost(identity: Identity()).dial(try #require(server.addresses.first))
        await #expect(throws: P2PError.self) { try await conn.openStream(["/not/served"]) }
        #expect(try await EchoProtocol.echo(conn, [1, 2, 3]) == [1, 2, 3])
        await do_close(conn)
    }

    /// Opened by the test once the writer has been seen stalled.
    actor Gate {
        private var isOpen = false
        private var waiters: [CheckedContinuation<Void, Never>] = []
        func wait() async {
            if isOpen { return }
            await withCheckedContinuation { waiters.append($0) }
        }
        func open() {
            isOpen = true
            waiters.forEach { $0.resume() }
            waiters = []
        }
    }

    @Test(.timeLimit(.minutes(1))) func aReaderThatDoesNotReadStallsTheWriterAtTheWindow() async throws {
        let gate = Gate()
        let (server, channel) = try await Self.listener { config in
            config.handlers["/stall"] = { stream in
                await gate.wait()
                _ = try await stream.readToEnd(limit: 4 << 20)
                try await stream.closeWrite()
            }
        }
        defer { channel.close(promise: nil) }
        let conn = try await P2PHost(identity: Identity()).dial(try #require(server.addresses.first))
        let stream = try await conn.openStream(["/stall"])
        let size = 2 << 20
        let writer = Task { try await stream.write([UInt8](repeating: 1, count: size)) }
        try await Task.sleep(for: .milliseconds(500))
        let framed = try await conn.eventLoop.submit { conn.framedTotal(stream.id) }.get()
        // Only the peer's initial window left our yamux; the rest waits in the stream's queue.
        #expect(framed == UInt64(YamuxSession.initialWindow))
        await gate.open()
        try await writer.value
        try await stream.closeWrite()
        #expect(try await stream.readToEnd(limit: 0).isEmpty)
        await do_close(conn)
    }
}
