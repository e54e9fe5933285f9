import MurmurCore
import MurmurLog

/// What replay decided about one entry.
public struct RecordOutcome: Sendable, Equatable {
    /// The entry's log index.
    public var index: UInt64
    /// The record's schema name as written.
    public var schema: String
    /// The author's peer id as written.
    public var author: String
    /// Nil when accepted; otherwise why it was rejected.
    public var rejection: RejectionReason?
    /// True when the state machine applied the record.
    public var accepted: Bool { rejection == nil }
}

/// The ledger's deterministic state machine: entries in, state and outcomes out, no I/O.
/// Every node that replays the same entries from genesis reaches the same `state` (and digest).
/// An entry that breaks the chain (`seq`, `prev`) is an error: the log itself is damaged. A record
/// that is well placed but invalid is kept and rejected with a `RejectionReason`.
public struct Ledger: Sendable {
    /// The replayed state.
    public internal(set) var state = LedgerState()
    /// SHA-256 of the last entry's bytes (what the next entry's `prev` must be).
    public internal(set) var head = LogHash.zero
    let signatures: SignatureCheck
    var members: Set<String> = []
    var coordinators: Set<String> = []
    var verifiers: Set<String> = []
    /// Keys of the federation's peers, parsed once from their peer ids.
    var keys: [String: PublicIdentity] = [:]

    /// An empty ledger, before genesis, checking signatures with `signatureCheck` (Ed25519 unless testing).
    public init(signatureCheck: SignatureCheck = .ed25519) { signatures = signatureCheck }

    /// The next entry's index.
    public var nextSequence: UInt64 { UInt64(state.entries) }

    /// Applies one entry's bytes: checks its place in the chain, then accepts or rejects its record.
    /// Throws `.tampered` (the log is damaged; nothing is applied) when `seq` or `prev` is wrong.
    @discardableResult
    public mutating func apply(_ bytes: [UInt8]) throws(LedgerError) -> RecordOutcome {
        let index = nextSequence
        let parts: (sequence: UInt64, previous: LogHash, signature: [UInt8], record: [UInt8])
        do { parts = try LedgerEntry.split(bytes) } catch { throw .tampered(index: index, reason: error.description) }
        guard parts.sequence == index else {
            throw .tampered(index: index, reason: "sequence number \(parts.sequence), expected \(index): an entry was dropped, inserted or reordered")
        }
        guard parts.previous == head else {
            guard index > 0 else { throw .tampered(index: 0, reason: "entry 0's 'prev' must be all zeros") }
            throw .tampered(index: index - 1, reason: "the entry was changed: its hash is not the 'prev' recorded in entry \(index)")
        }
        head = LedgerEntry.hash(bytes)
        var outcome = RecordOutcome(index: index, schema: "", author: "", rejection: nil)
        do {
            let record = try LedgerRecord(bytes: parts.record, signature: parts.signature)
            outcome.schema = record.schema
            outcome.author = record.author
            try accept(record, index: Int(index))
        } catch {
            outcome.rejection = error
        }
        state.entries += 1
        if let r = outcome.rejection { state.rejections[r.code, default: 0] += 1 } else { state.accepted += 1 }
        return outcome
    }

    mutating func accept(_ record: LedgerRecord, index: Int) throws(RejectionReason) {
        guard let kind = record.kind else { throw .unknownSchema(record.schema) }
        guard let key = key(of: record.author), signatures.isValid(key: key, message: record.bytes, signature: record.signature) else {
            throw .badSignature
        }
        if kind == .genesis {
            guard !state.started else { throw .duplicateGenesis }
            guard index == 0 else { throw .noGenesis }
        } else {
            guard state.started else { throw .noGenesis }
        }
        let a = record.author
        switch kind {
        case .genesis: try applyGenesis(try body(record, Genesis.self))
        case .modelVersion: try applyModelVersion(try body(record, ModelVersion.self), author: a)
        case .contribution: try applyContribution(try body(record, Contribution.self), author: a)
        case .reward: try applyReward(try body(record, Reward.self), author: a)
        case .proposal: try applyProposal(try body(record, Proposal.self), author: a, index: index)
        case .vote: try applyVote(try body(record, Vote.self), author: a)
        case .enactment: try applyEnactment(try body(record, Enactment.self), author: a)
        case .reputation: try applyReputation(try body(record, Reputation.self), author: a)
        case .receiptDigest: try applyReceiptDigest(try body(record, ReceiptDigest.self), author: a)
        }
    }

