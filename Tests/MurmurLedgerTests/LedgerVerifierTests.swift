import Foundation
import MurmurCore
@testable import MurmurLedger
import MurmurLog
import MurmurTestSupport
import Testing

/// The ledger on disk: the writer's batches and checkpoints, replay, and tampering caught with an index and a reason.
@Suite(.ownThreads) struct LedgerVerifierTests {
    let f = LedgerFixture()

    /// Genesis, then two rounds of model-version, three contributions and a reward: 11 entries in 3 batches.
    func writeSample(_ path: String) throws -> LedgerWriter {
        let w = try LedgerWriter.create(path: path, origin: "test.example/ledger", genesis: f.genesis(), founder: f.coordinator)
        for r in 1...2 {
            var records = [f.modelVersion(r, participants: [0, 1, 2])]
            records += (0..<3).map { f.contribution(r, $0, score: 1_000 * ($0 + 1)) }
            var scratch = w.ledger
            for rec in records { try scratch.apply(LedgerEntry(sequence: scratch.nextSequence, previous: scratch.head, record: rec).encoded) }
            let reward = RewardPolicy(scratch.state.parameters).rewards(round: r, contributions: Array(scratch.state.openRound.contributions.values))
            let outcomes = try w.append(records + [f.sign(reward, f.coordinator)])
            #expect(outcomes.allSatisfy { $0.accepted }, "\(outcomes.compactMap { $0.rejection })")
        }
        return w
    }

    func expectTampered(_ path: String, index: UInt64, _ reasonPart: String) {
        #expect {
            _ = try LedgerVerifier.verify(path: path)
        } throws: { e in
            guard case LedgerError.tampered(let i, let reason) = e else { return false }
            #expect(i == index && reason.contains(reasonPart), "entry \(i): \(reason)")
            return i == index && reason.contains(reasonPart)
        }
    }

    @Test func replayMatchesTheWriter() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try writeSample(path)
        let v = try LedgerVerifier.verify(path: path)
        #expect(v.digest == (try w.state.digest()))
        #expect(v.outcomes.count == 11 && v.outcomes.allSatisfy { $0.accepted })
        #expect(v.checkpoint.size == 11)
        #expect(v.checkpointNote == (try w.latestCheckpoint()))
        #expect(v.ledger.state.balances.values.reduce(0, +) == v.ledger.state.minted)
        // Reopen and continue: a rejected record is appended and kept.
        let again = try LedgerWriter(path: path)
        let o = try again.append(Vote(proposal: 99, choice: .yes), by: f.members[0])
        #expect(o.rejection == .unknownProposal(99))
        let v2 = try LedgerVerifier.verify(path: path)
        #expect(v2.outcomes.last?.rejection == .unknownProposal(99))
        #expect(v2.ledger.state.rejections == ["unknown-proposal": 1])
        #expect(v2.digest == (try again.state.digest()))
    }

    @Test func anEditedRecordIsFoundByTheNextEntrysPrev() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try writeSample(path)
        try LogAttacker.rebuild(path) { LogAttacker.edit($0, 3, "participation-samples", "participation-sampleZ") }
        expectTampered(path, index: 3, "'prev' recorded in entry 4")
    }

    @Test func aDroppedRecordBreaksTheSequence() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try writeSample(path)
        try LogAttacker.rebuild(path) { e in var e = e; e.remove(at: 3); return e }
        expectTampered(path, index: 3, "sequence number 4, expected 3")
    }

    @Test func aReorderedPairBreaksTheSequence() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try writeSample(path)
        try LogAttacker.rebuild(path) { e in var e = e; e.swapAt(7, 8); return e }
        expectTampered(path, index: 7, "sequence number 8, expected 7")
    }

    @Test func aNaiveByteEditIsCaughtByTheLeafHash() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try writeSample(path)
        try LogAttacker.editBundle(path, entry: 9, replacing: #""round":2,"samples":100,"score_micros":3000"#,
                                   with: #""round":2,"samples":900,"score_micros":3000"#)
        expectTampered(path, index: 9, "does not hash to its leaf hash")
    }

    @Test func editingTheLastEntryIsCaughtByTheSignedRoot() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try writeSample(path)
        try LogAttacker.rebuild(path) { LogAttacker.edit($0, 10, "\"round\":2", "\"round\":3") }
        expectTampered(path, index: 6, "do not hash to the root signed at size 11")
    }

    @Test func truncationIsCaughtByTheCheckpointSize() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try writeSample(path)
        try LogAttacker.rebuild(path) { Array($0.dropLast(2)) }
        expectTampered(path, index: 9, "entries 9…10 were dropped")
    }

    @Test func checkpointsAndDirectoriesAreChecked() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try writeSample(path)
        let other = try NoteSigner(name: "test.example/ledger").verifierKey.description
        #expect { _ = try LedgerVerifier.verify(path: path, verifierKey: other) } throws: { e in
            guard case LedgerError.checkpoint(let m) = e else { return false }
            return m.contains("does not verify")
        }
        let log = try LogDirectory(path: path).open()
        try log.append([Array("unsigned".utf8)])
        #expect { _ = try LedgerVerifier.verify(path: path) } throws: { e in
            guard case LedgerError.checkpoint(let m) = e else { return false }
            return m.contains("not covered by a signed checkpoint")
        }
        #expect { _ = try LedgerVerifier.verify(path: path + "-missing") } throws: { e in
            guard case LedgerError.invalidDirectory = e else { return false }
            return true
        }
        #expect(throws: LedgerError.self) { _ = try LedgerWriter.create(path: path, origin: "x", genesis: f.genesis(), founder: f.coordinator) }
    }
}
