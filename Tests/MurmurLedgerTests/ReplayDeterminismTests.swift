import Foundation
@testable import MurmurLedger
import MurmurLog
import Testing

/// Every node that replays the same log reaches the same state: 10^5 mixed records (valid and invalid)
/// are written to disk in uneven batches and replayed from the stored log, and fed to an independent
/// in-memory ledger in one go; the state digests must agree.
@Suite struct ReplayDeterminismTests {
    static let count = 100_000
    static let records = MixedRecordGenerator.generate(count: count, seed: 2026)

    @Test func storedAndInMemoryReplaysAgree() throws {
        let records = Self.records
        #expect(records.count == Self.count)

        // Ledger 1: a writer on disk, batches of 1…4000 records, a checkpoint after each.
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try LedgerWriter.create(path: path, origin: "test.example/replay", genesis: records[0].decode(Genesis.self)!,
                                             founder: LedgerFixture(memberCount: 8, seed: 42).coordinator)
        #expect(writer.state.entries == 1)
        var start = 1, batch = 1
        while start < records.count {
            let end = min(records.count, start + batch)
            try writer.append(Array(records[start..<end]))
            start = end
            batch = batch * 7 % 4001 + 1
        }

        // Ledger 2: replayed from the stored log by the verifier.
        let stored = try LedgerVerifier.verify(path: path)

        // Ledger 3: in memory, all entries at once.
        var memory = LedgerHarness()
        let outcomes = try memory.append(records)

        let digests = [try writer.state.digest(), stored.digest, try memory.state.digest()]
        #expect(Set(digests).count == 1, "\(digests)")
        #expect(stored.outcomes == outcomes)
        let s = stored.ledger.state
        #expect(s.entries == Self.count)
        #expect(s.accepted > Self.count / 2, "most generated records are valid")
        let reasons = Set(s.rejections.keys)
        for code in ["bad-signature", "unknown-schema", "unauthorized", "wrong-round", "duplicate", "double-vote",
                     "outside-voting-window", "reward-mismatch", "inconsistent", "not-a-participant"] {
            #expect(reasons.contains(code), "no \(code) rejection in the mix")
        }
        #expect(s.round > 1000)
        #expect(s.balances.values.reduce(0, +) == s.minted)
        #expect(s.proposals.values.contains { $0.status == .enacted })
    }
}
