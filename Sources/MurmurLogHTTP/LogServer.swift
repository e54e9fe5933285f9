import Foundation
import Hummingbird
import Logging
import MurmurLog
import ServiceLifecycle

/// Runs log and witness routes on an address until cancelled or, with `untilSignal`, SIGINT/SIGTERM.
public enum LogServer {
    /// Serves `router` on `host:port` (port 0 picks a free port); `onRunning` gets the bound port once listening.
    public static func run(
        router: Router<BasicRequestContext>, host: String, port: Int, untilSignal: Bool,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) async throws {
        try await run(responder: router.buildResponder(), host: host, port: port, untilSignal: untilSignal, onRunning: onRunning)
    }

    static func application(
        responder: RouterResponder<BasicRequestContext>, host: String, port: Int,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) -> Application<RouterResponder<BasicRequestContext>> {
        var logger = Logger(label: "murmur.log.http")
        logger.logLevel = .warning
        return Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "murmur"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    static func run(
        responder: RouterResponder<BasicRequestContext>, host: String, port: Int, untilSignal: Bool,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let app = application(responder: responder, host: host, port: port, onRunning: onRunning)
        if untilSignal {
            try await app.runService()
        } else {
            try await app.run()
        }
    }

    /// Starts `router` on 127.0.0.1 with a free port, runs `body` with its base URL, then shuts the server
    /// down gracefully (stop accepting, close idle connections, wait for in-flight requests).
    public static func withServer<T: Sendable>(
        router: Router<BasicRequestContext>, _ body: @Sendable (URL) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = application(responder: router.buildResponder(), host: "127.0.0.1", port: 0) { continuation.yield($0) }
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: app.logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var it = ports.makeAsyncIterator()
            guard let port = await it.next(), let url = URL(string: "http://127.0.0.1:\(port)") else {
                await group.triggerGracefulShutdown()
                throw LogStoreError.backend("the HTTP server did not start")
            }
            let result: Result<T, any Error>
            do { result = .success(try await body(url)) } catch { result = .failure(error) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }
}

extension LogServer {
    /// Parses `HOST:PORT`, `:PORT` or `PORT` (host defaults to 127.0.0.1), the form of `--listen`; nil if malformed.
    public static func listenAddress(_ s: String) -> (host: String, port: Int)? {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return Int(parts[0]).flatMap { (0...65535).contains($0) ? ("127.0.0.1", $0) : nil }
        case 2:
            guard let p = Int(parts[1]), (0...65535).contains(p) else { return nil }
            return (parts[0].isEmpty ? "127.0.0.1" : String(parts[0]), p)
        default: return nil
        }
    }
}
