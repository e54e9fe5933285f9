import Foundation
import MurmurCore
import Testing
@testable import MurmurNode

#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on 127.0.0.1 that never accepts: connections complete in the kernel and then hear nothing.
final class SilentListener {
    let fd: Int32
    let port: Int
    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw Timeout(description: "cannot listen on 127.0.0.1")
        }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
    }
    deinit { close(fd) }
}

/// Starting and stopping: clear failures when a port is taken, a prompt stop whatever the peers do.
@Suite("Node start and stop", .timeLimit(.minutes(2)))
struct NodeLifecycleTests {
    @Test("a port already in use fails the start with an error that names it")
    func portInUse() async throws {
        let dir = temporaryFolder("ports")
        defer { cleanup(dir) }
        let a = try Node(config: testConfig(dir + "/a"), logger: quietLogger)
        try await withRunningNode(a) { e in
            var http = testConfig(dir + "/b")
            http.httpPort = try #require(e.http.port)
            let b = try Node(config: http, logger: quietLogger)
            await #expect(throws: NodeError.self) { try await withDeadline(seconds: 20, "b run") { try await b.run() } }
            await #expect(throws: NodeError.self) { try await b.waitUntilStarted() }
            var p2p = testConfig(dir + "/c")
            p2p.listen = e.p2p[0].withoutPeer.description
            let c = try Node(config: p2p, logger: quietLogger)
            do {
                try await withDeadline(seconds: 20, "c run") { try await c.run() }
                Issue.record("c started on a port in use")
            } catch let error as NodeError {
                #expect(error.description.contains("cannot listen on \(p2p.listen)"), "\(error)")
            }
        }
    }

    @Test("a bootstrap peer that never answers the handshake does not hold up shutdown")
    func hangingDial() async throws {
        let dir = temporaryFolder("hang")
        defer { cleanup(dir) }
        let silent = try SilentListener()
        // A handshake timeout far beyond the stop deadline: a stop that waited for the dial would take
        // 120 s, a prompt one takes milliseconds; 40 s leaves room for a CI machine running 40 processes.
        let node = try Node(config: testConfig(dir, bootstrap: ["/ip4/127.0.0.1/tcp/\(silent.port)/p2p/\(Identity().peerID)"]),
                            roundEngine: nil, logger: quietLogger, handshakeTimeout: .seconds(120))
        let runner = Task { try await node.run() }
        _ = try await withDeadline(seconds: 20, "start") { try await node.waitUntilStarted() }
        await node.shutdown()
        try await withDeadline(seconds: 40, "stop with a hanging dial") { try await runner.value }
        withExtendedLifetime(silent) {}
    }
}
