import Foundation
import Testing

/// The robustness flags of `murmur simulate` and the `murmur robustness` command, end to end.
@Suite struct RobustCLITests {
    let cli = CLITests()

    @Test func badRobustnessFlagsAreRefusedWithTheFlagNamed() async throws {
        for (args, needle) in [
            (["simulate", "--attack", "alie"], "--malicious"),
            (["simulate", "--malicious", "0.2"], "--attack"),
            (["simulate", "--aggregator", "magic"], "magic"),
            (["simulate", "--attack", "alie", "--malicious", "1.2"], "--malicious"),
            (["robustness", "--attacks", "none,teleport"], "teleport"),
        ] {
            let r = try await cli.murmur(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr.contains(needle), "\(args): \(r.stderr)")
        }
    }

    @Test func robustnessWritesTableAndHeatMap() async throws {
        let dir = cli.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let md = dir.appendingPathComponent("r.md"), svg = dir.appendingPathComponent("r.svg")
        let r = try await cli.murmur(["robustness", "--rounds", "1", "--aggregators", "mean,median", "--attacks", "none,sign-flip",
                                "--out", md.path, "--svg", svg.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("[4/4]"))
        let text = try String(contentsOf: md, encoding: .utf8)
        #expect(text.contains("| median |") && text.contains("sign-flip"))
        #expect(try String(contentsOf: svg, encoding: .utf8).hasPrefix("<svg"))
    }

    @Test func jsonNamesTheAggregatorAndTheAttack() async throws {
        let r = try await cli.murmur(["simulate", "--clients", "10", "--rounds", "1", "--hidden", "8", "--json",
                                "--aggregator", "median", "--attack", "backdoor", "--malicious", "0.2"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(obj?["aggregator"] as? String == "median")
        #expect(obj?["attack"] as? String == "backdoor")
        #expect(obj?["malicious"] as? Double == 0.2)
        #expect(obj?["malicious_clients"] as? Int == 2)
        let success = try #require(obj?["backdoor_success"] as? Double)
        #expect(success >= 0 && success <= 1)
        // Without an attack only the aggregator is named.
        let clean = try await cli.murmur(["simulate", "--clients", "4", "--rounds", "1", "--hidden", "8", "--json"])
        let cleanObj = try JSONSerialization.jsonObject(with: Data(clean.stdout.utf8)) as? [String: Any]
        #expect(cleanObj?["aggregator"] as? String == "centered-clip")
        #expect(cleanObj?["attack"] == nil && cleanObj?["backdoor_success"] == nil)
    }
}
