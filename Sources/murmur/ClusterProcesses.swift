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

/// The cluster's `murmur node` processes (MurmurNode's `NodeProcess`: a JSON config each, stdout read
/// line by line, stderr kept in a file shown if the node dies), stopped with SIGTERM (then SIGKILL).
final class ChildProcesses: Sendable {
    final class Child: Sendable {
        let node: NodeProcess
        /// A fault-injected node: its death does not stop the cluster.
        let mayDie: Bool

        init(node: NodeProcess, mayDie: Bool) {
            self.node = node
            self.mayDie = mayDie
        }

        var name: String { node.name }
        var process: Process { node.process }

        /// The rest of the first stdout line starting with `prefix`.
        func waitForLine(prefix: String, seconds: Double) throws -> String {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if let l = node.stdout.firstLine(prefix: prefix) { return l }
                guard process.isRunning else { throw ValidationError("\(name) exited: \(errorTail())") }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw ValidationError("\(name) printed no '\(prefix)' line within \(Int(seconds)) s: \(errorTail())")
        }

        func errorTail() -> String { node.errorTail(800) }
    }

    private let children = NIOLockedValueBox<[Child]>([])

    /// Writes `config` to `file` and starts `murmur node --config file`.
    /// With `crashAt` (ROUND:MESSAGE) the node SIGKILLs itself there (`MURMUR_FAULT_CRASH_AT`), and its death is expected.
    func start(name: String, config: NodeConfig, file: String, crashAt: String? = nil) throws -> Child {
        let binary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        let node: NodeProcess
        do {
            node = try NodeProcess(name: name, binary: binary, config: config, file: file, logLevel: "warning",
                                   environment: crashAt.map { ["MURMUR_FAULT_CRASH_AT": $0] } ?? [:])
        } catch { throw ValidationError("cannot start \(name): \(error)") }
        let child = Child(node: node, mayDie: crashAt != nil)
        children.withLockedValue { $0.append(child) }
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
