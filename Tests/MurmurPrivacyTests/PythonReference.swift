import Foundation

/// Runs the pinned Python reference scripts (scripts/reference/) from tests. The interpreter is
/// $MURMUR_PYTHON or the repository's .venv (both set up by scripts/test). A missing interpreter
/// is a test failure, not a skip: reference checks must run in CI.
enum PythonReference {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func python() throws -> String {
        if let p = ProcessInfo.processInfo.environment["MURMUR_PYTHON"], !p.isEmpty { return p }
        let venv = repoRoot.appendingPathComponent(".venv/bin/python").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        throw Failure(description: "no reference Python: run the tests through scripts/test (it creates .venv with pinned numpy and dp-accounting) or set MURMUR_PYTHON")
    }

    /// Runs `scripts/reference/<script>` with `arguments`; returns stdout, throws with stderr on failure.
    static func run(_ script: String, _ arguments: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try python())
        p.arguments = [repoRoot.appendingPathComponent("scripts/reference/\(script)").path] + arguments
        let out = Pipe()
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-ref-\(UUID().uuidString).stderr")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let errFile = try FileHandle(forWritingTo: errURL)
        defer { try? errFile.close() }
        p.standardOutput = out
        p.standardError = errFile
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        guard p.terminationStatus == 0 else {
            throw Failure(description: "\(script) exited \(p.terminationStatus): \(String(decoding: errData, as: UTF8.self))")
        }
        return data
    }
}
