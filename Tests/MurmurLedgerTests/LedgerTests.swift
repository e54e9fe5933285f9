import Foundation
import MurmurCore
@testable import MurmurLedger
import MurmurLog
import MurmurTestSupport
import Testing

/// The state machine: accepted records change the state, each invalid one is rejected with its reason.
@Suite(.ownThreads) struct LedgerTests {
    let f = LedgerFixture()

    func started() throws -> LedgerHarness {
        var h = LedgerHarness()
        let o = try h.append(f.sign(f.genesis(), f.coordinator))
        #expect(o.accepted)
        return h
    }

    func rejection(_ h: inout LedgerHarness, _ r: LedgerRecord) throws -> RejectionReason? {
        let before = h.state
        let o = try h.append(r)
        if !o.accepted {
            var after = h.state
            after.entries = before.entries; after.rejections = before.rejections
            #expect(after == before, "a rejected record changed the state")
        }
        return o.rejection
    }

    @Test func aRoundIsRecordedAndRewarded() throws {
        var h = try started()
        #expect(h.state.model == f.cid(0))
        try h.append([f.modelVersion(1, participants: [0, 1, 2]), f.contribution(1, 0, score: 3_000_000),
                      f.contribution(1, 1, score: 1_000_000), f.contribution(1, 2, score: 0)])
        let policy = RewardPolicy(h.state.parameters)
        let reward = policy.rewards(round: 1, contributions: Array(h.state.openRound.contributions.values))
        let o = try h.append(f.sign(reward, f.coordinator))
        #expect(o.accepted, "\(String(describing: o.rejection))")
        #expect(h.state.round == 1 && h.state.model == f.cid(1))
        #expect(h.state.epsilonSpentMicros == 100_000)
        // budget 1000, cap 25% = 250 each: both capped, the rest (500) burned.
        #expect(h.state.balances == [f.memberIDs[0]: 250, f.memberIDs[1]: 250])
        #expect(h.state.minted == 500 && h.state.burned == 500)
        #expect(h.state.accepted == 6 && h.state.entries == 6)
    }

    @Test func signatureSchemaAndShapeAreChecked() throws {
        var h = try started()
        var bad = f.modelVersion(1, participants: [0])
        bad.signature[5] ^= 0x80
        #expect(try rejection(&h, bad) == .badSignature)
        var unknown = LedgerRecord.unsigned(schema: "murmur.ledger.vote/2", author: f.memberIDs[0], body: .object(["proposal": .integer(0)]))
        unknown.signature = try f.members[0].sign(unknown.bytes)
        #expect(try rejection(&h, unknown) == .unknownSchema("murmur.ledger.vote/2"))
        var relabeled = LedgerRecord.unsigned(schema: RecordKind.contribution.schema, author: f.memberIDs[0], body: .object(["proposal": .integer(0)]))
        relabeled.signature = try f.members[0].sign(relabeled.bytes)
        #expect(try rejection(&h, relabeled)?.code == "malformed")
        // A v1 reader must not half-read a body with fields it does not know.
        var extra = LedgerRecord.unsigned(schema: RecordKind.vote.schema, author: f.memberIDs[0],
                                          body: .object(["proposal": .integer(0), "choice": .string("yes"), "weight": .integer(100)]))
        extra.signature = try f.members[0].sign(extra.bytes)
        #expect(try rejection(&h, extra)?.code == "malformed")
    }

    @Test func genesisMustComeFirstAndOnce() throws {
        var h = LedgerHarness()
        #expect(try rejection(&h, f.modelVersion(1, participants: [0])) == .noGenesis)
        #expect(try rejection(&h, f.sign(f.genesis(), f.coordinator)) == .noGenesis)
        var g = try started()
        #expect(try rejection(&g, f.sign(f.genesis(), f.coordinator)) == .duplicateGenesis)
        var h2 = LedgerHarness()
        var bad = f.genesis()
        bad.members = []
        #expect(try rejection(&h2, f.sign(bad, f.coordinator))?.code == "malformed")
        #expect(!h2.state.started)
    }

