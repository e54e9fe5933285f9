import Foundation
import Testing

/// `murmur infer` then `murmur verify`, as a user runs them, including a tampered receipt.
@Suite struct InferVerifyCLITests {
    let cli = CLITests()

    @Test func inferThenVerify() async throws {
        let dir = cli.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("model").path
        await #expect(try cli.murmur(["simulate", "--clients", "5", "--rounds", "1", "--hidden", "8", "--out", model]).status == 0)
        let csv = dir.appendingPathComponent("in.csv")
        var rows = "header\n"
        for r in 0..<3 { rows += (0..<64).map { String(Double(($0 + r) % 17) / 16) }.joined(separator: ",") + "\n" }
        try rows.write(to: csv, atomically: true, encoding: .utf8)
        let receipts = dir.appendingPathComponent("r.jsonl").path
        let key = dir.appendingPathComponent("device.key").path
        let infer = try await cli.murmur(["infer", "--model", model, "--input", csv.path, "--receipts", receipts, "--key", key])
        #expect(infer.status == 0, "\(infer.stderr)")
        #expect(infer.stdout.split(separator: "\n").count == 3)
        let ok = try await cli.murmur(["verify", "--receipts", receipts, "--input", csv.path, "--model", model, "--json"])
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        #expect(ok.stdout.contains("\"rejected\":0"))

        // Tamper with the second receipt's timestamp: the signature no longer verifies.
        var lines = try String(contentsOfFile: receipts, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[1] = lines[1].replacingOccurrences(of: "\"timestamp\":", with: "\"timestamp\":1")
        try (lines.joined(separator: "\n") + "\n").write(toFile: receipts, atomically: true, encoding: .utf8)
        let bad = try await cli.murmur(["verify", "--receipts", receipts, "--input", csv.path, "--model", model])
        #expect(bad.status != 0)
        #expect(bad.stdout.contains("receipt 2: reject") && bad.stdout.contains("signature"))
    }

    @Test func badInputsAreClearErrors() async throws {
        let r = try await cli.murmur(["infer", "--model", "/no/such/model", "--input", "/no/such.csv"])
        #expect(r.status != 0 && r.stderr.contains("model"))
    }
}
