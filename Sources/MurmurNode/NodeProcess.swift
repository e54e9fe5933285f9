import Foundation
import MurmurCore

/// A `murmur node` child process started from a configuration file: standard output collected
/// line by line, standard error appended to `<file>.stderr` (the node's log).
/// Why: `murmur cluster` and the fault tests start nodes the same way; this is that one way.
public final class NodeProcess: Sendable {
    /// A name for messages ("client 3", "aggregator").
    public let name: String
    /// The running (or exited) process.
    public let process: Process
    /// Its standard output, line by line.
    public let stdout: LineCollector
    /// Where its standard error goes.
    public let stderrPath: String

    /// Writes `config` to `file` as JSON and starts `binary node --config file --log-level level`
    /// with `environment` added to this process's own.
    public init(name: String, binary: URL, config: NodeConfig, file: String, logLevel: String,
                environment: [String: String] = [:]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: URL(fileURLWithPath: file))
        let p = Process()
        p.executableURL = binary
        p.arguments = ["node", "--config", file, "--log-level", logLevel]
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        let out = Pipe()
        p.standardOutput = out
        let errPath = file + ".stderr"
        if !FileManager.default.fileExists(atPath: errPath) { _ = FileManager.default.createFile(atPath: errPath, contents: nil) }
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        err.seekToEndOfFile()
        p.standardError = err
        try p.run()
        self.name = name
        process = p
        stdout = LineCollector(out.fileHandleForReading)
        stderrPath = errPath
    }

    /// Everything the process wrote to standard error so far (its log).
    public func log() -> String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The last `characters` of its log, trimmed.
    public func errorTail(_ characters: Int = 1500) -> String {
        String(log().suffix(characters)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
