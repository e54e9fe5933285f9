/// An asynchronous front end to a `TileLog`: `append` assigns and returns the entry's index at once
/// (sequencing), entries are integrated and committed in batches — when `maxBatch` are pending or
/// `maxDelay` after the first — and `inclusionProof(index:)` waits until the entry's batch is durable.
/// This is the sequence-then-integrate split of Tessera, with one fsync per batch for many callers.
public actor BatchingLog {
    let log: TileLog
    var pending: [[UInt8]] = []
    var waiters: [(index: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    var timer: Task<Void, Never>?
    var failure: LogStoreError?
    /// Entries per batch (one transaction and fsync).
    public let maxBatch: Int
    /// The longest an entry waits for its batch to fill.
    public let maxDelay: Duration

    /// A front end owning `log`; batches of up to `maxBatch`, committed at least every `maxDelay`.
    public init(log: sending TileLog, maxBatch: Int = 4096, maxDelay: Duration = .milliseconds(5)) {
        self.log = log
        self.maxBatch = max(1, maxBatch)
        self.maxDelay = maxDelay
    }

    /// Sequences `entry` and returns its index; it is durable once `integrated(_:)` for that index returns.
    /// After a failed commit the front end refuses everything (indices handed out must never be reused).
    public func append(_ entry: [UInt8]) throws -> UInt64 {
        if let failure { throw failure }
        guard entry.count <= EntryBundle.maxEntrySize else { throw TileError.entryTooLarge(entry.count) }
        let index = log.size + UInt64(pending.count)
        pending.append(entry)
        if pending.count >= maxBatch {
            flush()
        } else if timer == nil {
            let delay = maxDelay
            timer = Task { [weak self] in
                try? await Task.sleep(for: delay)
                await self?.flush()
            }
        }
        return index
    }

    /// Integrates and commits everything pending now (one batch), then wakes the waiters it covers.
    public func flush() {
        timer?.cancel()
        timer = nil
        guard !pending.isEmpty, failure == nil else { return }
        let batch = pending
        pending = []
        do {
            try log.append(batch)
        } catch {
            failure = .backend("a batch of \(batch.count) entries failed to commit, so the indices handed out for it are void: \(error)")
        }
        wake()
    }

    /// Returns once entry `index` is integrated and durable; throws if its batch failed or it was never sequenced.
    public func integrated(_ index: UInt64) async throws {
        if index < log.size { return }
        if let failure { throw failure }
        guard index < log.size + UInt64(pending.count) else {
            throw LogStoreError.notFound("entry \(index) was never appended (next index is \(log.size + UInt64(pending.count)))")
        }
        try await withCheckedThrowingContinuation { c in waiters.append((index, c)) }
    }

    /// The inclusion proof of `index` in the tree as it is once the entry is integrated, with that tree size.
    public func inclusionProof(index: UInt64) async throws -> (proof: [LogHash], size: UInt64) {
        try await integrated(index)
        return (try log.inclusionProof(index: index), log.size)
    }

    /// The committed tree state.
    public var state: LogTreeState { log.state }

    func wake() {
        let size = log.size
        var still: [(index: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        for w in waiters {
            if w.index < size {
                w.continuation.resume()
            } else if let failure {
                w.continuation.resume(throwing: failure)
            } else {
                still.append(w)
            }
        }
        waiters = still
    }
}
