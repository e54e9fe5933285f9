import Foundation

/// Runs the pinned Python reference scripts (scripts/reference/) from tests. The interpreter is
/// $MURMUR_PYTHON or the repository's .venv (both set up by scripts/test). A missing interpreter
/// is a test failure, not a skip: reference checks must run in CI.
public enum PythonReference {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public static func python() throws -> String {
        if let p = ProcessInfo.processInfo.environment["MURMUR_PYTHON"], !p.isEmpty { return p }
        let venv = repositoryRoot.appendingPathComponent(".venv/bin/python").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        throw Failure(description: "no reference Python: run the tests through scripts/test (it creates .venv with the pinned reference packages, numpy and dp-accounting) or set MURMUR_PYTHON")
    }

    /// Runs `scripts/reference/<script>` with `arguments`; returns stdout, throws with stderr on failure.
    public static func run(_ script: String, _ arguments: [String]) async throws -> Data {
        let script = repositoryRoot.appendingPathComponent("scripts/reference/\(script)").path
        let r = try await runProcessAsync(URL(fileURLWithPath: try python()), [script] + arguments)
        guard r.status == 0 else {
            throw Failure(description: "\(script) exited \(r.status): \(r.stderr)")
        }
        return Data(r.stdout.utf8)
    }
}
