import Foundation
import Hummingbird
import MurmurLog
import NIOCore

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
