import MurmurCore
@testable import MurmurLedger
import MurmurLog

/// A seeded stream of plausible federation activity with invalid records mixed in: rounds (model
/// version, contributions, reward), proposals, votes, enactments, reputation and receipt digests, plus
/// bad signatures, unknown schemas, double votes, wrong rounds, over-budget and mismatched rewards.
/// The generator only guesses what the ledger will accept; replay decides.
struct MixedRecordGenerator {
    let f = LedgerFixture(memberCount: 8, seed: 42)
    /// Ed25519, or the fast test scheme (`TestSignatures`).
    let realSignatures: Bool
    /// Coordinator, verifier, outsider, then the members: identities by index.
    let ids: [Identity]
    /// Peer id and raw public key of each identity, computed once.
    let peers: [(id: String, key: [UInt8])]
    var rng: SeededRNG
    var records: [LedgerRecord] = []
    var round = 0
    let policy = RewardPolicy(budget: 1000, capPercent: 40, qualityThresholdMicros: 100_000, excess: .redistribute)
    var proposals: [(index: Int, first: Int, last: Int, effective: Int, enacted: Bool)] = []

    /// `count` records from `seed`.
    static func generate(count: Int, seed: UInt64, realSignatures: Bool = false) -> [LedgerRecord] {
        let f = LedgerFixture(memberCount: 8, seed: 42)
        let ids = [f.coordinator, f.verifier, f.outsider] + f.members
        let peers = ids.map { ($0.peerID.description, $0.publicKey.raw) }
        var g = MixedRecordGenerator(realSignatures: realSignatures, ids: ids, peers: peers, rng: SeededRNG(seed: seed))
        let params = FederationParameters(epsilonBudgetMicros: 1 << 50, clientsPerRound: 8, rewardBudget: g.policy.budget,
                                          rewardCapPercent: g.policy.capPercent, qualityThresholdMicros: g.policy.qualityThresholdMicros)
        g.records.append(g.sign(try! LedgerRecord.unsigned(g.f.genesis(parameters: params), author: g.peers[0].id), g.coordinator))
        while g.records.count < count { g.step() }
        return Array(g.records.prefix(count))
    }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { rng.nextDouble() < p }
    mutating func member() -> Int { 3 + int(f.members.count) }

    /// Signs `r` as identity `by` with the generator's scheme.
    func sign(_ r: LedgerRecord, _ by: Int) -> LedgerRecord {
        var x = r
        x.signature = realSignatures ? try! ids[by].sign(r.bytes) : TestSignatures.tag(key: peers[by].key, message: r.bytes)
        return x
    }

    let coordinator = 0, verifier = 1, outsider = 2
    var memberIDs: [String] { peers[3...].map(\.id) }

    /// Appends `body` signed by `by`; with probability 1% (unless `intact`) its signature is broken.
    mutating func emit<B: RecordBody>(_ body: B, _ by: Int, intact: Bool = false) {
        var r = sign(try! LedgerRecord.unsigned(body, author: peers[by].id), by)
        if !intact, chance(0.01) { r.signature[int(64)] ^= 1 }
        records.append(r)
    }

    mutating func step() {
        switch int(100) {
        case 0..<55: playRound()
        case 55..<60: propose()
        case 60..<75: votes()
        case 75..<85: enact()
        case 85..<92:
            let checked = int(50), failed = int(checked + 1)
            var rep = Reputation(device: memberIDs[int(8)], checked: checked, failed: failed, reasons: failed > 0 ? ["output-mismatch"] : [])
            if chance(0.1) { rep.delta += 1 }
            emit(rep, chance(0.9) ? verifier : member())
        case 92..<97:
            emit(ReceiptDigest(device: memberIDs[int(8)], count: 1 + int(20), digest: RFC9162.sha256(Array("r\(records.count)".utf8)).hex), member())
        default:
            let by = member()
            let schema = chance(0.5) ? "murmur.ledger.coin/1" : "murmur.ledger.vote/2"
            records.append(sign(LedgerRecord.unsigned(schema: schema, author: peers[by].id, body: .object(["proposal": .integer(Int64(int(records.count)))])), by))
        }
    }

    mutating func playRound() {
        if chance(0.03) {  // a round from the future
            emit(ModelVersion(round: round + 2, parent: f.cid(round + 1), model: f.cid(round + 2), strategy: "fedavg", epsilonMicros: 0,
                              participants: [memberIDs[0]]), coordinator)
        }
        round += 1
        var picked = Array(0..<8)
        for i in stride(from: 7, to: 0, by: -1) { picked.swapAt(i, int(i + 1)) }
        let participants = Array(picked.prefix(3 + int(4))).sorted()
        emit(ModelVersion(round: round, parent: f.cid(round - 1), model: f.cid(round), strategy: "fedavg", epsilonMicros: 1000,
                          participants: participants.map { memberIDs[$0] }), coordinator, intact: true)
        var contributions: [Contribution] = []
        for m in participants {
            let c = Contribution(round: round, peer: memberIDs[m], samples: 10 + int(500), scoreMicros: int(1_000_000),
                                 method: "participation-samples", anomalous: chance(0.05))
            contributions.append(c)
            emit(c, coordinator)
            if chance(0.03) { emit(c, coordinator) }  // duplicate
        }
        if chance(0.03), let outsider = picked.dropFirst(participants.count).first {
            emit(Contribution(round: round, peer: memberIDs[outsider], samples: 1, scoreMicros: 1, method: "loo"), coordinator)
        }
        let reward = policy.rewards(round: round, contributions: contributions)
        if chance(0.03), let p = reward.payouts.first {
            var wrong = reward
            wrong.payouts[0] = Payout(peer: p.peer, amount: p.amount + 1)
            wrong.burned -= 1
            emit(wrong, coordinator)
        }
        if chance(0.97) { emit(reward, coordinator) }
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
        emit(Proposal(changes: changes, votingRounds: window, effectiveRound: effective), chance(0.95) ? member() : coordinator)
    }

    mutating func votes() {
        guard let p = proposals.last(where: { $0.last >= round + 1 }) ?? proposals.last else { return }
        var voters = Array(0..<f.members.count)
        for i in stride(from: voters.count - 1, to: 0, by: -1) { voters.swapAt(i, int(i + 1)) }
        for m in voters.prefix(3 + int(6)) {
            let choice: VoteChoice = [.yes, .yes, .yes, .no, .abstain][int(5)]
            emit(Vote(proposal: p.index, choice: choice), chance(0.97) ? 3 + m : outsider)
            if chance(0.03) { emit(Vote(proposal: p.index, choice: .no), 3 + m) }  // double vote
        }
    }

    mutating func enact() {
        let early = chance(0.2)
        guard let i = proposals.indices.first(where: {
            !proposals[$0].enacted && (early || (proposals[$0].last < round + 1 && proposals[$0].effective > round + 1))
        }) else { return }
        proposals[i].enacted = true
        emit(Enactment(proposal: proposals[i].index), chance(0.5) ? member() : coordinator)
    }
}

/// A keyed-hash stand-in for Ed25519, SHA-256(key ‖ message) twice (64 bytes): replaying 10^5 records in a
/// debug build with real Ed25519 (about 1 ms per check at -O0) would take minutes. Not a signature scheme:
/// anyone can compute it. `realSignatureRunAgrees` shows it does not change what the ledger decides.
enum TestSignatures {
    static func tag(key: [UInt8], message: [UInt8]) -> [UInt8] {
        let h = RFC9162.sha256(key + message).bytes
        return h + h
    }

    static let check = SignatureCheck { key, message, signature in signature == tag(key: key.raw, message: message) }
}
