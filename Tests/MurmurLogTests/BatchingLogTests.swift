import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurLog

/// The async front end: indices come back at once and in order across concurrent callers,
/// entries are committed in batches, and every proof verifies against the tree it was taken from.
@Suite(.timeLimit(.minutes(3))) struct BatchingLogTests {
    @Test func concurrentAppendsGetIndicesThenProofs() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("b.db").path
        let front = BatchingLog(log: try TileLog(storage: SQLiteLogStorage(path: path), origin: "murmur.test/b"), maxBatch: 64, maxDelay: .milliseconds(2))
        let results = try await withThrowingTaskGroup(of: [(UInt64, [UInt8], [LogHash], UInt64)].self) { group in
            for t in 0..<8 {
                group.addTask {
                    var out: [(UInt64, [UInt8], [LogHash], UInt64)] = []
                    for k in 0..<50 {
                        let entry = [UInt8]("t\(t)-\(k)")
                        let i = try await front.append(entry)
                        if k % 10 == 9 {
                            let (p, n) = try await front.inclusionProof(index: i)
                            out.append((i, entry, p, n))
                        }
                    }
                    return out
                }
            }
            return try await group.reduce(into: [(UInt64, [UInt8], [LogHash], UInt64)]()) { $0 += $1 }
        }
        await front.flush()
        #expect(await front.state.size == 400)
        // Each proof verifies against the root of the size it was given for (reopen the log to read roots).
        let log = try TileLog(storage: SQLiteLogStorage(path: path))
        for (i, entry, proof, n) in results {
            #expect(try log.entry(at: i) == entry)
            try MerkleProof.verifyInclusion(index: i, size: n, leaf: RFC9162.leafHash(entry), proof: proof, root: log.rootHash(size: n))
        }
        #expect(results.count == 40)
        await #expect(throws: LogStoreError.self) { try await front.integrated(400) }
        await #expect(throws: TileError.self) { try await front.append([UInt8](repeating: 0, count: 70_000)) }
    }
}
