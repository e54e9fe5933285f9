/// Why the state machine rejected a record. The record stays in the log; replay records the reason.
/// Why typed: every node must reject the same records for the same reason, and tools filter by `code`.
public enum RejectionReason: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The Ed25519 signature does not verify under the author's key (or the author is not an Ed25519 peer id).
    case badSignature
    /// The schema name or version is not one this build reads.
    case unknownSchema(String)
    /// The body does not have the schema's shape, or a value is out of range.
    case malformed(String)
    /// No valid genesis precedes this record (genesis must be entry 0).
    case noGenesis
    /// A second genesis.
    case duplicateGenesis
    /// The author lacks the role this record type needs ("coordinator", "member", "verifier").
    case unauthorized(role: String)
    /// A named peer is not a member.
    case notAMember(String)
    /// The record's round is not the one the ledger expects.
    case wrongRound(expected: Int, got: Int)
    /// A model-version's parent is not the current model.
    case wrongParent
    /// More participants than `clients_per_round`.
    case tooManyParticipants(limit: Int, got: Int)
    /// The round would spend more ε than the budget left.
    case privacyBudgetExceeded
    /// Already recorded (a second contribution for the same peer and round, a second reward for a round).
    case duplicate
    /// The peer did not take part in the round.
    case notAParticipant(String)
    /// The payouts add up to more than the round's budget.
    case overBudget(budget: Int, paid: Int)
    /// The payouts differ from what the reward policy gives for the round's contributions.
    case rewardMismatch
    /// No proposal at that log index.
    case unknownProposal(Int)
    /// The vote's round is outside the proposal's voting window.
    case outsideVotingWindow
    /// The member already voted on this proposal.
    case doubleVote
    /// The voter has no voting weight (no credits under the credits rule).
    case noVotingWeight
    /// The proposal is already enacted or failed.
    case alreadyDecided
    /// The voting window is still open.
    case votingOpen
    /// The effective round has already begun.
    case tooLate
    /// Too little of the voting weight voted.
    case quorumNotMet
    /// Not enough yes votes (simple threshold).
    case thresholdNotMet
    /// A privacy-weakening change without two thirds of yes votes.
    case supermajorityNotMet
    /// Fields contradict each other (e.g. a reputation delta that is not (checked − failed) − 20·failed).
    case inconsistent(String)

    /// A short stable code (`bad-signature`, `double-vote`, …) for filtering and JSON output.
    public var code: String {
        switch self {
        case .badSignature: "bad-signature"
        case .unknownSchema: "unknown-schema"
        case .malformed: "malformed"
        case .noGenesis: "no-genesis"
        case .duplicateGenesis: "duplicate-genesis"
        case .unauthorized: "unauthorized"
        case .notAMember: "not-a-member"
        case .wrongRound: "wrong-round"
        case .wrongParent: "wrong-parent"
        case .tooManyParticipants: "too-many-participants"
        case .privacyBudgetExceeded: "privacy-budget-exceeded"
        case .duplicate: "duplicate"
        case .notAParticipant: "not-a-participant"
        case .overBudget: "over-budget"
        case .rewardMismatch: "reward-mismatch"
        case .unknownProposal: "unknown-proposal"
        case .outsideVotingWindow: "outside-voting-window"
        case .doubleVote: "double-vote"
        case .noVotingWeight: "no-voting-weight"
        case .alreadyDecided: "already-decided"
        case .votingOpen: "voting-open"
        case .tooLate: "too-late"
        case .quorumNotMet: "quorum-not-met"
        case .thresholdNotMet: "threshold-not-met"
        case .supermajorityNotMet: "supermajority-not-met"
        case .inconsistent: "inconsistent"
        }
    }

    public var description: String {
        switch self {
        case .badSignature: "the signature does not verify under the author's key"
        case .unknownSchema(let s): "unknown schema '\(s)'"
        case .malformed(let m): "malformed body: \(m)"
        case .noGenesis: "no valid genesis record at entry 0"
        case .duplicateGenesis: "a second genesis record"
        case .unauthorized(let role): "the author is not a \(role)"
        case .notAMember(let p): "\(p) is not a member"
        case .wrongRound(let e, let g): "round \(g), expected \(e)"
        case .wrongParent: "the parent is not the current model"
        case .tooManyParticipants(let l, let g): "\(g) participants, at most \(l) per round"
        case .privacyBudgetExceeded: "the round would exceed the ε budget"
        case .duplicate: "already recorded"
        case .notAParticipant(let p): "\(p) did not take part in the round"
        case .overBudget(let b, let p): "pays \(p) credits, the round's budget is \(b)"
        case .rewardMismatch: "the payouts differ from the reward policy's"
        case .unknownProposal(let i): "no proposal at entry \(i)"
        case .outsideVotingWindow: "the vote is outside the proposal's voting window"
        case .doubleVote: "the member already voted on this proposal"
        case .noVotingWeight: "the voter has no voting weight"
        case .alreadyDecided: "the proposal is already decided"
        case .votingOpen: "the voting window is still open"
        case .tooLate: "the effective round has already begun"
        case .quorumNotMet: "the quorum was not met"
        case .thresholdNotMet: "not enough yes votes"
        case .supermajorityNotMet: "a privacy-weakening change needs two thirds of yes votes"
        case .inconsistent(let m): "inconsistent fields: \(m)"
        }
    }
}

/// Errors of the ledger's storage and verification (not record rejections, which are data).
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An entry's bytes are not a ledger entry.
    case malformedEntry(String)
    /// The log was tampered with or damaged: the first bad entry's index and why.
    case tampered(index: UInt64, reason: String)
    /// The log's checkpoints are missing, unsigned or do not match the entries.
    case checkpoint(String)
    /// The directory does not hold a ledger, or cannot be used.
    case invalidDirectory(String)
    /// A record could not be written.
    case write(String)
    /// The log's storage failed or is corrupt before any entry could be read.
    case storage(String)

    public var description: String {
        switch self {
        case .malformedEntry(let m): "not a ledger entry: \(m)"
        case .tampered(let i, let r): "entry \(i): \(r)"
        case .checkpoint(let m): "checkpoint: \(m)"
        case .invalidDirectory(let m): m
        case .write(let m): "cannot write the ledger: \(m)"
        case .storage(let m): "log storage: \(m)"
        }
    }
}
