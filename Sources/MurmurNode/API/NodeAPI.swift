import Foundation
import Hummingbird
import MurmurLog
import MurmurLogHTTP
import NIOCore

/// The node's HTTP API (docs/openapi.yaml): `/v1/*` JSON endpoints, `/metrics`, and the log's
/// c2sp.org/tlog-tiles read API (`/checkpoint`, `/tile/…`) from MurmurLogHTTP at the root, so a
/// `TileClient` pointed at the node's URL works unchanged.
/// Why: one responder counts every request (route template, method, status) for `/metrics`.
public enum NodeAPI {
    /// What the handlers use.
    public struct Services: Sendable {
        /// The node's parts.
        public let context: NodeContext
        /// The admin bearer token.
        public let adminToken: String
        let switchboard: ShutdownSwitch
        /// When the node started (for uptime).
        public let started: Date
        let models = ModelCache()
    }

    /// The node router (`/v1/*`, `/metrics`); the log routes live in MurmurLogHTTP's router.
    public static func router(_ s: Services) -> Router<BasicRequestContext> {
        let r = Router()
        r.get("/v1/status") { _, _ in await status(s) }
        r.get("/v1/peers") { _, _ in await peers(s) }
        r.get("/v1/rounds") { req, _ in await rounds(s, req) }
        r.get("/v1/models") { _, _ in await models(s) }
        r.get("/v1/models/:cid") { _, c in await model(s, cid: c.parameters.get("cid") ?? "") }
        r.get("/v1/models/:cid/weights") { _, c in await weights(s, cid: c.parameters.get("cid") ?? "") }
        r.get("/v1/ledger/state") { _, _ in await ledgerState(s) }
        r.get("/v1/evidence") { _, _ in await evidence(s) }
        r.get("/v1/spot-checks") { _, _ in await spotChecks(s) }
        r.post("/v1/infer") { req, _ in await infer(s, req) }
        r.post("/v1/verify") { req, _ in await verify(s, req) }
        r.post("/v1/admin/peers") { req, _ in await addPeer(s, req) }
        r.post("/v1/admin/cosign") { req, _ in await cosign(s, req) }
        r.post("/v1/admin/shutdown") { req, _ in await shutdown(s, req) }
        r.get("/metrics") { _, _ in await metrics(s) }
        let dashboard: @Sendable (Request, BasicRequestContext) async -> Response = { _, _ in
            raw(Dashboard.bytes, type: "text/html; charset=utf-8")
        }
        r.get("/", use: dashboard)
        r.get("/dashboard", use: dashboard)
        return r
    }

    /// The log's read API over the node log, and with the witness role the tlog-witness `POST /add-checkpoint`.
    public static func logRouter(_ s: Services) throws(NodeError) -> Router<BasicRequestContext> {
        let reader: TileLog
        do { reader = try TileLog(storage: SQLiteLogStorage(path: s.context.store.path)) } catch {
            throw .storage("opening the node log for reading: \(error)")
        }
        return LogRoutes.router(log: LogResources(log: reader), witness: s.context.witness)
    }

    /// Every route as `METHOD /path/{param}` (OpenAPI path templates), node and log routes together.
    public static func routeList(_ s: Services) throws(NodeError) -> [String] {
        let all = router(s).routes.map { "\($0.method) \($0.path)" } + (try logRouter(s)).routes.map { "\($0.method) \($0.path)" }
        return all.map(openAPIPath).sorted()
    }

    /// `/v1/models/:cid` → `/v1/models/{cid}`, `/tile/**` → `/tile/{path}`.
    static func openAPIPath(_ route: String) -> String {
        route.split(separator: "/", omittingEmptySubsequences: false).map { seg -> String in
            if seg.hasPrefix(":") { return "{\(seg.dropFirst())}" }
            if seg == "**" { return "{path}" }
            return String(seg)
        }.joined(separator: "/")
    }

    /// The node and log routers behind one responder that counts requests for `/metrics`.
    static func responder(_ s: Services) throws(NodeError) -> CountingResponder {
        let r = router(s)
        var methods = [String: [String]]()
        for route in r.routes where !route.path.description.contains(":") { methods[route.path.description, default: []].append(route.method.rawValue) }
        return CountingResponder(node: r.buildResponder(), log: try logRouter(s).buildResponder(), metrics: s.context.metrics, methods: methods)
    }

    /// Dispatches the tlog-tiles paths to the log router and everything else to the node router.
    struct CountingResponder: HTTPResponder {
        let node: RouterResponder<BasicRequestContext>
        let log: RouterResponder<BasicRequestContext>
        let metrics: NodeMetrics
        /// Methods by fixed path, to answer 405 (with `Allow`) instead of the router's 404 for a wrong method.
        let methods: [String: [String]]

