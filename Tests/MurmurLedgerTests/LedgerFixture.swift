import Foundation
import MurmurCore
@testable import MurmurLedger
import MurmurLog

/// A small federation with deterministic keys: one coordinator, `memberCount` members, a verifier and an outsider.
struct LedgerFixture {
    let coordinator: Identity
    let members: [Identity]
    let verifier: Identity
    let outsider: Identity

    init(memberCount: Int = 5, seed: UInt64 = 8) {
        var rng = SeededRNG(seed: seed)
        coordinator = Identity(deterministic: &rng)
        members = (0..<memberCount).map { _ in Identity(deterministic: &rng) }
        verifier = Identity(deterministic: &rng)
        outsider = Identity(deterministic: &rng)
    }

    func id(_ i: Identity) -> String { i.peerID.description }
    var memberIDs: [String] { members.map(id) }

    func genesis(voting: VotingRule = .oneMemberOneVote, parameters: FederationParameters = FederationParameters(clientsPerRound: 4)) -> Genesis {
        Genesis(federation: "test.example/ledger", members: memberIDs, coordinators: [id(coordinator)], verifiers: [id(verifier)],
                voting: voting, parameters: parameters, initialModel: cid(0))
    }

    /// A fake model CID for round r.
    func cid(_ r: Int) -> String { CID.raw(Array("model \(r)".utf8)).description }

    func sign<B: RecordBody>(_ body: B, _ by: Identity) -> LedgerRecord {
        try! LedgerRecord.sign(body, by: by)
    }

    /// The model-version record closing round r with the given participants (member indices).
    func modelVersion(_ r: Int, participants: [Int], epsilon: Int = 100_000) -> LedgerRecord {
        sign(ModelVersion(round: r, parent: cid(r - 1), model: cid(r), strategy: "fedavg", epsilonMicros: epsilon,
                          participants: participants.map { memberIDs[$0] }), coordinator)
    }

    func contribution(_ r: Int, _ m: Int, score: Int, anomalous: Bool = false) -> LedgerRecord {
        sign(Contribution(round: r, peer: memberIDs[m], samples: 100, scoreMicros: score, method: "participation-samples", anomalous: anomalous), coordinator)
    }
}

/// Appends records to an in-memory ledger, building the entry chain; returns the outcomes.
struct LedgerHarness {
    var ledger = Ledger()
    var entries: [[UInt8]] = []

    @discardableResult
    mutating func append(_ records: [LedgerRecord]) throws -> [RecordOutcome] {
        try records.map { r in
            let bytes = LedgerEntry(sequence: ledger.nextSequence, previous: ledger.head, record: r).encoded
            entries.append(bytes)
            return try ledger.apply(bytes)
        }
    }

    @discardableResult
    mutating func append(_ record: LedgerRecord) throws -> RecordOutcome { try append([record])[0] }

    var state: LedgerState { ledger.state }
}

/// A fresh temporary directory path (not created).
func temporaryPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("murmur-ledger-\(UUID().uuidString)").path
}