    /// The author's key, cached for the federation's own peers (others are parsed each time, so that
    /// records from arbitrary authors cannot grow the cache).
    mutating func key(of author: String) -> PublicIdentity? {
        if let k = keys[author] { return k }
        guard let k = (try? PeerID(author))?.publicKey else { return nil }
        if members.contains(author) || coordinators.contains(author) || verifiers.contains(author) { keys[author] = k }
        return k
    }

    /// The typed body; the record's bytes must be exactly the canonical encoding of it, so a body with
    /// fields this schema version does not define (or `null` for an absent field) is rejected, not half-read.
    func body<B: RecordBody>(_ record: LedgerRecord, _ type: B.Type) throws(RejectionReason) -> B {
        guard let b = record.decode(B.self) else { throw .malformed("not a \(B.kind.schema) body") }
        guard let canonical = try? LedgerRecord.unsigned(b, author: record.author), canonical.bytes == record.bytes else {
            throw .malformed("not the canonical encoding of a \(B.kind.schema) body (unknown fields, nulls or extra whitespace)")
        }
        return b
    }

    func require(_ ok: Bool, _ role: String) throws(RejectionReason) {
        guard ok else { throw .unauthorized(role: role) }
    }

    static let maxScoreMicros = 1_000_000_000_000
    static let maxPeers = 100_000

    // MARK: - Genesis, rounds, rewards

    mutating func applyGenesis(_ g: Genesis) throws(RejectionReason) {
        if let p = g.parameters.problem { throw .malformed(p) }
        guard !g.members.isEmpty, g.members.count <= Self.maxPeers, !g.coordinators.isEmpty else {
            throw .malformed("genesis needs 1…\(Self.maxPeers) members and at least one coordinator")
        }
        for list in [g.members, g.coordinators, g.verifiers] {
            guard Set(list).count == list.count else { throw .malformed("duplicate peer ids") }
            for p in list where (try? PeerID(p))?.publicKey == nil { throw .malformed("'\(p)' is not an Ed25519 peer id") }
        }
        if let m = g.initialModel { guard (try? CID(m)) != nil else { throw .malformed("initial_model is not a CID") } }
        state.started = true
        state.federation = g.federation
        state.members = g.members.sorted()
        state.coordinators = g.coordinators.sorted()
        state.verifiers = g.verifiers.sorted()
        state.voting = g.voting
        state.parameters = g.parameters
        state.model = g.initialModel
        members = Set(g.members); coordinators = Set(g.coordinators); verifiers = Set(g.verifiers)
    }

    mutating func applyModelVersion(_ m: ModelVersion, author: String) throws(RejectionReason) {
        try require(coordinators.contains(author), "coordinator")
        guard m.round == state.round + 1 else { throw .wrongRound(expected: state.round + 1, got: m.round) }
        guard m.parent == state.model else { throw .wrongParent }
        guard (try? CID(m.model)) != nil else { throw .malformed("model is not a CID") }
        guard !m.strategy.isEmpty, m.epsilonMicros >= 0, m.epsilonMicros <= Self.maxScoreMicros else {
            throw .malformed("strategy must be named and epsilon_micros in 0…10^12")
        }
        let sorted = m.participants.sorted()
        guard zip(sorted, sorted.dropFirst()).allSatisfy({ $0 != $1 }) else { throw .malformed("duplicate participants") }
        if let p = sorted.first(where: { !members.contains($0) }) { throw .notAMember(p) }
        var params = state.parameters
        let due = state.scheduled.filter { $0.effectiveRound <= m.round }
        for c in due { params = params.applying(c.changes) }
        guard sorted.count <= params.clientsPerRound else { throw .tooManyParticipants(limit: params.clientsPerRound, got: sorted.count) }
        guard state.epsilonSpentMicros + m.epsilonMicros <= params.epsilonBudgetMicros else { throw .privacyBudgetExceeded }
        state.parameters = params
        state.scheduled.removeAll { $0.effectiveRound <= m.round }
        state.round = m.round
        state.model = m.model
        state.epsilonSpentMicros += m.epsilonMicros
        state.openRound = OpenRound()
        state.openRound.participants = sorted
    }

