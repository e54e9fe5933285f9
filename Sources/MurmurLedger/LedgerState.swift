import MurmurCore
import MurmurLog

/// Everything replay derives from the log: what every node must agree on, digested for comparison.
/// Why a plain value: two nodes compare `digest` (SHA-256 of the canonical JSON) instead of trusting each other.
public struct LedgerState: Codable, Sendable, Equatable {
    /// The federation's name (from genesis; empty before it).
    public var federation = ""
    /// True once a valid genesis is applied.
    public var started = false
    /// The last round closed by a model-version record (0 before the first).
    public var round = 0
    /// The CID of the current model.
    public var model: String?
    /// The parameters in effect for the current round.
    public var parameters = FederationParameters()
    /// Enacted changes waiting for their effective round, in enactment order.
    public var scheduled: [ScheduledChange] = []
    /// How votes are weighed.
    public var voting = VotingRule.oneMemberOneVote
    /// Members (sorted).
    public var members: [String] = []
    /// Coordinators (sorted).
    public var coordinators: [String] = []
    /// Verifiers (sorted).
    public var verifiers: [String] = []
    /// Credits per peer id (only non-zero balances).
    public var balances: [String: Int] = [:]
    /// Reputation points per peer id.
    public var reputation: [String: Int] = [:]
    /// ε spent so far, in millionths.
    public var epsilonSpentMicros = 0
    /// Credits paid so far.
    public var minted = 0
    /// Credits of round budgets not paid.
    public var burned = 0
    /// Receipts digested per device.
    public var receipts: [String: Int] = [:]
    /// The open round: its participants and the contributions recorded for it.
    public var openRound = OpenRound()
    /// Proposals by their log index (decimal string keys, for JSON).
    public var proposals: [String: ProposalState] = [:]
    /// Entries replayed.
    public var entries = 0
    /// Records accepted.
    public var accepted = 0
    /// Rejections by reason code.
    public var rejections: [String: Int] = [:]

    /// An empty state, before genesis.
    public init() {}

    /// The canonical JSON of the state (snake_case keys, sorted).
    public func canonicalJSON() throws -> [UInt8] { try LedgerJSON.encode(self) }

    /// SHA-256 over the canonical JSON of the state, hex.
    public func digest() throws -> String { RFC9162.sha256(try canonicalJSON()).hex }
}

/// An enacted change and the round from which it applies.
public struct ScheduledChange: Codable, Sendable, Equatable {
    /// The proposal's log index.
    public var proposal: Int
    /// The first round it applies to.
    public var effectiveRound: Int
    /// The changes.
    public var changes: ParameterChanges
}

/// The round being scored and rewarded: set by a model-version record, closed by the next one.
public struct OpenRound: Codable, Sendable, Equatable {
    /// Its participants (sorted).
    public var participants: [String] = []
    /// Accepted contributions by peer id.
    public var contributions: [String: Contribution] = [:]
    /// True once its reward record is accepted.
    public var rewarded = false
    /// An empty open round.
    public init() {}
}

/// A proposal's life: open for votes, then enacted.
public struct ProposalState: Codable, Sendable, Equatable {
    /// Its status (a failed tally is a rejected enactment and changes nothing, so there is no "failed").
    public enum Status: String, Codable, Sendable {
        /// Taking votes, or waiting for its enactment.
        case open
        /// Tallied and scheduled.
        case enacted
    }
    /// The proposal.
    public var proposal: Proposal
    /// The proposer.
    public var author: String
    /// Votes are accepted in rounds first…last.
    public var firstRound: Int
    /// The last round of the window.
    public var lastRound: Int
    /// Total voting weight when it was proposed (the quorum's base).
    public var totalWeight: Int
    /// Weight voting yes, no and abstain.
    public var yes = 0, no = 0, abstain = 0
    /// Who voted what (a dictionary, so its JSON is canonical).
    public var voters: [String: VoteChoice] = [:]
    /// Status.
    public var status = Status.open
}
