import Foundation
@testable import MurmurLedger
import MurmurLog
import MurmurTestSupport
import Testing

/// Every node that replays the same log reaches the same state: 10^5 mixed records (valid and invalid)
/// are fed to a writer's ledger in uneven batches (1…4001, a checkpoint after each) and replayed by an
/// independent ledger from the stored log; the outcomes and state digests must agree.
@Suite(.ownThreads) struct ReplayDeterminismTests {
    static let count = 100_000
    static let records = MixedRecordGenerator.generate(count: count, seed: 2026)

    @Test func storedAndInMemoryReplaysAgree() async throws {
        try await onOwnThreads {
            let records = Self.records
            #expect(records.count == Self.count)

            // Ledger 1: the writer's, fed in batches of 1…4001 records as they are written.
            let path = temporaryPath()
            defer { try? FileManager.default.removeItem(atPath: path) }
            let writer = try LedgerWriter.create(path: path, origin: "test.example/replay", signatureCheck: TestSignatures.check)
            var outcomes: [RecordOutcome] = []
            var start = 0, batch = 1
            while start < records.count {
                let end = min(records.count, start + batch)
                outcomes += try writer.append(Array(records[start..<end]))
                start = end
                batch = batch * 7 % 4001 + 1
            }

            // Ledger 2: replayed from the stored log by the verifier.
            let stored = try LedgerVerifier.verify(path: path, signatureCheck: TestSignatures.check)

            #expect(try writer.state.digest() == stored.digest)
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
}

/// The fast test signatures decide exactly what Ed25519 decides: the same generated stream signed both
/// ways gives the same outcomes and the same state digest.
@Suite(.ownThreads) struct TestSignatureSchemeTests {
    @Test func realSignatureRunAgrees() async throws {
        try await onOwnThreads {
            let fast = MixedRecordGenerator.generate(count: 1500, seed: 7)
            let real = MixedRecordGenerator.generate(count: 1500, seed: 7, realSignatures: true)
            var a = Ledger(signatureCheck: TestSignatures.check), b = Ledger()
            var oa: [RejectionReason?] = [], ob: [RejectionReason?] = []
            for (x, y) in zip(fast, real) {
                oa.append(try a.apply(LedgerEntry(sequence: a.nextSequence, previous: a.head, record: x).encoded).rejection)
                ob.append(try b.apply(LedgerEntry(sequence: b.nextSequence, previous: b.head, record: y).encoded).rejection)
            }
            #expect(oa == ob)
            #expect(oa.contains(.badSignature) && oa.contains(nil))
            #expect(try a.state.digest() == b.state.digest())
        }
    }
}
