import Foundation
import Hummingbird
import Logging
import MurmurLog
import NIOCore
import ServiceLifecycle

/// The log's HTTP API as Hummingbird routes: `GET /checkpoint`, `GET /tile/<L>/<N>[.p/<W>]`,
/// `GET /tile/entries/<N>[.p/<W>]` (c2sp.org/tlog-tiles) and `POST /add-checkpoint` (c2sp.org/tlog-witness).
/// Every malformed request is a 4xx with a one-line reason; corrupt storage is a 500 and its bytes are never sent.
public enum LogRoutes {
    /// The largest `add-checkpoint` body accepted (63 proof lines and a note with many cosignatures fit easily).
    public static let maxBodyBytes = 64 * 1024

    /// `Cache-Control` for tiles and entry bundles: immutable once served (tlog-tiles: "long-lived").
    public static let immutableCache = "public, max-age=31536000, immutable"
    /// `Cache-Control` for the checkpoint: mutable, so not cached beyond a couple of seconds.
    public static let checkpointCache = "no-cache, max-age=2"

    /// A router serving `log` (read API) and/or `witness` (add-checkpoint); either may be nil.
    public static func router(log: LogResources?, witness: WitnessService?) -> Router<BasicRequestContext> {
        let router = Router()
        if let log {
            router.get("/checkpoint") { _, _ in await checkpoint(log) }
            router.get("/tile/**") { request, _ in await tile(log, path: request.uri.path) }
        }
        if let witness {
            router.post("/add-checkpoint") { request, _ in await addCheckpoint(witness, request: request) }
        }
        return router
    }

    static func checkpoint(_ log: LogResources) async -> Response {
        do {
            let note = try await log.checkpoint()
            return respond(.ok, Array(note.utf8), type: "text/plain; charset=utf-8", cache: checkpointCache)
        } catch {
            return failure(error)
        }
    }

    static func tile(_ log: LogResources, path: String) async -> Response {
        do {
            let id = try TileID(path: path.dropFirst())  // path starts with "/"
            let bytes = try await log.resource(id)
            return respond(.ok, bytes, type: "application/octet-stream", cache: immutableCache)
        } catch {
            return failure(error)
        }
    }

    static func addCheckpoint(_ witness: WitnessService, request: Request) async -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            return text(.contentTooLarge, "add-checkpoint bodies are at most \(maxBodyBytes) bytes")
        }
        let now = UInt64(max(0, Date().timeIntervalSince1970))
        let r = await witness.addCheckpoint(body: Array(buffer: body), now: now)
        return respond(HTTPResponse.Status(code: r.status), Array(r.body.utf8), type: r.contentType, cache: "no-store")
    }

    /// Maps library errors to statuses: malformed → 400, absent → 404, corrupt or backend → 500.
    static func failure(_ error: any Error) -> Response {
        switch error {
        case let e as TileError: return text(.badRequest, "\(e)")
        case LogStoreError.notFound(let m): return text(.notFound, "not found: \(m)")
        case let e as LogStoreError: return text(.internalServerError, "\(e)")
        default: return text(.internalServerError, "\(error)")
        }
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        respond(status, Array((message + "\n").utf8), type: "text/plain; charset=utf-8", cache: "no-store")
    }

    static func respond(_ status: HTTPResponse.Status, _ bytes: [UInt8], type: String, cache: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = cache
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

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

/// Parses `HOST:PORT`, `:PORT` or `PORT` (host defaults to 127.0.0.1) for `--listen`.
public func parseListenAddress(_ s: String) -> (host: String, port: Int)? {
    let parts = s.split(separator: ":", omittingEmptySubsequences: false)
    switch parts.count {
    case 1: return Int(parts[0]).flatMap { (0...65535).contains($0) ? ("127.0.0.1", $0) : nil }
    case 2:
        guard let p = Int(parts[1]), (0...65535).contains(p) else { return nil }
        return (parts[0].isEmpty ? "127.0.0.1" : String(parts[0]), p)
    default: return nil
    }
}
