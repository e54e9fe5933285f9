import Foundation
import MurmurCore
@testable import MurmurLedger
import MurmurLog
import MurmurTestSupport
import Testing

/// The writer the simulation uses: one batch and one checkpoint per round, the policy's reward included.
@Suite(.ownThreads) struct LedgerWriterTests {
    let f = LedgerFixture()

    @Test func recordRoundWritesVersionContributionsAndReward() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var params = FederationParameters(epsilonBudgetMicros: FixedPoint.micros(1), clientsPerRound: 4)
        params.qualityThresholdMicros = 100_000
        let w = try LedgerWriter.create(path: path, origin: "test.example/writer", genesis: f.genesis(parameters: params), founder: f.coordinator)
        let version = ModelVersion(round: 1, parent: f.cid(0), model: f.cid(1), strategy: "krum", epsilonMicros: FixedPoint.micros(0.6),
                                   participants: Array(f.memberIDs.prefix(3)))
        let scores = [
            Contribution.scored(round: 1, peer: f.memberIDs[0], samples: 100, score: 0.5, method: "leave-one-out"),
            Contribution.scored(round: 1, peer: f.memberIDs[1], samples: 100, score: -0.2, method: "leave-one-out"),
            Contribution.scored(round: 1, peer: f.memberIDs[2], samples: 100, score: 0.9, method: "leave-one-out", anomalous: true),
        ]
        let (outcomes, reward) = try w.recordRound(version, contributions: scores, coordinator: f.coordinator)
        #expect(outcomes.count == 5 && outcomes.allSatisfy { $0.accepted })
        #expect(reward.payouts == [Payout(peer: f.memberIDs[0], amount: 250)])
        #expect(w.state.balances == [f.memberIDs[0]: 250])
        let note = try Note(parsing: w.latestCheckpoint())
        #expect(try Checkpoint(text: note.text).size == 6, "genesis + 5")

        // The next round would overspend ε: the writer still appends it, and the outcome says why.
        let over = ModelVersion(round: 2, parent: f.cid(1), model: f.cid(2), strategy: "krum", epsilonMicros: FixedPoint.micros(0.6),
                                participants: [f.memberIDs[0]])
        let (o2, _) = try LedgerWriter(path: path).recordRound(over, contributions: [], coordinator: f.coordinator)
        #expect(o2.first?.rejection == .privacyBudgetExceeded)
        #expect(o2.last?.rejection == .wrongRound(expected: 1, got: 2))
        let v = try LedgerVerifier.verify(path: path)
        #expect(v.ledger.state.round == 1 && v.ledger.state.entries == 8)
    }
}
