import Foundation
import Testing

/// `murmur privacy …` and `murmur simulate --dp …`, run as a process.
@Suite struct PrivacyCLITests {
    let cli = CLITests()

    func jsonObject(_ s: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any]
    }

    @Test func epsilonAndCalibrateRoundTrip() async throws {
        let base = ["--sampling-rate", "0.01", "--rounds", "1000", "--delta", "1e-5", "--json"]
        let cal = try await cli.murmur(["privacy", "calibrate", "--target-epsilon", "2"] + base)
        #expect(cal.status == 0, "\(cal.stderr)")
        let sigma = try #require(jsonObject(cal.stdout)?["noise_multiplier"] as? Double)
        let eps = try await cli.murmur(["privacy", "epsilon", "--noise-multiplier", String(sigma)] + base)
        #expect(eps.status == 0, "\(eps.stderr)")
        let e = try #require(jsonObject(eps.stdout)?["epsilon"] as? Double)
        #expect(e <= 2 && e > 1.99)
        let pld = try await cli.murmur(["privacy", "epsilon", "--noise-multiplier", String(sigma), "--accountant", "pld"] + base)
        #expect(try #require(jsonObject(pld.stdout)?["epsilon"] as? Double) < e)  // PLD is tighter than RDP
    }

    @Test func invalidValuesFailWithAClearMessage() async throws {
        let cases: [([String], String)] = [
            (["privacy", "epsilon", "--noise-multiplier", "0", "--sampling-rate", "0.1", "--rounds", "10", "--delta", "1e-5"], "--noise-multiplier"),
            (["privacy", "epsilon", "--noise-multiplier", "1", "--sampling-rate", "1.5", "--rounds", "10", "--delta", "1e-5"], "--sampling-rate"),
            (["privacy", "epsilon", "--noise-multiplier", "1", "--sampling-rate", "0.1", "--rounds", "10", "--delta", "1"], "--delta"),
            (["privacy", "calibrate", "--target-epsilon", "0.0001", "--sampling-rate", "1", "--rounds", "1000", "--delta", "1e-5"], "reaches"),
            (["simulate", "--dp", "central", "--rounds", "1"], "--noise"),
            (["simulate", "--dp", "local", "--clip", "adaptive", "--noise", "1", "--rounds", "1"], "adaptive"),
            (["simulate", "--dp", "central", "--clip", "-1", "--noise", "1", "--rounds", "1"], "--clip"),
        ]
        for (args, needle) in cases {
            let r = try await cli.murmur(args)
            #expect(r.status != 0, "\(args) should fail")
            #expect(r.stderr.contains(needle), "\(args): \(r.stderr)")
        }
    }

    @Test func simulateWithDPReportsEpsilon() async throws {
        let r = try await cli.murmur(["simulate", "--clients", "20", "--rounds", "2", "--hidden", "16", "--local-epochs", "1",
                                "--dp", "central", "--clip", "0.5", "--noise", "1.2", "--delta", "1e-5", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try #require(jsonObject(r.stdout))
        #expect((obj["delta"] as? Double) == 1e-5)
        let e = try #require(obj["epsilon"] as? Double)
        #expect(e > 0 && e.isFinite)
        #expect(r.stderr.contains("ε "))
        let history = try #require(obj["history"] as? [[String: Any]])
        #expect((history.last?["epsilon"] as? Double) == e)
    }
}
