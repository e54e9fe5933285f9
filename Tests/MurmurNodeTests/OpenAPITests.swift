import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurNode

/// docs/openapi.yaml is a valid OpenAPI 3.1 document (openapi-spec-validator, pinned in
/// scripts/requirements-test.txt), lists exactly the router's routes, and documents every status
/// the running server answers with.
@Suite("OpenAPI description", .timeLimit(.minutes(2)))
struct OpenAPITests {
    static let spec = repositoryRoot.appendingPathComponent("docs/openapi.yaml").path

    /// Runs Python on `code` with the spec path as argv[1]; returns stdout.
    func python(_ code: String, _ args: [String] = []) throws -> String {
        let r = try runProcess(URL(fileURLWithPath: try PythonReference.python()), ["-c", code, Self.spec] + args)
        guard r.status == 0 else { throw PythonReference.Failure(description: "python exited \(r.status): \(r.stderr)") }
        return r.stdout
    }

    /// "METHOD /path" for every operation in the spec, with each operation's documented statuses.
    func operations() throws -> [String: Set<Int>] {
        let out = try python("""
            import sys, json, yaml
            from openapi_spec_validator import validate
            spec = yaml.safe_load(open(sys.argv[1]))
            validate(spec)
            ops = {}
            for path, item in spec["paths"].items():
                for method, op in item.items():
                    if method in ("get", "post", "put", "delete", "patch"):
                        ops[method.upper() + " " + path] = sorted(int(s) for s in op["responses"])
            print(json.dumps(ops))
            """)
        let decoded = try JSONDecoder().decode([String: [Int]].self, from: Data(out.utf8))
        return decoded.mapValues(Set.init)
    }

    @Test("the spec validates and lists exactly the router's routes")
    func routesMatch() async throws {
        let ops = try operations()
        let dir = temporaryFolder("openapi")
        defer { cleanup(dir) }
        var config = testConfig(dir)
        config.roles.append(.witness)  // serves POST /add-checkpoint
        let node = try Node(config: config, logger: quietLogger)
        let services = NodeAPI.Services(context: node.context, adminToken: node.adminToken, switchboard: ShutdownSwitch(), started: Date())
        let routes = try NodeAPI.routeList(services)
        #expect(Set(routes) == Set(ops.keys), "router only: \(Set(routes).subtracting(ops.keys)); spec only: \(Set(ops.keys).subtracting(routes))")
        #expect(routes.count == Set(routes).count)
    }

    @Test("every status the running server answers with is documented for its route")
    func statusesDocumented() async throws {
        let ops = try operations()
        let dir = temporaryFolder("openapi-live")
        defer { cleanup(dir) }
        let cid = try writeTestModel(to: dir + "/model")
        var config = testConfig(dir, models: [dir + "/model"])
        config.roles.append(.witness)
        let node = try Node(config: config, logger: quietLogger)
        let token = node.adminToken
        let observed: [(String, Int)] = try await withRunningNode(node) { e in
            let u = e.http
            var seen = [(String, Int)]()
            func hit(_ op: String, _ method: String, _ path: String, json: Any? = nil, body: Data? = nil, token: String? = nil) async throws {
                seen.append((op, try await http(method, u.appending(path: path), json: json, body: body, token: token).status))
            }
            try await hit("GET /v1/status", "GET", "v1/status")
            try await hit("GET /v1/peers", "GET", "v1/peers")
            try await hit("GET /v1/rounds", "GET", "v1/rounds")
            try await hit("GET /v1/models", "GET", "v1/models")
            try await hit("GET /v1/models/{cid}", "GET", "v1/models/\(cid)")
            try await hit("GET /v1/models/{cid}", "GET", "v1/models/bogus")
            try await hit("GET /v1/models/{cid}/weights", "GET", "v1/models/\(cid)/weights")
            try await hit("GET /v1/ledger/state", "GET", "v1/ledger/state")
            try await hit("POST /v1/infer", "POST", "v1/infer", json: ["features": [[1, 2, 3, 4]]])
            try await hit("POST /v1/infer", "POST", "v1/infer", json: ["features": [[1, 2]]])
            try await hit("POST /v1/infer", "POST", "v1/infer", body: Data(repeating: 0x20, count: 70_000))
            try await hit("POST /v1/verify", "POST", "v1/verify", json: ["receipts": ["x"], "features": [[1, 2, 3, 4]]])
            try await hit("POST /v1/verify", "POST", "v1/verify", json: ["receipts": []])
            try await hit("POST /v1/admin/peers", "POST", "v1/admin/peers", json: ["address": "x"])
            try await hit("POST /v1/admin/peers", "POST", "v1/admin/peers", json: ["address": "x"], token: "wrong-wrong-wrong-wrong")
            try await hit("POST /v1/admin/peers", "POST", "v1/admin/peers", json: ["address": "x"], token: token)
            try await hit("POST /v1/admin/cosign", "POST", "v1/admin/cosign", json: ["witness": "ftp://x", "key": "k"], token: token)
            try await hit("POST /v1/admin/cosign", "POST", "v1/admin/cosign", json: ["witness": "http://x"])
            try await hit("POST /add-checkpoint", "POST", "add-checkpoint", body: Data("old 0\n\nnot a checkpoint\n".utf8))
            try await hit("GET /metrics", "GET", "metrics")
            try await hit("GET /checkpoint", "GET", "checkpoint")
            try await hit("GET /tile/{path}", "GET", "tile/0/x")
            try await hit("POST /v1/admin/shutdown", "POST", "v1/admin/shutdown")
            return seen
        }
        for (op, status) in observed {
            #expect(ops[op]?.contains(status) == true, "\(op) answered \(status), which docs/openapi.yaml does not list")
        }
        #expect(Set(observed.map(\.0)) == Set(ops.keys), "every operation is exercised")
    }
}
