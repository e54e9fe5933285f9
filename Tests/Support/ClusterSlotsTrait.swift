import Testing

/// At most `limit` holders at a time; waiters are resumed in arrival order. Never blocks a thread.
public actor AsyncSlots {
    private let limit: Int
    private var held = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) { self.limit = limit }

    public func acquire() async {
        if held < limit { held += 1; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    public func release() {
        if waiting.isEmpty { held -= 1 } else { waiting.removeFirst().resume() }
    }
}

/// Lets at most two multi-process tests (a `murmur cluster` of node processes, a node fleet with
/// faults) run at once across the whole test run.
///
/// Each such test starts 4–12 node processes that train at full speed. Four of them at once on a
/// two-core CI machine put 40 busy processes beside the in-process network tests, whose deadlines
/// then measure the scheduler instead of our code (the CI run of 939c0be failed that way). The tests
/// wait for a slot before they start their processes; the work done is the same, only less of it
/// overlaps.
public struct ClusterSlotsTrait: TestTrait, SuiteTrait, TestScoping {
    static let slots = AsyncSlots(limit: 2)

    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil else { return try await function() }
        await Self.slots.acquire()
        do {
            try await function()
        } catch {
            await Self.slots.release()
            throw error
        }
        await Self.slots.release()
    }
}

extension Trait where Self == ClusterSlotsTrait {
    /// See `ClusterSlotsTrait`.
    public static var clusterSlots: Self { ClusterSlotsTrait() }
}
