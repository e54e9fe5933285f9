import Foundation
import MurmurTestSupport
import Testing

/// `murmur cluster`: real `murmur node` processes on loopback train the digits and end with the
/// model `murmur simulate` produces from the same settings (issue 11, items 2 and 3).
@Suite struct ClusterCLITests {
    @Test(.timeLimit(.minutes(4))) func aClusterOfNodeProcessesEndsWithTheSimulatedModel() throws {
        let r = try runProcess(murmurBinary, ["cluster", "--nodes", "3", "--rounds", "2", "--seed", "7", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        #expect(summary["rounds"] as? Int == 2)
        #expect(summary["nodes"] as? Int == 4)
        let model = try #require(summary["model"] as? String)
        let checkpoint = try #require(summary["checkpoint"] as? String)
        #expect(checkpoint.hasPrefix("murmur.node/"), "\(checkpoint)")
        // Progress went to stderr, one line per round.
        #expect(r.stderr.contains("round   1/2") && r.stderr.contains("round   2/2"), "\(r.stderr)")

        let out = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-cluster-sim-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let sim = try runProcess(murmurBinary, ["simulate", "--clients", "3", "--rounds", "2", "--fraction", "1", "--seed", "7", "--out", out])
        #expect(sim.status == 0, "\(sim.stderr)")
        #expect(sim.stdout.contains("model:  \(model) "), "cluster model \(model), simulate printed: \(sim.stdout)")
        let accuracy = try #require(summary["accuracy"] as? Double)
        #expect(sim.stdout.contains(String(format: "test accuracy %.2f %%", 100 * accuracy)))
    }

    @Test func badArgumentsAreRefusedWithReasons() throws {
        for (args, needle) in [(["--nodes", "1"], "--nodes"), (["--witnesses", "21"], "--witnesses"), (["--witnesses", "2", "--witness-quorum", "3"], "--witness-quorum"), (["--rounds", "0"], "--rounds"), (["--fraction", "0"], "--fraction")] {
            let r = try runProcess(murmurBinary, ["cluster"] + args)
            #expect(r.status == 64, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(needle), "\(args): \(r.stderr)")
        }
    }

    @Test(.timeLimit(.minutes(3))) func benchClusterPrintsOneJSONObjectWithItsRatio() throws {
        let r = try runProcess(murmurBinary, ["bench", "cluster", "--nodes", "3", "--rounds", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        #expect(o["benchmark"] as? String == "cluster")
        for key in ["rounds_per_minute_3", "simulated_rounds_per_minute_3", "bytes_per_client_round_3", "ratio_vs_simulation_3"] {
            #expect((o[key] as? Double ?? 0) > 0, "\(key) in \(o)")
        }
        // A fit request and answer carry the model: at least 2 × 4 bytes per parameter per client.
        #expect((o["bytes_per_client_round_3"] as? Double ?? 0) > 8 * 9_000)
    }
}
