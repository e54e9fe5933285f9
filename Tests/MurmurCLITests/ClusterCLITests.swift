import Foundation
import MurmurTestSupport
import Testing

/// `murmur cluster`: real `murmur node` processes on loopback train the digits and end with the
/// model `murmur simulate` produces from the same settings (issue 11, items 2 and 3).
@Suite struct ClusterCLITests {
    @Test(.clusterSlots, .timeLimit(.minutes(4))) func aClusterOfNodeProcessesEndsWithTheSimulatedModel() async throws {
        let r = try await runProcessAsync(murmurBinary, ["cluster", "--nodes", "3", "--rounds", "2", "--seed", "7", "--json"])
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
        let sim = try await runProcessAsync(murmurBinary, ["simulate", "--clients", "3", "--rounds", "2", "--fraction", "1", "--seed", "7", "--out", out])
        #expect(sim.status == 0, "\(sim.stderr)")
        #expect(sim.stdout.contains("model:  \(model) "), "cluster model \(model), simulate printed: \(sim.stdout)")
        let accuracy = try #require(summary["accuracy"] as? Double)
        #expect(sim.stdout.contains(String(format: "test accuracy %.2f %%", 100 * accuracy)))
    }

    /// `--secagg --dp central` go to every node in federation.json: the clients add discrete
    /// Gaussian noise under SecAgg+, and the model is `murmur simulate`'s with the same switches.
    @Test(.clusterSlots, .timeLimit(.minutes(4))) func aSecureDPClusterEndsWithTheSimulatedModel() async throws {
        let privacy = ["--secagg", "--dp", "central", "--noise", "0.5"]
        let r = try await runProcessAsync(murmurBinary, ["cluster", "--nodes", "3", "--rounds", "2", "--seed", "7", "--json"] + privacy)
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        #expect(summary["secagg"] as? Bool == true && summary["dp"] as? String == "central")
        #expect((summary["epsilon"] as? Double ?? 0) > 0, "\(summary)")
        let model = try #require(summary["model"] as? String)
        // The aggregator's ledger closed both rounds on the final model.
        let ledger = try #require(summary["ledger"] as? [String: Any])
        #expect(ledger["round"] as? Int == 2 && ledger["model"] as? String == model, "\(ledger)")

        let out = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-cluster-sim-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let sim = try await runProcessAsync(
            murmurBinary, ["simulate", "--clients", "3", "--rounds", "2", "--fraction", "1", "--seed", "7", "--out", out] + privacy)
        #expect(sim.status == 0, "\(sim.stderr)")
        #expect(sim.stdout.contains("model:  \(model) "), "cluster model \(model), simulate printed: \(sim.stdout)")
    }

    /// Issue 11 item 6: 3 of 10 client processes (30 %) die by SIGKILL during round 2's SecAgg+
    /// (two before their masked input, one after it). The round completes by dropout recovery
    /// with the 8 inputs that arrived, round 3 runs with the 7 survivors, and the ledger pays
    /// exactly the clients whose inputs entered each sum.
    @Test(.clusterSlots, .timeLimit(.minutes(5))) func aSecureClusterSurvivesThirtyPercentOfItsClientsKilledMidRound() async throws {
        let r = try await runProcessAsync(murmurBinary, [
            "cluster", "--nodes", "10", "--rounds", "3", "--seed", "7", "--secagg", "--kill-clients", "0.3", "--kill-at-round", "2", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)\n\(r.stderr)")
        let killed = try #require(summary["killed"] as? [Int])
        #expect(killed.count == 3)
        let details = summary["round_details"] as? [String] ?? []
        #expect(details.count == 3, "\(details)")
        #expect(details.first?.contains("10 of 10 inputs in the sum") == true, "\(details)")
        // Killed before the masked input: out of the sum; killed after it: in the sum, its self-mask rebuilt.
        #expect(details.dropFirst().first?.contains("8 of 10 inputs in the sum; dropped") == true, "\(details)")
        for id in killed { #expect(details.dropFirst().first?.contains("client \(id) (") == true, "\(id): \(details)") }
        #expect(details.last?.hasPrefix("secagg: 7 of 7 inputs in the sum") == true, "\(details)")
        #expect(r.stderr.contains("fault injection: clients \(killed.map(String.init).joined(separator: ", "))"), "\(r.stderr)")
        // Genesis + per round: model version, one contribution per input in the sum, reward.
        let ledger = try #require(summary["ledger"] as? [String: Any])
        #expect(ledger["size"] as? Int == 1 + (1 + 10 + 1) + (1 + 8 + 1) + (1 + 7 + 1), "\(ledger)")
        #expect(ledger["round"] as? Int == 3 && ledger["model"] as? String == summary["model"] as? String)
        #expect((summary["accuracy"] as? Double ?? 0) > 0.3)
    }

    @Test func badArgumentsAreRefusedWithReasons() async throws {
        for (args, needle) in [
            (["--nodes", "1"], "--nodes"), (["--witnesses", "21"], "--witnesses"), (["--witnesses", "2", "--witness-quorum", "3"], "--witness-quorum"), (["--rounds", "0"], "--rounds"), (["--fraction", "0"], "--fraction"),
            (["--kill-clients", "1"], "--kill-clients"), (["--rounds", "2", "--kill-clients", "0.3", "--kill-at-round", "3"], "--kill-at-round"),
            (["--secagg-clip", "2"], "--secagg"), (["--noise", "1"], "--dp"), (["--secagg", "--scoring", "loo"], "--scoring"),
            (["--dp", "local", "--noise", "1"], "--dp local"),
        ] {
            let r = try await runProcessAsync(murmurBinary, ["cluster"] + args)
            #expect(r.status == 64, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(needle), "\(args): \(r.stderr)")
        }
    }

    @Test(.clusterSlots, .timeLimit(.minutes(3))) func benchClusterPrintsOneJSONObjectWithItsRatio() async throws {
        let r = try await runProcessAsync(murmurBinary, ["bench", "cluster", "--nodes", "3", "--rounds", "1", "--json"])
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
