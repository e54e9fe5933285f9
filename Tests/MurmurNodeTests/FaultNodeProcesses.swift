import Foundation
import MurmurNode
import MurmurTestSupport
import NIOConcurrencyHelpers

/// `murmur node` processes for the fault tests, started the way `murmur cluster` starts them (a
/// JSON config per node, `murmur node --config FILE`), but waited on with async polling so no
/// Swift concurrency thread blocks, and killable with any signal (SIGKILL for crash tests).
final class NodeProcesses: Sendable {
    /// One running (or exited) node process.
    final class Child: Sendable {
        let name: String
        let process: Process
        let stdout: LineCollector
        let stderrPath: String

        init(name: String, process: Process, stdout: LineCollector, stderrPath: String) {
            self.name = name; self.process = process; self.stdout = stdout; self.stderrPath = stderrPath
        }

        /// The rest of the first stdout line starting with `prefix` (e.g. "p2p ", "http ").
        func line(prefix: String, seconds: Double = 60) async throws -> String {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if let l = stdout.lines.first(where: { $0.hasPrefix(prefix) }) { return String(l.dropFirst(prefix.count)) }
                guard process.isRunning else { throw Timeout(description: "\(name) exited: \(errorTail())") }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw Timeout(description: "\(name) printed no '\(prefix)' line within \(seconds) s: \(errorTail())")
        }

        /// Sends `signal` and waits (polling) up to `seconds` for the process to end; true if it did.
        @discardableResult
        func stop(_ signal: Int32, seconds: Double = 20) async -> Bool {
            if process.isRunning { kill(process.processIdentifier, signal) }
            return await eventually(seconds: seconds) { !self.process.isRunning }
        }

        /// Everything the process wrote to standard error so far (its log).
        func log() -> String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        func errorTail() -> String {
            String(((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "").suffix(1500))
        }
    }

    private let children = NIOLockedValueBox<[Child]>([])

    /// Writes `config` to `file` and starts `murmur node --config file` (with `environment` added).
    func start(_ name: String, _ config: NodeConfig, file: String, environment: [String: String] = [:]) throws -> Child {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: URL(fileURLWithPath: file))
        let p = Process()
        p.executableURL = murmurBinary
        p.arguments = ["node", "--config", file, "--log-level", "info"]
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        let out = Pipe()
        p.standardOutput = out
        let errPath = file + ".stderr"
        if !FileManager.default.fileExists(atPath: errPath) { _ = FileManager.default.createFile(atPath: errPath, contents: nil) }
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        err.seekToEndOfFile()
        p.standardError = err
        try p.run()
        let child = Child(name: name, process: p, stdout: LineCollector(out.fileHandleForReading), stderrPath: errPath)
        children.withLockedValue { $0.append(child) }
        return child
    }

    /// SIGKILLs every process still running (test cleanup).
    func killAll() {
        for c in children.withLockedValue({ $0 }) where c.process.isRunning { kill(c.process.processIdentifier, SIGKILL) }
    }
}
