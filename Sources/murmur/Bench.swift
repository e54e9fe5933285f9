import ArgumentParser
import Foundation

/// `murmur bench`: speed figures measured against a reference implementation in the same run.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Murmur's speed against reference implementations, in the same run.",
        discussion: """
            Each benchmark prints its figures and ratios; with --json it prints one JSON object
            whose comparisons are `ratio_vs_<reference>` fields. References run in Python from
            .venv-bench (numpy, torch CPU, flwr); create it with `scripts/bench-venv` or pass
            --setup. Results are recorded in docs/benchmarks.md.
            """,
        subcommands: [BenchGEMM.self, BenchTrain.self, BenchSimulate.self, BenchVerify.self, BenchLog.self, BenchPrivacy.self, BenchAggregate.self, BenchSecAgg.self, BenchP2P.self, BenchBlocks.self, BenchCluster.self]
    )
}

/// Options every benchmark shares.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: "Python interpreter with the reference packages (default: .venv-bench/bin/python, then $MURMUR_BENCH_PYTHON).")
    var python: String?

    @Flag(help: "Create .venv-bench with the pinned reference packages first (needs network access to PyPI).")
    var setup = false

    @Flag(help: "Measure Murmur only; skip the reference (no ratios).")
    var noReference = false

    /// Where scripts/reference lives: the current folder if it is a checkout, else the source tree
    /// this binary was built from.
    var repoRoot: URL {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        if FileManager.default.fileExists(atPath: cwd.appendingPathComponent("scripts/reference").path) { return cwd }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `--setup` runs once, when the options are parsed, not once per reference call.
    func validate() throws {
        if setup && !noReference {
            try runProcess("/bin/bash", [repoRoot.appendingPathComponent("scripts/bench-venv").path], echo: true)
        }
    }

    func interpreter() throws -> String {
        if let python { return python }
        if let env = ProcessInfo.processInfo.environment["MURMUR_BENCH_PYTHON"], !env.isEmpty { return env }
        let venv = repoRoot.appendingPathComponent(".venv-bench/bin/python").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        throw ValidationError("no reference Python found: run `scripts/bench-venv` (or pass --setup, or --python PATH, or --no-reference)")
    }

    /// Runs a reference script and parses its single JSON object.
    func reference(_ script: String, _ arguments: [String]) throws -> [String: Any] {
        let python = try interpreter()
        let path = repoRoot.appendingPathComponent("scripts/reference/\(script)").path
        let out = try runProcess(python, [path] + arguments, echo: false)
        guard let obj = try? JSONSerialization.jsonObject(with: out) as? [String: Any] else {
            throw ValidationError("\(script) did not print a JSON object: \(String(decoding: out.prefix(400), as: UTF8.self))")
        }
        return obj
    }

    func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func emit(_ object: [String: Any], table: [String]) throws {
        if json {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            table.forEach { print($0) }
        }
    }
}

struct ProcessFailure: Error, CustomStringConvertible {
    var description: String
}

/// Runs a process; returns its stdout. Its stderr goes to a temporary file (read after exit), so
/// a chatty child can never block on a full pipe while we drain stdout.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], echo: Bool) throws -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let out = Pipe()
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-\(UUID().uuidString).stderr")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errURL) }
    let errFile = try FileHandle(forWritingTo: errURL)
    defer { try? errFile.close() }
    p.standardOutput = echo ? FileHandle.standardError : out
    p.standardError = echo ? FileHandle.standardError : errFile
    do {
        try p.run()
    } catch {
        throw ProcessFailure(description: "cannot start \(executable): \(error.localizedDescription)")
    }
    let data = echo ? Data() : out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        throw ProcessFailure(description: "\(executable) \(arguments.first ?? "") exited with \(p.terminationStatus): \(String(decoding: errData.suffix(2000), as: UTF8.self))")
    }
    return data
}

func geometricMean(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return .nan }
    return Foundation.exp(xs.map { Foundation.log($0) }.reduce(0, +) / Double(xs.count))
}

func parseList(_ s: String, flag: String) throws -> [Int] {
    let v = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !v.isEmpty, v.allSatisfy({ ($0 ?? 0) >= 1 }) else {
        throw ValidationError("\(flag) takes comma-separated positive integers, got '\(s)'")
    }
    return v.compactMap { $0 }
}