    @Test func modelVersionRules() throws {
        var h = try started()
        #expect(try rejection(&h, f.sign(ModelVersion(round: 1, parent: f.cid(0), model: f.cid(1), strategy: "fedavg", epsilonMicros: 0, participants: []), f.members[0])) == .unauthorized(role: "coordinator"))
        #expect(try rejection(&h, f.modelVersion(2, participants: [0])) == .wrongRound(expected: 1, got: 2))
        #expect(try rejection(&h, f.sign(ModelVersion(round: 1, parent: f.cid(7), model: f.cid(1), strategy: "fedavg", epsilonMicros: 0, participants: []), f.coordinator)) == .wrongParent)
        #expect(try rejection(&h, f.sign(ModelVersion(round: 1, parent: f.cid(0), model: "not a cid", strategy: "fedavg", epsilonMicros: 0, participants: []), f.coordinator))?.code == "malformed")
        #expect(try rejection(&h, f.modelVersion(1, participants: [0, 1, 2, 3, 4])) == .tooManyParticipants(limit: 4, got: 5))
        #expect(try rejection(&h, f.sign(ModelVersion(round: 1, parent: f.cid(0), model: f.cid(1), strategy: "fedavg", epsilonMicros: 0, participants: [f.id(f.outsider)]), f.coordinator)) == .notAMember(f.id(f.outsider)))
        #expect(try rejection(&h, f.modelVersion(1, participants: [0], epsilon: 8_000_001)) == .privacyBudgetExceeded)
        #expect(try rejection(&h, f.modelVersion(1, participants: [0], epsilon: 8_000_000)) == nil)
        #expect(try rejection(&h, f.modelVersion(2, participants: [0], epsilon: 1)) == .privacyBudgetExceeded)
    }

    @Test func contributionRules() throws {
        var h = try started()
        #expect(try rejection(&h, f.contribution(0, 0, score: 1)) == .wrongRound(expected: 0, got: 0))
        try h.append(f.modelVersion(1, participants: [0, 1]))
        #expect(try rejection(&h, f.sign(Contribution(round: 1, peer: f.memberIDs[0], samples: 1, scoreMicros: 1, method: "loo"), f.members[0])) == .unauthorized(role: "coordinator"))
        #expect(try rejection(&h, f.contribution(2, 0, score: 1)) == .wrongRound(expected: 1, got: 2))
        #expect(try rejection(&h, f.contribution(1, 2, score: 1)) == .notAParticipant(f.memberIDs[2]))
        #expect(try rejection(&h, f.contribution(1, 0, score: -1))?.code == "malformed")
        #expect(try rejection(&h, f.contribution(1, 0, score: 5)) == nil)
        #expect(try rejection(&h, f.contribution(1, 0, score: 5)) == .duplicate)
        try h.append(f.sign(Reward(round: 1, payouts: [Payout(peer: f.memberIDs[0], amount: 250)], burned: 750), f.coordinator))
        #expect(try rejection(&h, f.contribution(1, 1, score: 5))?.code == "inconsistent")
    }

