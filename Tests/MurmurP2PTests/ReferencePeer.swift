import Foundation
import MurmurCore
import MurmurTestSupport
import NIOConcurrencyHelpers

@testable import MurmurP2P

/// A py-libp2p reference peer (or `murmur p2p listen`) running in the background (scripts/reference/libp2p_peer.py).
/// Stdout is read line by line on a thread; stderr goes to a file shown when a test fails.
final class ReferencePeer: Sendable {
    private let process: Process
    private let errURL: URL
    private let output: LineCollector

    private init(process: Process, errURL: URL, output: LineCollector) {
        self.process = process
        self.errURL = errURL
        self.output = output
    }

    static func start(_ arguments: [String]) throws -> ReferencePeer {
        try start(
            executable: URL(fileURLWithPath: try PythonReference.python()),
            [repositoryRoot.appendingPathComponent("scripts/reference/libp2p_peer.py").path] + arguments)
    }

    /// Any program in the background (the `murmur` binary too).
    static func start(executable: URL, _ arguments: [String]) throws -> ReferencePeer {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        let out = Pipe()
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-p2p-\(UUID().uuidString).stderr")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        p.standardOutput = out
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        return ReferencePeer(process: p, errURL: errURL, output: LineCollector(out.fileHandleForReading))
    }

    /// Lines printed so far.
    func lines() -> [String] { output.lines }

    /// Waits (up to 30 s) for a line starting with `prefix`; returns the rest of it.
    func waitForLine(prefix: String) async throws -> String {
        for _ in 0..<300 {
            if let l = lines().first(where: { $0.hasPrefix(prefix) }) { return String(l.dropFirst(prefix.count)) }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PythonReference.Failure(description: "the reference peer printed no '\(prefix)' line\n\(logs())")
    }

    /// Both output streams, for failure messages.
    func logs() -> String {
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return "\(process.executableURL?.lastPathComponent ?? "peer") stdout:\n\(lines().joined(separator: "\n"))\nstderr:\n\(err.suffix(8000))"
    }

    /// Sends SIGINT (a clean stop) and waits; returns the exit status.
    func interrupt() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func stop() {
        // SIGKILL: a child may inherit a signal mask that blocks SIGTERM from the test process.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: errURL)
    }
}

/// Runs the reference script to completion off the cooperative pool (it can take seconds).
func runReference(_ arguments: [String]) async throws -> ProcessOutput {
    let python = try PythonReference.python()
    let script = repositoryRoot.appendingPathComponent("scripts/reference/libp2p_peer.py").path
    return try await runProcessAsync(URL(fileURLWithPath: python), [script] + arguments)
}

/// Peers seen by a host callback (called on event loops).
final class NIOLockedPeers: Sendable {
    private let box = NIOLockedValueBox<[PeerID]>([])
    func append(_ p: PeerID) { box.withLockedValue { $0.append(p) } }
    var all: [PeerID] { box.withLockedValue { $0 } }
}

/// Runs `body`, failing with `what` if it takes longer than `seconds`.
func withDeadline<T: Sendable>(seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw P2PError.timeout("\(what) took longer than \(seconds) s")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
