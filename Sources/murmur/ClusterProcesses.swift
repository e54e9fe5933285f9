import ArgumentParser
import Dispatch
import Foundation
import MurmurNode
import NIOConcurrencyHelpers

/// Set by SIGINT (Ctrl-C); the children get the same signal from the terminal and stop themselves.
final class InterruptFlag {
    private let flag = NIOLockedValueBox(false)
    private let source: DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let flag = self.flag
        source.setEventHandler { flag.withLockedValue { $0 = true } }
        source.resume()
    }

    var isSet: Bool { flag.withLockedValue { $0 } }
}

/// The cluster's `murmur node` processes: started with a JSON config, stdout read line by line,
/// stderr kept in a file (shown if the node dies), stopped with SIGTERM (then SIGKILL).
final class ChildProcesses: Sendable {
    final class Child: Sendable {
        let name: String
        let process: Process
        let stderrPath: String
        /// A fault-injected node: its death does not stop the cluster.
        let mayDie: Bool
        private let lines = NIOLockedValueBox<[String]>([])

        init(name: String, process: Process, stderrPath: String, mayDie: Bool) {
            self.name = name
            self.process = process
            self.stderrPath = stderrPath
            self.mayDie = mayDie
        }

        func read(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                var pending = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    pending += chunk
                    while let nl = pending.firstIndex(of: 0x0A) {
                        let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                        pending = Data(pending[(nl + 1)...])
                        lines.withLockedValue { $0.append(line) }
                    }
                }
            }
        }

        /// The rest of the first stdout line starting with `prefix`.
        func waitForLine(prefix: String, seconds: Double) throws -> String {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if let l = lines.withLockedValue({ $0.first { $0.hasPrefix(prefix) } }) { return String(l.dropFirst(prefix.count)) }
                guard process.isRunning else { throw ValidationError("\(name) exited: \(errorTail())") }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw ValidationError("\(name) printed no '\(prefix)' line within \(Int(seconds)) s: \(errorTail())")
        }

        func errorTail() -> String {
            let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            return String(text.suffix(800)).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    private let children = NIOLockedValueBox<[Child]>([])

    /// Writes `config` to `file` and starts `murmur node --config file`.
    /// With `crashAt` (ROUND:MESSAGE) the node SIGKILLs itself there (`MURMUR_FAULT_CRASH_AT`), and its death is expected.
    func start(name: String, config: NodeConfig, file: String, crashAt: String? = nil) throws -> Child {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: URL(fileURLWithPath: file))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        p.arguments = ["node", "--config", file, "--log-level", "warning"]
        let out = Pipe()
        p.standardOutput = out
        let errPath = file + ".stderr"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        if let crashAt {
            var environment = ProcessInfo.processInfo.environment
            environment["MURMUR_FAULT_CRASH_AT"] = crashAt
            p.environment = environment
        }
        let child = Child(name: name, process: p, stderrPath: errPath, mayDie: crashAt != nil)
        do { try p.run() } catch { throw ValidationError("cannot start \(name): \(error)") }
        children.withLockedValue { $0.append(child) }
        child.read(out.fileHandleForReading)
        return child
    }

    /// Throws if a node died (with the end of its log).
    func checkAlive() throws {
        for c in children.withLockedValue({ $0 }) where !c.process.isRunning && !c.mayDie {
            throw ValidationError("\(c.name) stopped (exit \(c.process.terminationStatus)): \(c.errorTail())")
        }
    }

    /// SIGTERM to every node, up to 10 s for them to exit, then SIGKILL.
    func stopAll() {
        let all = children.withLockedValue { $0 }
        for c in all where c.process.isRunning { kill(c.process.processIdentifier, SIGTERM) }
        let end = Date().addingTimeInterval(10)
        while Date() < end, all.contains(where: { $0.process.isRunning }) { Thread.sleep(forTimeInterval: 0.05) }
        for c in all where c.process.isRunning { kill(c.process.processIdentifier, SIGKILL) }
        for c in all { c.process.waitUntilExit() }
    }
}
