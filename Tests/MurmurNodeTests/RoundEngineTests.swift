import Foundation
import MurmurP2P
import Testing
@testable import MurmurNode

/// A stand-in for the networked round engine: serves one protocol, records a round, then waits to be cancelled.
struct RecordingEngine: RoundEngine {
    static let proto = "/murmur/test-rounds/1"
    var protocolHandlers: [String: StreamHandler] { [Self.proto: { stream in try await stream.closeWrite() }] }

    func run(_ node: NodeContext) async throws {
        try node.recordRound(RoundSummary(round: 1, status: .running, participants: 2))
        try node.recordRound(RoundSummary(round: 1, status: .completed, model: "bafy-test", participants: 2, accuracy: 0.75,
                                         finishedAt: Int64(Date().timeIntervalSince1970)))
        try await Task.sleep(for: .seconds(3600))  // until the node cancels it at shutdown
    }
}

@Suite("Round engine plug-in", .timeLimit(.minutes(3)))
struct RoundEngineTests {
    @Test("the engine's protocols are served, its rounds show in /v1/rounds and /metrics, and it is cancelled at shutdown")
    func plugsIn() async throws {
        let dir = temporaryFolder("engine")
        defer { cleanup(dir) }
        let node = try Node(config: testConfig(dir), roundEngine: RecordingEngine(), logger: quietLogger)
        #expect(node.context.host.servedProtocols.contains(RecordingEngine.proto))
        // withRunningNode bounds the stop: it only returns if the engine's sleep was cancelled.
        try await withRunningNode(node) { e in
            let done = try await eventually {
                let r = try await http("GET", e.http.appending(path: "v1/rounds"))
                return (r.object["rounds"] as? [[String: Any]])?.first?["status"] as? String == "completed"
            }
            #expect(done)
            let rounds = try await http("GET", e.http.appending(path: "v1/rounds"))
            let first = try #require((rounds.object["rounds"] as? [[String: Any]])?.first)
            #expect(first["accuracy"] as? Double == 0.75 && first["model"] as? String == "bafy-test" && first["finished_at"] != nil)
            let metrics = try await http("GET", e.http.appending(path: "metrics"))
            #expect(metrics.text.contains("murmur_rounds_completed 1"))
        }
    }
}
