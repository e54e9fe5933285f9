import Foundation

/// What a child process printed and how it ended.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments` and waits. Standard error goes to a temporary file read
/// after exit, so a child that writes a lot to stderr can never block on a full pipe while
/// standard output is being drained.
public func runProcess(_ executable: URL, _ arguments: [String]) throws -> ProcessOutput {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    let out = Pipe()
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-test-\(UUID().uuidString).stderr")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errURL) }
    let errFile = try FileHandle(forWritingTo: errURL)
    defer { try? errFile.close() }
    p.standardOutput = out
    p.standardError = errFile
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let errData = (try? Data(contentsOf: errURL)) ?? Data()
    return ProcessOutput(status: p.terminationStatus, stdout: String(decoding: data, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// The repository root (this file is Tests/Support/TestProcess.swift).
public var repositoryRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The built `murmur` binary, which sits next to the test bundle in the build folder.
public var murmurBinary: URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("murmur")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("murmur")
}

/// Runs `body` on a thread of its own and returns its result.
///
/// Swift's cooperative pool has one thread per core (two on the CI machines) and the whole test
/// suite runs in parallel on it: a test that blocks one of those threads (waiting for a child
/// process, sleeping, a long synchronous computation) stalls every other test's async work, and
/// network tests then miss their deadlines. Blocking work goes through here instead.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, any Error>) in
        let thread = Thread { k.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// `runProcess` off the cooperative pool (see `offPool`): use this from async tests.
public func runProcessAsync(_ executable: URL, _ arguments: [String]) async throws -> ProcessOutput {
    try await offPool { try runProcess(executable, arguments) }
}

/// A task executor with threads of its own, for CPU-heavy or blocking test bodies (see `offPool`).
///
/// `onOwnThreads { … }` runs a test's body here through a task-executor preference: the test keeps
/// its task (so `#expect` and task locals work as usual) and its child tasks follow it, but none of
/// it occupies Swift's cooperative threads, which the network tests running alongside need.
public final class OwnThreadsExecutor: TaskExecutor, @unchecked Sendable {
    /// Two threads: the CI machines have two cores.
    public static let shared = OwnThreadsExecutor(threads: 2)
    /// One thread for a test that mostly waits in blocking calls (child processes, pipes), so it
    /// neither holds a cooperative thread nor queues behind the computation on `shared`.
    public static let blocking = OwnThreadsExecutor(threads: 1)

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    init(threads: Int) {
        for _ in 0..<threads {
            let thread = Thread { [self] in run() }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs `body` on `executor` (by default `OwnThreadsExecutor.shared`) instead of the cooperative pool.
public func onOwnThreads<T: Sendable>(_ executor: OwnThreadsExecutor = .shared, _ body: () async throws -> T) async throws -> T {
    try await withTaskExecutorPreference(executor, operation: body)
}
