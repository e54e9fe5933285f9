import Testing

/// Runs every test of a suite on `OwnThreadsExecutor.shared` (two threads of its own) instead of
/// Swift's cooperative pool.
///
/// The suite runs all tests in parallel and the cooperative pool has one thread per core. CPU-bound
/// tests (training, accounting, GEMM, hashing) would hold those threads for seconds at a time while
/// the network tests beside them wait for a thread to run their deadlines and stream handlers, and
/// on a loaded two-core machine those then time out. Suites of computation-only tests carry
/// `@Suite(.ownThreads)`; network and process tests stay on the pool.
public struct OwnThreadsTrait: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil else { return try await function() }
        try await onOwnThreads { try await function() }
    }
}

extension Trait where Self == OwnThreadsTrait {
    /// See `OwnThreadsTrait`.
    public static var ownThreads: Self { OwnThreadsTrait() }
}