    @Test func rewardRules() throws {
        var h = try started()
        try h.append([f.modelVersion(1, participants: [0, 1, 2, 3]), f.contribution(1, 0, score: 1), f.contribution(1, 1, score: 1),
                      f.contribution(1, 2, score: 1), f.contribution(1, 3, score: 1, anomalous: true)])
        let good = RewardPolicy(h.state.parameters).rewards(round: 1, contributions: Array(h.state.openRound.contributions.values))
        #expect(good.payouts.map(\.amount) == [250, 250, 250])
        #expect(try rejection(&h, f.sign(good, f.members[0])) == .unauthorized(role: "coordinator"))
        #expect(try rejection(&h, f.sign(Reward(round: 2, payouts: good.payouts, burned: good.burned), f.coordinator)) == .wrongRound(expected: 1, got: 2))
        let over = Reward(round: 1, payouts: good.payouts + [Payout(peer: f.memberIDs[3], amount: 251)], burned: 0)
        #expect(try rejection(&h, f.sign(over, f.coordinator)) == .overBudget(budget: 1000, paid: 1001))
        let toAnomalous = Reward(round: 1, payouts: good.payouts + [Payout(peer: f.memberIDs[3], amount: 250)], burned: 0)
        #expect(try rejection(&h, f.sign(toAnomalous, f.coordinator)) == .rewardMismatch)
        #expect(try rejection(&h, f.sign(good, f.coordinator)) == nil)
        #expect(try rejection(&h, f.sign(good, f.coordinator)) == .duplicate)
        #expect(h.state.balances[f.memberIDs[3]] == nil)
    }

    @Test func reputationAndReceiptRules() throws {
        var h = try started()
        let rep = Reputation(device: f.memberIDs[0], checked: 10, failed: 1, reasons: ["output-mismatch"])
        #expect(try rejection(&h, f.sign(rep, f.members[1])) == .unauthorized(role: "verifier"))
        var lying = rep
        lying.delta = 10
        #expect(try rejection(&h, f.sign(lying, f.verifier)) == .inconsistent("delta 10, (checked − failed) − 20·failed is -11"))
        #expect(try rejection(&h, f.sign(Reputation(device: f.memberIDs[0], checked: 1, failed: 2, reasons: []), f.verifier))?.code == "malformed")
        #expect(try rejection(&h, f.sign(rep, f.verifier)) == nil)
        #expect(h.state.reputation[f.memberIDs[0]] == -11)
        let digest = RFC9162.sha256(Array("receipts".utf8)).hex
        #expect(try rejection(&h, f.sign(ReceiptDigest(device: f.memberIDs[2], count: 3, digest: digest), f.outsider)) == .unauthorized(role: "member"))
        #expect(try rejection(&h, f.sign(ReceiptDigest(device: f.memberIDs[2], count: 3, digest: "abc"), f.members[2]))?.code == "malformed")
        #expect(try rejection(&h, f.sign(ReceiptDigest(device: f.memberIDs[2], count: 3, digest: digest), f.members[2])) == nil)
        #expect(h.state.receipts == [f.memberIDs[2]: 3])
        #expect(h.state.rejections["unauthorized"] == 2)
    }

    @Test func theChainRejectsDroppedReorderedAndEditedEntries() throws {
        var h = try started()
        let records = [f.modelVersion(1, participants: [0]), f.contribution(1, 0, score: 1)]
        var a = h
        let e1 = LedgerEntry(sequence: 1, previous: h.ledger.head, record: records[0]).encoded
        let e2 = LedgerEntry(sequence: 2, previous: LedgerEntry.hash(e1), record: records[1]).encoded
        #expect(throws: LedgerError.tampered(index: 1, reason: "sequence number 2, expected 1: an entry was dropped, inserted or reordered")) {
            try a.ledger.apply(e2)
        }
        let edited = Array(String(decoding: e1, as: UTF8.self).replacingOccurrences(of: "fedavg", with: "fedavh").utf8)
        var b = h
        #expect(try b.ledger.apply(edited).rejection == .badSignature)
        #expect {
            try b.ledger.apply(e2)
        } throws: { e in
            guard case LedgerError.tampered(1, let reason) = e else { return false }
            return reason.contains("'prev' recorded in entry 2")
        }
        try h.ledger.apply(e1)
        try h.ledger.apply(e2)
        #expect(h.state.entries == 3)
    }

    @Test func digestIsStableAndSensitive() throws {
        var a = try started(), b = try started()
        #expect(try a.state.digest() == b.state.digest())
        try a.append(f.modelVersion(1, participants: [0]))
        #expect(try a.state.digest() != b.state.digest())
        #expect(try a.state.digest().count == 64)
    }
}
