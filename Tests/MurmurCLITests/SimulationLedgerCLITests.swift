import Foundation
import Testing

/// `murmur simulate --ledger DIR` end to end: the rounds land in a ledger that `murmur ledger`
/// verifies, whose current model is the model the run wrote.
@Suite struct SimulationLedgerCLITests {
    let cli = CLITests()

    @Test func simulateWritesAVerifiableLedger() async throws {
        let dir = cli.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = dir.appendingPathComponent("ledger").path, out = dir.appendingPathComponent("out").path
        let r = try await cli.murmur(["simulate", "--clients", "12", "--rounds", "3", "--hidden", "8", "--json",
                                "--ledger", ledger, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let l = try #require(obj["ledger"] as? [String: Any])
        // genesis + 3 rounds × (model-version + contributions + reward)
        let records = try #require(l["records"] as? Int)
        #expect(records > 1 + 3 * 2)
        #expect(l["model"] as? String == obj["model_cid"] as? String, "the last model-version record names the written model")
        #expect((l["credits_paid"] as? Int ?? 0) > 0)
        let digest = try #require(l["state_digest"] as? String)

        let v = try await cli.murmur(["ledger", "verify", ledger])
        #expect(v.status == 0, "\(v.stderr)")
        #expect(v.stdout.contains(digest), "replay gives the digest the run reported: \(v.stdout)")
        let s = try await cli.murmur(["ledger", "state", ledger, "--json"])
        #expect(s.status == 0 && s.stdout.contains(obj["model_cid"] as? String ?? "?"))

        // Same seed, new directory: the same records, so the same state digest.
        let again = dir.appendingPathComponent("again").path
        let r2 = try await cli.murmur(["simulate", "--clients", "12", "--rounds", "3", "--hidden", "8", "--json", "--ledger", again])
        let obj2 = try JSONSerialization.jsonObject(with: Data(r2.stdout.utf8)) as? [String: Any]
        #expect((obj2?["ledger"] as? [String: Any])?["state_digest"] as? String == digest)

        // An existing ledger is never overwritten.
        let clash = try await cli.murmur(["simulate", "--clients", "12", "--rounds", "1", "--ledger", ledger])
        #expect(clash.status != 0 && clash.stderr.contains("not empty"), "\(clash.stderr)")
    }
}
