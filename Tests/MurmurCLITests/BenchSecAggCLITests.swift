import Foundation
import MurmurTestSupport
import Testing

/// `murmur bench secagg` against Flower: how a Flower round stopped by its CPU budget becomes a
/// lower bound (`ratio_vs_flower_at_least`), and how --flower-budget-ratio sets each budget.
/// Flower (flwr) is only in .venv-bench, not in the test venv, so the reference interpreter here
/// is a stand-in that prints the two shapes of scripts/reference/flower_secagg.py's output (an
/// over-budget round and a finished one, copied from real runs of the script) and records its
/// arguments.
@Suite struct BenchSecAggCLITests {
    /// Output of `flower_secagg.py --clients 20 --dimension 1000 --dropout 0.1 --shares 10
    /// --threshold 6 --budget 0.8` (flwr 1.42.0), and of the same without a budget.
    static let stopped = #"{"implementation": "flwr", "flwr_version": "1.42.0", "clients": 20, "dimension": 1000, "dropout": 0.1, "num_shares": 11, "threshold": 6, "skipped": "over budget", "budget_seconds": 0.8, "server_seconds_at_least": 0.4069782959999999, "client_seconds_so_far": 0.5891020500000002, "transport_seconds_so_far": 0.0, "elapsed_seconds": 0.9960803460000001, "wall_seconds": 39.09372599999915, "stage": 4, "stage_name": "unmask", "server_seconds_by_stage": [0.000976, 0.0, 0.004, 0.003915, 0.398087], "clock": "process CPU time"}"#
    static let finished = #"{"implementation": "flwr", "flwr_version": "1.42.0", "clients": 20, "dimension": 1000, "dropout": 0.1, "num_shares": 11, "threshold": 6, "server_seconds": 0.4994160360000007, "transport_seconds": 0.008578913999999604, "client_seconds_mean": 0.029989031199999995, "client_seconds_max": 0.03578819299999986, "total_seconds": 1.1077755740000002, "server_seconds_by_stage": [0.001749, 0.00275, 0.002461, 0.005742, 0.486714], "wall_seconds": 39.90047896399483, "clock": "process CPU time", "max_abs_error_vs_plain_mean": 0.0014695456612819069}"#

    /// A stand-in interpreter: the round without dropouts is stopped, the one with dropouts finishes.
    func fakePython(in dir: URL) throws -> URL {
        let script = """
            #!/bin/sh
            echo "$@" >> "\(dir.path)/calls.txt"
            case "$*" in
              *"--dropout 0.0 "*) echo '\(Self.stopped)' ;;
              *) echo '\(Self.finished)' ;;
            esac
            """
        let url = dir.appendingPathComponent("python")
        try script.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url
    }

    func run(_ extra: [String], json: Bool) async throws -> (out: ProcessOutput, calls: [String]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-bench-secagg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let python = try fakePython(in: dir)
        let args = ["bench", "secagg", "--clients", "8", "--dimensions", "64", "--dropouts", "0,25",
                    "--python", python.path] + extra + (json ? ["--json"] : [])
        let r = try await runProcessAsync(murmurBinary, args)
        let calls = (try? String(contentsOf: dir.appendingPathComponent("calls.txt"), encoding: .utf8)) ?? ""
        return (r, calls.split(separator: "\n").map(String.init))
    }

    @Test func stoppedFlowerRoundGivesALowerBoundAndRatioBudgetsRunEveryPoint() async throws {
        let (r, calls) = try await run(["--flower-budget", "0.001", "--flower-budget-ratio", "25"], json: true)
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        let rows = try #require(o["rounds"] as? [[String: Any]])
        try #require(rows.count == 2)
        #expect(calls.count == 2, "both points run although the first was stopped: \(calls)")

        let stopped = rows[0], ours = try #require(stopped["server_seconds"] as? Double)
        let bound = try #require(stopped["ratio_vs_flower_at_least"] as? Double, "\(stopped)")
        #expect(abs(bound - 0.4069782959999999 / ours) <= 1e-9 * bound)
        #expect(stopped["ratio_vs_flower"] == nil)
        let allowance = try #require(stopped["flower_client_allowance_seconds"] as? Double)
        let budget = try #require(stopped["flower_budget_seconds"] as? Double)
        #expect(allowance > 0)
        #expect(abs(budget - (25 * ours + allowance)) <= 1e-9 * budget)
        let passed = calls[0].components(separatedBy: "--budget ").last.flatMap { Double($0.split(separator: " ")[0]) }
        #expect(passed.map { abs($0 - budget) <= 1e-9 * budget } == true, "\(calls[0])")  // JSON rounds the last digit
        #expect((stopped["flower"] as? [String: Any])?["stage_name"] as? String == "unmask")

        let done = rows[1], ours1 = try #require(done["server_seconds"] as? Double)
        let ratio = try #require(done["ratio_vs_flower"] as? Double, "\(done)")
        #expect(abs(ratio - 0.4994160360000007 / ours1) <= 1e-9 * ratio)
        #expect(done["ratio_vs_flower_at_least"] == nil)
        #expect(o["ratio_vs_flower_at_least_min"] as? Double == bound)
        #expect(o["ratio_vs_flower_min"] as? Double == ratio)
    }

    @Test func withoutARatioALargerPointIsSkippedAndTheTableShowsTheBound() async throws {
        let (r, calls) = try await run(["--flower-budget", "5"], json: false)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(calls.count == 1, "\(calls)")
        #expect(calls.first?.contains("--budget 5.0") == true, "\(calls)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.contains { $0.contains("≥") && $0.contains("(stopped unmask)") }, "\(r.stdout)")
        #expect(lines.contains { $0.contains("skipped (budget)") }, "\(r.stdout)")
    }

    @Test(arguments: [["--flower-budget-ratio", "0"], ["--flower-budget", "-1"]])
    func badBudgetsAreAClearError(args: [String]) async throws {
        let r = try await runProcessAsync(murmurBinary, ["bench", "secagg", "--no-reference"] + args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(args[0]), "\(r.stderr)")
    }
}
