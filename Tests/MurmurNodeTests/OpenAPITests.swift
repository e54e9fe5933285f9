import Foundation
import MurmurCore
import MurmurLog
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
    func python(_ code: String, _ args: [String] = []) async throws -> String {
        let r = try await runProcessAsync(URL(fileURLWithPath: try PythonReference.python()), ["-c", code, Self.spec] + args)
        guard r.status == 0 else { throw PythonReference.Failure(description: "python exited \(r.status): \(r.stderr)") }
        return r.stdout
    }

    /// "METHOD /path" for every operation in the spec, with each operation's documented statuses.
    func operations() async throws -> [String: Set<Int>] {
        let out = try await python("""
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
        let ops = try await operations()
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

    /// Checks each observed answer against the spec: status documented for the operation, content type
    /// documented for that status, JSON bodies valid under the response schema (jsonschema, Draft 2020-12,
    /// the dialect of OpenAPI 3.1). Returns the problems found.
    func validate(_ observed: [Observed]) async throws -> [String] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-observed-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONEncoder().encode(observed).write(to: file)
        let out = try await python("""
            import sys, json, yaml
            from jsonschema import Draft202012Validator
            spec = yaml.safe_load(open(sys.argv[1]))
            def resolve(o):
                while isinstance(o, dict) and "$ref" in o:
                    cur = spec
                    for part in o["$ref"][2:].split("/"):
                        cur = cur[part.replace("~1", "/").replace("~0", "~")]
                    o = cur
                return o
            problems = []
            for o in json.load(open(sys.argv[2])):
                method, path = o["op"].split(" ", 1)
                where = f"{o['op']} -> {o['status']}"
                resp = spec["paths"][path][method.lower()]["responses"].get(str(o["status"]))
                if resp is None:
                    problems.append(f"{where}: status not documented"); continue
                content = resolve(resp).get("content", {})
                ctype = o["type"].split(";")[0].strip()
                if ctype not in content:
                    problems.append(f"{where}: content type {ctype} not documented (has {sorted(content)})"); continue
                schema = content[ctype].get("schema")
                if ctype == "application/json" and schema is not None:
                    root = dict(spec); root.update(schema)
                    for e in Draft202012Validator(root).iter_errors(json.loads(o["body"])):
                        problems.append(f"{where}: {e.json_path}: {e.message}")
            print(json.dumps(problems))
            """, [file.path])
        return try JSONDecoder().decode([String].self, from: Data(out.utf8))
    }

    struct Observed: Codable, Sendable {
        var op: String, status: Int, type: String, body: String
    }

    @Test("the running server's answers match the spec: statuses, content types, JSON schemas")
    func answersMatchSpec() async throws {
        let ops = try await operations()
        let dir = temporaryFolder("openapi-live")
        defer { cleanup(dir) }
        let cid = try writeTestModel(to: dir + "/model")
        var config = testConfig(dir, models: [dir + "/model"])
        config.roles.append(.witness)
        let node = try Node(config: config, logger: quietLogger)
        let token = node.adminToken
        try node.context.recordRound(RoundSummary(round: 1, status: .completed, model: cid, participants: 2, accuracy: 0.5, epsilon: 1.5, finishedAt: 1))
        try node.context.store.rememberPeer("12D3KooWExample", addresses: ["/ip4/127.0.0.1/tcp/1"], source: "bootstrap")
        let fork = try TransparencyEvidenceTests.forkedCheckpoints(dir)
        let reporter = try Cosigner(name: "witness.test/openapi", seed: Array(repeating: 2, count: 32))
        try node.context.store.putEvidence(SplitViewEvidence(EquivocationEvidence.make(logKey: fork.key, first: fork.honest, second: fork.forked, proof: [], reporter: reporter)))
        var tally = SpotCheckTally(device: "12D3KooWExample")
        (tally.checked, tally.failed, tally.reasons, tally.reputation, tally.lastCheck) = (5, 1, ["output_mismatch"], -16, 1)
        try node.context.store.saveSpotCheck(tally)
        let observed: [Observed] = try await withRunningNode(node) { e in
            let u = e.http
            var seen = [Observed]()
            func hit(_ op: String, _ method: String, _ path: String, json: Any? = nil, body: Data? = nil, token: String? = nil) async throws -> HTTPAnswer {
                let a = try await http(method, try #require(URL(string: u.absoluteString + "/" + path)), json: json, body: body, token: token)
                let type = a.headers["content-type"] ?? ""
                seen.append(Observed(op: op, status: a.status, type: type, body: type.hasPrefix("application/json") ? a.text : ""))
                return a
            }
            _ = try await hit("GET /v1/status", "GET", "v1/status")
            _ = try await hit("GET /v1/peers", "GET", "v1/peers")
            _ = try await hit("GET /v1/rounds", "GET", "v1/rounds")
            _ = try await hit("GET /v1/rounds", "GET", "v1/rounds?limit=x")
            _ = try await hit("GET /v1/models", "GET", "v1/models")
            _ = try await hit("GET /v1/models/{cid}", "GET", "v1/models/\(cid)")
            _ = try await hit("GET /v1/models/{cid}", "GET", "v1/models/bogus")
            _ = try await hit("GET /v1/models/{cid}", "GET", "v1/models/\(CID.raw([1]))")
            _ = try await hit("GET /v1/models/{cid}/weights", "GET", "v1/models/\(cid)/weights")
            _ = try await hit("GET /v1/ledger/state", "GET", "v1/ledger/state")
            _ = try await hit("GET /v1/evidence", "GET", "v1/evidence")
            _ = try await hit("GET /v1/spot-checks", "GET", "v1/spot-checks")
            let rows = [[1.0, 2, 3, 4]]
            let infer = try await hit("POST /v1/infer", "POST", "v1/infer", json: ["features": rows])
            let receipts = (infer.object["results"] as? [[String: Any]])?.compactMap { $0["receipt"] } ?? []
            _ = try await hit("POST /v1/infer", "POST", "v1/infer", json: ["features": [[1, 2]]])
            _ = try await hit("POST /v1/infer", "POST", "v1/infer", json: ["features": 3])
            _ = try await hit("POST /v1/infer", "POST", "v1/infer", body: Data(repeating: 0x20, count: 70_000))
            _ = try await hit("POST /v1/verify", "POST", "v1/verify", json: ["receipts": receipts, "features": rows])
            _ = try await hit("POST /v1/verify", "POST", "v1/verify", json: ["receipts": ["x"], "features": rows])
            _ = try await hit("POST /v1/verify", "POST", "v1/verify", json: ["receipts": []])
            _ = try await hit("POST /v1/admin/peers", "POST", "v1/admin/peers", json: ["address": "x"])
            _ = try await hit("POST /v1/admin/peers", "POST", "v1/admin/peers", json: ["address": "x"], token: "wrong-wrong-wrong-wrong")
            _ = try await hit("POST /v1/admin/peers", "POST", "v1/admin/peers", json: ["address": "x"], token: token)
            _ = try await hit("POST /v1/admin/cosign", "POST", "v1/admin/cosign", json: ["witness": "ftp://x", "key": "k"], token: token)
            _ = try await hit("POST /v1/admin/cosign", "POST", "v1/admin/cosign", json: ["witness": "http://x"])
            _ = try await hit("POST /add-checkpoint", "POST", "add-checkpoint", body: Data("old 0\n\nnot a checkpoint\n".utf8))
            _ = try await hit("GET /metrics", "GET", "metrics")
            _ = try await hit("GET /", "GET", "")
            _ = try await hit("GET /dashboard", "GET", "dashboard")
            _ = try await hit("GET /checkpoint", "GET", "checkpoint")
            _ = try await hit("GET /tile/{path}", "GET", "tile/0/x")
            _ = try await hit("POST /v1/admin/shutdown", "POST", "v1/admin/shutdown")
            _ = try await hit("POST /v1/admin/shutdown", "POST", "v1/admin/shutdown", token: token)
            return seen
        }
        #expect(Set(observed.map(\.op)) == Set(ops.keys), "every operation is exercised")
        #expect(observed.contains { $0.op == "POST /v1/verify" && $0.status == 200 && $0.body.contains("\"accepted\":1") })
        let problems = try await validate(observed)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        // The check itself can fail: an undocumented field type is caught.
        let bad = Observed(op: "GET /v1/status", status: 200, type: "application/json", body: "{\"peer_id\": 5}")
        await #expect(try validate([bad]).count >= 2)
    }
}
