import Foundation
import Testing

/// `murmur verify --ledger DIR --key FILE`: a verifier records each device's outcome as
/// reputation and receipt-digest records, counting only receipts whose signature verified.
@Suite struct ReceiptLedgerCLITests {
    let cli = CLITests()

    func state(_ ledger: String) async throws -> [String: Any] {
        let r = try await cli.murmur(["ledger", "state", ledger, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return try #require(obj?["state"] as? [String: Any])
    }

    @Test func verifierRecordsReputationAndReceiptDigests() async throws {
        let dir = cli.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        #expect(try await cli.murmur(["simulate", "--clients", "5", "--rounds", "1", "--hidden", "8", "--out", path("model")]).status == 0)
        func csv(_ name: String, shift: Int) throws -> String {
            var rows = ""
            for r in 0..<3 { rows += (0..<64).map { String(Double(($0 + r + shift) % 17) / 16) }.joined(separator: ",") + "\n" }
            try rows.write(toFile: path(name), atomically: true, encoding: .utf8)
            return path(name)
        }
        let input = try csv("in.csv", shift: 0), other = try csv("other.csv", shift: 5)
        let ledger = path("ledger")
        #expect(try await cli.murmur(["ledger", "init", ledger, "--members", "2", "--verifier", path("verifier.key")]).status == 0)
        let infer = try await cli.murmur(["infer", "--model", path("model"), "--input", input, "--receipts", path("r.jsonl"), "--key", path("device.key")])
        #expect(infer.status == 0, "\(infer.stderr)")
        let device = try #require(infer.stderr.split(separator: "peer id ").last?.prefix { $0 != ")" }).description

        // Honest receipts: +1 each, and a digest of the three lines.
        let ok = try await cli.murmur(["verify", "--receipts", path("r.jsonl"), "--input", input, "--model", path("model"),
                                 "--ledger", ledger, "--key", path("verifier.key")])
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        var s = try await state(ledger)
        #expect((s["reputation"] as? [String: Int])?[device] == 3)
        #expect((s["receipts"] as? [String: Int])?[device] == 3)

        // Checked against other inputs, the same signed receipts fail (input_mismatch): −20 each.
        // A forged line (signature broken) is not held against the device it names.
        var lines = try String(contentsOfFile: path("r.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
        lines.append(lines[0].replacingOccurrences(of: "\"timestamp\":", with: "\"timestamp\":1"))
        try (lines.joined(separator: "\n") + "\n").write(toFile: path("r.jsonl"), atomically: true, encoding: .utf8)
        let bad = try await cli.murmur(["verify", "--receipts", path("r.jsonl"), "--input", other, "--model", path("model"),
                                  "--ledger", ledger, "--key", path("verifier.key")])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("3 checked, 3 failed (input_mismatch)"), "\(bad.stdout)")
        s = try await state(ledger)
        #expect((s["reputation"] as? [String: Int])?[device] == 3 + (0 - 20 * 3))
        #expect((s["receipts"] as? [String: Int])?[device] == 6)
        let history = try await cli.murmur(["ledger", "history", ledger])
        #expect(history.stdout.split(separator: "\n").count == 5, "genesis + 2 × (reputation, receipt-digest): \(history.stdout)")

        // Someone who is not a verifier of this ledger cannot record outcomes.
        let stranger = try await cli.murmur(["verify", "--receipts", path("r.jsonl"), "--input", input, "--model", path("model"),
                                       "--ledger", ledger, "--key", path("device.key")])
        #expect(stranger.status != 0 && stranger.stderr.contains("verifier"), "\(stranger.stderr)")
        #expect(try await cli.murmur(["verify", "--receipts", path("r.jsonl"), "--input", input, "--model", path("model"),
                                "--ledger", ledger]).stderr.contains("--key"))
    }
}
