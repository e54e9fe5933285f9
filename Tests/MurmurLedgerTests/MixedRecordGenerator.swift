import MurmurCore
@testable import MurmurLedger
import MurmurLog

/// A seeded stream of plausible federation activity with invalid records mixed in: rounds (model
/// version, contributions, reward), proposals, votes, enactments, reputation and receipt digests, plus
/// bad signatures, unknown schemas, double votes, wrong rounds, over-budget and mismatched rewards.
/// The generator only guesses what the ledger will accept; replay decides.
struct MixedRecordGenerator {
    let f = LedgerFixture(memberCount: 8, seed: 42)
    var rng: SeededRNG
    var records: [LedgerRecord] = []
    var round = 0
    let policy = RewardPolicy(budget: 1000, capPercent: 40, qualityThresholdMicros: 100_000, excess: .redistribute)
    var proposals: [(index: Int, first: Int, last: Int, effective: Int, enacted: Bool)] = []

    /// `count` records from `seed`.
    static func generate(count: Int, seed: UInt64) -> [LedgerRecord] {
        var g = MixedRecordGenerator(rng: SeededRNG(seed: seed))
        let params = FederationParameters(epsilonBudgetMicros: 1 << 50, clientsPerRound: 8, rewardBudget: g.policy.budget,
                                          rewardCapPercent: g.policy.capPercent, qualityThresholdMicros: g.policy.qualityThresholdMicros)
        g.records.append(g.f.sign(g.f.genesis(parameters: params), g.f.coordinator))
        while g.records.count < count { g.step() }
        return Array(g.records.prefix(count))
    }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { rng.nextDouble() < p }
    mutating func member() -> Identity { f.members[int(f.members.count)] }

    mutating func emit<B: RecordBody>(_ body: B, _ by: Identity) {
        var r = f.sign(body, by)
        if chance(0.01) { r.signature[int(64)] ^= 1 }  // bad signature
        records.append(r)
    }

    mutating func step() {
        switch int(100) {
        case 0..<55: playRound()
        case 55..<62: propose()
        case 62..<80: votes()
        case 80..<85: enact()
        case 85..<92:
            let checked = int(50), failed = int(checked + 1)
            var rep = Reputation(device: f.memberIDs[int(8)], checked: checked, failed: failed, reasons: failed > 0 ? ["output-mismatch"] : [])
            if chance(0.1) { rep.delta += 1 }
            emit(rep, chance(0.9) ? f.verifier : member())
        case 92..<97:
            emit(ReceiptDigest(device: f.memberIDs[int(8)], count: 1 + int(20), digest: RFC9162.sha256(Array("r\(records.count)".utf8)).hex), member())
        default:
            var r = f.sign(Vote(proposal: int(records.count), choice: .yes), member())
            r.schema = chance(0.5) ? "murmur.ledger.coin/1" : "murmur.ledger.vote/2"
            records.append(r)
        }
    }

    mutating func playRound() {
        if chance(0.03) { emit(f.modelVersion(round + 2, participants: [0]).decode(ModelVersion.self)!, f.coordinator) }
        round += 1
        var picked = Array(0..<8)
        for i in stride(from: 7, to: 0, by: -1) { picked.swapAt(i, int(i + 1)) }
        let participants = Array(picked.prefix(3 + int(4))).sorted()
        emit(ModelVersion(round: round, parent: f.cid(round - 1), model: f.cid(round), strategy: "fedavg", epsilonMicros: 1000,
                          participants: participants.map { f.memberIDs[$0] }), f.coordinator)
        var contributions: [Contribution] = []
        for m in participants {
            let c = Contribution(round: round, peer: f.memberIDs[m], samples: 10 + int(500), scoreMicros: int(1_000_000),
                                 method: "participation-samples", anomalous: chance(0.05))
            contributions.append(c)
            emit(c, f.coordinator)
            if chance(0.03) { emit(c, f.coordinator) }  // duplicate
        }
        if chance(0.03), let outsider = picked.dropFirst(participants.count).first {
            emit(Contribution(round: round, peer: f.memberIDs[outsider], samples: 1, scoreMicros: 1, method: "loo"), f.coordinator)
        }
        let reward = policy.rewards(round: round, contributions: contributions)
        if chance(0.03), let p = reward.payouts.first {
            var wrong = reward
            wrong.payouts[0] = Payout(peer: p.peer, amount: p.amount + 1)
            wrong.burned -= 1
            emit(wrong, f.coordinator)
        }
        if chance(0.97) { emit(reward, f.coordinator) }
    }

    mutating func propose() {
        let changes: ParameterChanges
        switch int(3) {
        case 0: changes = ParameterChanges(quorumPercent: 30 + int(40))
        case 1: changes = ParameterChanges(clipNormMilli: 500 + int(1000))
        default: changes = ParameterChanges(witnesses: ["w\(int(5))+00000000+AQ"])
        }
        let window = 1 + int(3), first = round + 1
        let effective = first + window + int(3)
        proposals.append((records.count, first, first + window - 1, effective, false))
        emit(Proposal(changes: changes, votingRounds: window, effectiveRound: effective), chance(0.95) ? member() : f.coordinator)
    }

    mutating func votes() {
        guard !proposals.isEmpty else { return }
        let p = proposals[proposals.count - 1 - int(min(3, proposals.count))]
        for _ in 0..<(1 + int(4)) {
            let choice: VoteChoice = [.yes, .yes, .yes, .no, .abstain][int(5)]
            emit(Vote(proposal: p.index, choice: choice), chance(0.97) ? member() : f.outsider)
        }
    }

    mutating func enact() {
        guard let i = proposals.indices.last(where: { !proposals[$0].enacted && proposals[$0].last < round + (chance(0.2) ? 2 : 1) }) else { return }
        proposals[i].enacted = true
        emit(Enactment(proposal: proposals[i].index), chance(0.5) ? member() : f.coordinator)
    }
}
