import Foundation
import MurmurNode
import MurmurTestSupport
import NIOConcurrencyHelpers

/// `murmur node` processes for the fault tests, started the way `murmur cluster` starts them
/// (MurmurNode's `NodeProcess`), but waited on with async polling so no Swift concurrency thread
/// blocks, and killable with any signal (SIGKILL for crash tests).
final class NodeProcesses: Sendable {
    /// One running (or exited) node process.
    final class Child: Sendable {
        let node: NodeProcess

        init(_ node: NodeProcess) { self.node = node }

        var name: String { node.name }
        var process: Process { node.process }

        /// The rest of the first stdout line starting with `prefix` (e.g. "p2p ", "http ").
        func line(prefix: String, seconds: Double = 60) async throws -> String {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if let l = node.stdout.firstLine(prefix: prefix) { return l }
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
        func log() -> String { node.log() }

        func errorTail() -> String { node.errorTail() }
    }

    private let children = NIOLockedValueBox<[Child]>([])

    /// Writes `config` to `file` and starts `murmur node --config file` (with `environment` added).
    func start(_ name: String, _ config: NodeConfig, file: String, environment: [String: String] = [:]) throws -> Child {
        let child = Child(try NodeProcess(name: name, binary: murmurBinary, config: config, file: file, logLevel: "info", environment: environment))
        children.withLockedValue { $0.append(child) }
        return child
    }

    /// SIGKILLs every process still running (test cleanup).
    func killAll() {
        for c in children.withLockedValue({ $0 }) where c.process.isRunning { kill(c.process.processIdentifier, SIGKILL) }
    }
}
