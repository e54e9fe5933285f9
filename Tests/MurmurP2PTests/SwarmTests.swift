import MurmurCore
import NIOConcurrencyHelpers
import Testing

@testable import MurmurP2P

/// The host's connection table: reuse by peer id, the address book, connect/disconnect events.
@Suite struct SwarmTests {
    @Test(.timeLimit(.minutes(1))) func connectionsAreTrackedReusedAndReported() async throws {
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

        let first = try await withDeadline(seconds: 10, "connect") { try await client.connect(addr) }
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
        let second = try await withDeadline(seconds: 10, "redial") { try await client.connect(to: server.peerID) }
        #expect(second !== first && second.remotePeer == server.peerID)
        await second.close()
    }
}