    mutating func applyContribution(_ c: Contribution, author: String) throws(RejectionReason) {
        try require(coordinators.contains(author), "coordinator")
        guard state.round > 0, c.round == state.round else { throw .wrongRound(expected: state.round, got: c.round) }
        guard c.samples >= 0, (0...Self.maxScoreMicros).contains(c.scoreMicros), !c.method.isEmpty else {
            throw .malformed("samples ≥ 0, score_micros in 0…10^12 and a method are required")
        }
        guard !state.openRound.rewarded else { throw .inconsistent("round \(c.round) is already rewarded") }
        guard state.openRound.participants.binarySearchContains(c.peer) else { throw .notAParticipant(c.peer) }
        guard state.openRound.contributions[c.peer] == nil else { throw .duplicate }
        state.openRound.contributions[c.peer] = c
    }

    mutating func applyReward(_ r: Reward, author: String) throws(RejectionReason) {
        try require(coordinators.contains(author), "coordinator")
        guard state.round > 0, r.round == state.round else { throw .wrongRound(expected: state.round, got: r.round) }
        guard !state.openRound.rewarded else { throw .duplicate }
        let budget = state.parameters.rewardBudget
        var paid = 0
        for p in r.payouts {
            guard p.amount > 0, p.amount <= budget else { throw .overBudget(budget: budget, paid: p.amount) }
            paid += p.amount
            guard paid <= budget else { throw .overBudget(budget: budget, paid: paid) }
        }
        let policy = RewardPolicy(state.parameters)
        let expected = policy.rewards(round: r.round, contributions: Array(state.openRound.contributions.values))
        guard expected == r else { throw .rewardMismatch }
        for p in r.payouts { state.balances[p.peer, default: 0] += p.amount }
        state.minted += paid
        state.burned += r.burned
        state.openRound.rewarded = true
    }

    // MARK: - Verification records

    mutating func applyReputation(_ r: Reputation, author: String) throws(RejectionReason) {
        try require(verifiers.contains(author) || coordinators.contains(author), "verifier")
        guard r.checked >= 0, r.failed >= 0, r.failed <= r.checked, r.checked <= 1 << 40 else {
            throw .malformed("need 0 ≤ failed ≤ checked ≤ 2^40")
        }
        guard r.reasons == Array(Set(r.reasons)).sorted() else { throw .malformed("reasons must be sorted and unique") }
        let want = Reputation.expectedDelta(checked: r.checked, failed: r.failed)
        guard r.delta == want else { throw .inconsistent("delta \(r.delta), (checked − failed) − 20·failed is \(want)") }
        guard (try? PeerID(r.device)) != nil else { throw .malformed("device is not a peer id") }
        state.reputation[r.device, default: 0] += r.delta
    }

    mutating func applyReceiptDigest(_ d: ReceiptDigest, author: String) throws(RejectionReason) {
        try require(members.contains(author) || coordinators.contains(author) || verifiers.contains(author), "member")
        guard d.count > 0, d.count <= 1 << 40, d.digest.count == 64, (try? Multibase.decodeHex(d.digest)) != nil else {
            throw .malformed("count ≥ 1 and a 64-hex-digit digest are required")
        }
        guard (try? PeerID(d.device)) != nil else { throw .malformed("device is not a peer id") }
        state.receipts[d.device, default: 0] += d.count
    }
}

extension Array where Element == String {
    /// Membership in a sorted array, O(log n).
    func binarySearchContains(_ x: String) -> Bool {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo < count && self[lo] == x
    }
}
