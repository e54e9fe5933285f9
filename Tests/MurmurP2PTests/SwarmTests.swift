import Glibc
import MurmurCore
import NIOConcurrencyHelpers
import Testing

@testable import MurmurP2P

/// The host's connection table: reuse by peer id, the address book, connect/disconnect events.
@Suite struct SwarmTests {
    @Test(.timeLimit(.minutes(3))) func connectionsAreTrackedReusedAndReported() async throws {
        let (server, channel) = try await HostTests.listener()
        defer { channel.close(promise: nil) }
        let addr = try #require(server.addresses.first)
        let client = P2PHost(identity: Identity())
        let events = NIOLockedValueBox<[String]>([])
        client.observeConnections { e in
            switch e {
            case .connected(let p, _): events.withLockedValue { $0.append("+\(p)") }
            case .disconnected(let p, _, let remaining): events.withLockedValue { $0.append("-\(p):\(remaining)") }
            }
        }
        // No connection and no address: a typed error, not a hang.
        await #expect(throws: P2PError.noAddress(server.peerID.description)) { try await client.connect(to: server.peerID) }

        let first = try await withDeadline(seconds: 30, "connect") { try await client.connect(addr) }
        #expect(client.connectedPeers == [server.peerID])
        #expect(client.addresses(for: server.peerID) == [addr.withoutPeer])
        // A second connect by address or by id reuses the live connection.
        #expect(try await client.connect(addr) === first)
        #expect(try await client.connect(to: server.peerID) === first)
        // The server sees the inbound connection under the client's id.
        for _ in 0..<100 where server.connectedPeers.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.connectedPeers == [client.peerID])
        let stream = try await client.newStream(to: server.peerID, [EchoProtocol.id])
        try await stream.write([1, 2, 3])
        try await stream.closeWrite()
        #expect(try await stream.readToEnd(limit: 16) == [1, 2, 3])

        await first.close()
        await first.waitClosed()
        for _ in 0..<100 where client.connectionCount > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(client.connectionCount == 0)
        #expect(events.withLockedValue { $0 } == ["+\(server.peerID)", "-\(server.peerID):0"])
        // Once closed, connect(to:) dials the remembered address again.
        let second = try await withDeadline(seconds: 30, "redial") { try await client.connect(to: server.peerID) }
        #expect(second !== first && second.remotePeer == server.peerID)
        await second.close()
    }
}

/// Many connections at once: 1,000 authenticated connections to one listener on loopback stay
/// up together and each still answers (issue 9, item 5).
@Suite struct ManyConnectionsTests {
    @Test(.timeLimit(.minutes(4))) func aThousandConcurrentConnectionsHold() async throws {
        let (server, channel) = try await HostTests.listener()
        defer { channel.close(promise: nil) }
        let addr = try #require(server.addresses.first)
        let client = P2PHost(identity: Identity())
        let total = 1000
        // Both ends live in this process: 2,000 sockets. Raise the soft descriptor limit
        // (often 1,024 by default) up to the hard one.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 4096 {
            limit.rlim_cur = min(4096, limit.rlim_max)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        try #require(limit.rlim_cur >= 2 * UInt(total) + 100, "need \(2 * total + 100) file descriptors, the hard limit is \(limit.rlim_max)")
        var conns: [P2PConnection] = []
        // Dialed 50 at a time (the handshakes are the cost), then all held open together.
        for batch in stride(from: 0, to: total, by: 50) {
            let dialed = try await withThrowingTaskGroup(of: P2PConnection.self) { group in
                for _ in batch..<min(total, batch + 50) { group.addTask { try await client.dial(addr) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            conns += dialed
        }
        #expect(client.connectionCount == total)
        for _ in 0..<200 where server.connectionCount < total { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.connectionCount == total)
        // Every connection is alive: a yamux ping on each, all in flight at once.
        let all = conns
        try await withDeadline(seconds: 60, "1,000 pings") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for c in all { group.addTask { try await c.muxerPing() } }
                try await group.waitForAll()
            }
        }
        // And streams still open on a sample of them.
        for c in conns.prefix(20) { #expect(try await EchoProtocol.echo(c, [7, 7, 7]) == [7, 7, 7]) }
        for c in conns { await c.close() }
        for _ in 0..<250 where server.connectionCount > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.connectionCount == 0)
    }
}