        func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
            let path = request.uri.path
            let isLog = path == "/checkpoint" || path == "/add-checkpoint" || path.hasPrefix("/tile/")
            do {
                var response = try await (isLog ? log : node).respond(to: request, context: context)
                if response.status == .notFound, context.endpointPath == nil || context.endpointPath == "NotFound" {
                    // Unknown paths and methods answer in the API's JSON error shape.
                    if let allowed = methods[path] {
                        response = NodeAPI.problem(.methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed on \(path); use \(allowed.joined(separator: ", "))",
                                                   headers: [.allow: allowed.joined(separator: ", ")])
                    } else if !isLog {
                        response = NodeAPI.problem(.notFound, "not_found", "no route \(request.method) \(path); see docs/openapi.yaml")
                    }
                }
                metrics.countRequest(route: route(context, isLog: isLog, path: path), method: request.method.rawValue, status: response.status.code)
                return response
            } catch {
                let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
                metrics.countRequest(route: route(context, isLog: isLog, path: path), method: request.method.rawValue, status: status.code)
                // Unknown paths and methods answer in the API's JSON error shape.
                if status == .notFound { return NodeAPI.problem(.notFound, "not_found", "no route \(request.method) \(path); see docs/openapi.yaml") }
                if status == .methodNotAllowed { return NodeAPI.problem(.methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed on \(path)") }
                throw error
            }
        }

        func route(_ context: BasicRequestContext, isLog: Bool, path: String) -> String {
            if let p = context.endpointPath, p != "NotFound" { return NodeAPI.openAPIPath(p) }
            if isLog { return path.hasPrefix("/tile/") ? "/tile/{path}" : path }
            return "unmatched"
        }
    }

    // MARK: - JSON answers

    /// A JSON body from an `Encodable` value (snake_case keys come from the types' CodingKeys).
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return raw(Array(try enc.encode(value)), status: status) } catch {
            return NodeAPI.problem(.internalServerError, "encoding", "cannot encode the answer: \(error)")
        }
    }

    /// A JSON body from bytes that are already JSON.
    static func raw(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, type: String = "application/json") -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The API's error shape: `{"error": {"code": "...", "message": "..."}}`.
    static func problem(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers extra: HTTPFields = [:]) -> Response {
        var r = json(["error": ["code": code, "message": message]], status: status)
        for f in extra { r.headers.append(f) }
        return r
    }

    /// Reads a request body of at most `limit` bytes, or answers 413 (declared or actual size too large).
    static func body(_ request: Request, limit: Int) async -> Result<[UInt8], ResponseFailure> {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            return .failure(ResponseFailure(tooLarge(limit)))
        }
        do {
            return .success(Array(buffer: try await request.body.collect(upTo: limit)))
        } catch {
            return .failure(ResponseFailure(tooLarge(limit)))
        }
    }

    static func tooLarge(_ limit: Int) -> Response {
        problem(.contentTooLarge, "body_too_large", "request bodies are at most \(limit) bytes (max_body_bytes)")
    }

    /// Decodes a JSON body into `T`, or answers 400 naming the field and what was wrong.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) -> Result<T, ResponseFailure> {
        guard !bytes.isEmpty else { return .failure(ResponseFailure(problem(.badRequest, "empty_body", "send a JSON object (Content-Type: application/json)"))) }
        do { return .success(try JSONDecoder().decode(T.self, from: Data(bytes))) } catch let e as DecodingError {
            return .failure(ResponseFailure(problem(.badRequest, "invalid_json", describe(e))))
        } catch {
            return .failure(ResponseFailure(problem(.badRequest, "invalid_json", "\(error)")))
        }
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ p: [any CodingKey]) -> String {
            p.isEmpty ? "the body" : "'" + p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[") + "'"
        }
        switch e {
        case .keyNotFound(let k, let c): return "missing field '\((c.codingPath + [k]).map(\.stringValue).joined(separator: "."))'"
        case .typeMismatch(let t, let c): return "\(path(c.codingPath)) must be \(typeName(t))"
        case .valueNotFound(let t, let c): return "\(path(c.codingPath)) must be \(typeName(t)), got null"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Float.Type, is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: String(describing: t).hasPrefix("Array") ? "a list" : "an object"
        }
    }
}

/// A ready error answer carried through `Result`.
struct ResponseFailure: Error {
    let response: Response
    init(_ r: Response) { response = r }
}
