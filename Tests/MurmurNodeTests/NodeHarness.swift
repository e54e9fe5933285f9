import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import MurmurCore
import MurmurML
@testable import MurmurNode

/// Node events at warning and above only, so test output stays readable.
let quietLogger: Logger = {
    var l = Logger(label: "murmur.node.test")
    l.logLevel = .warning
    return l
}()

/// A fresh temporary folder, removed by the caller with `cleanup`.
func temporaryFolder(_ name: String = "node") -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-\(name)-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func cleanup(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

/// A small logistic-regression model (4 features, 3 classes, seeded) written as a model folder; returns its CID.
func writeTestModel(to folder: String, seed: UInt64 = 7) throws -> String {
    let net = try Network(config: ModelConfig(architecture: .logisticRegression, inputShape: [4], classCount: 3), seed: seed)
    return try ModelArtifact(network: net).write(to: URL(fileURLWithPath: folder)).description
}

/// A loopback node config in `dir` with free ports and a fixed admin token.
func testConfig(_ dir: String, models: [String] = [], bootstrap: [String] = []) -> NodeConfig {
    var c = NodeConfig()
    c.dataDir = dir + "/data"
    c.roles = [.client, .verifier]
    c.models = models
    c.bootstrap = bootstrap
    c.adminToken = "test-admin-token-0123456789"
    c.maxBodyBytes = 64 * 1024
    return c
}

/// An answer from the node.
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object (empty if it is not one).
    var object: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
}

/// One HTTP request with a 10 s timeout (URLSession in an unstructured task: cancelling its async API can hang on Linux).
func http(_ method: String, _ url: URL, json: Any? = nil, body: Data? = nil, token: String? = nil) async throws -> HTTPAnswer {
    var r = URLRequest(url: url, timeoutInterval: 10)
    r.httpMethod = method
    if let json {
        r.httpBody = try JSONSerialization.data(withJSONObject: json)
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    if let body { r.httpBody = body }
    if let token { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    let request = r
    let (data, response) = try await Task { try await URLSession.shared.data(for: request) }.value
    let h = response as? HTTPURLResponse
    var headers = [String: String]()
    for (k, v) in h?.allHeaderFields ?? [:] { headers[String(describing: k).lowercased()] = String(describing: v) }
    return HTTPAnswer(status: h?.statusCode ?? 0, headers: headers, body: data)
}

/// Fails with `what` after `seconds`.
struct Timeout: Error, CustomStringConvertible { var description: String }

func withDeadline<T: Sendable>(seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw Timeout(description: "\(what) took longer than \(seconds) s")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Runs `node` in a task, waits for it to listen, runs `body`, then shuts it down and waits (all within 60 s).
func withRunningNode<T: Sendable>(_ node: Node, _ body: @escaping @Sendable (NodeEndpoints) async throws -> T) async throws -> T {
    let runner = Task { try await node.run() }
    do {
        let endpoints = try await withDeadline(seconds: 60, "node start") { try await node.waitUntilStarted() }
        let result = try await withDeadline(seconds: 60, "test body") { try await body(endpoints) }
        await node.shutdown()
        try await withDeadline(seconds: 60, "node stop") { try await runner.value }
        return result
    } catch {
        await node.shutdown()
        _ = try? await withDeadline(seconds: 60, "node stop") { try await runner.value }
        throw error
    }
}

/// Polls `condition` every 50 ms for up to `seconds`; true once it holds.
func eventually(seconds: Double = 10, _ condition: @Sendable () async throws -> Bool) async rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
