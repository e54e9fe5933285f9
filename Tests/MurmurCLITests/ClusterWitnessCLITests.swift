import Foundation
import MurmurTestSupport
import Testing

/// `murmur cluster --witnesses W` (issue 11, item 3): W witness node processes cosign every model
/// version's checkpoint; clients accept only quorum-cosigned models; the summary's checkpoint carries
/// the cosignatures and the model still equals `murmur simulate`'s.
@Suite(.clusterSlots) struct ClusterWitnessCLITests {
    @Test(.timeLimit(.minutes(4))) func witnessesCosignTheClusterCheckpointAndTheModelMatchesTheSimulation() async throws {
        let r = try await runProcessAsync(murmurBinary, ["cluster", "--nodes", "3", "--witnesses", "2", "--rounds", "2", "--seed", "7", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        #expect(summary["witnesses"] as? Int == 2)
        #expect(summary["witness_quorum"] as? Int == 2)
        #expect(summary["cosignatures"] as? Int == 2)
        #expect(summary["nodes"] as? Int == 6)
        let checkpoint = try #require(summary["checkpoint"] as? String)
        #expect(checkpoint.components(separatedBy: "— murmur.witness/").count == 3, "\(checkpoint)")
        #expect(r.stderr.contains("2 witness node(s) up"), "\(r.stderr)")

        let model = try #require(summary["model"] as? String)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-cluster-wsim-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let sim = try await runProcessAsync(murmurBinary, ["simulate", "--clients", "3", "--rounds", "2", "--fraction", "1", "--seed", "7", "--out", out])
        #expect(sim.status == 0, "\(sim.stderr)")
        #expect(sim.stdout.contains("model:  \(model) "), "cluster model \(model), simulate printed: \(sim.stdout)")
    }
}
