/// How voting weight is counted; fixed at genesis.
public enum VotingRule: String, Codable, Sendable, CaseIterable {
    /// Every member has weight 1.
    case oneMemberOneVote = "one-member-one-vote"
    /// A member's weight is its credit balance when it votes.
    case credits
}

/// `murmur.ledger.genesis/1`: the federation's constitution, entry 0 of the log.
public struct Genesis: RecordBody {
    /// The record type this body belongs to.
    public static let kind = RecordKind.genesis
    /// The federation's name (for humans; usually the log origin).
    public var federation: String
    /// Initial members (peer ids): they may propose, vote, and receive contributions and rewards.
    public var members: [String]
    /// Peer ids allowed to write model-version, contribution and reward records.
    public var coordinators: [String]
    /// Peer ids allowed to write reputation records (spot-checking verifiers, MurmurVerify).
    public var verifiers: [String]
    /// How votes are weighed.
    public var voting: VotingRule
    /// The initial parameters (witness set included).
    public var parameters: FederationParameters
    /// The CID of the initial model, if there is one.
    public var initialModel: String?

    /// A body from its fields.
    public init(federation: String, members: [String], coordinators: [String], verifiers: [String] = [],
                voting: VotingRule = .oneMemberOneVote, parameters: FederationParameters = .init(), initialModel: String? = nil) {
        self.federation = federation; self.members = members; self.coordinators = coordinators; self.verifiers = verifiers
        self.voting = voting; self.parameters = parameters; self.initialModel = initialModel
    }
}

/// `murmur.ledger.model-version/1`: a coordinator publishes the model after round `round`.
public struct ModelVersion: RecordBody {
    /// The record type this body belongs to.
    public static let kind = RecordKind.modelVersion
    /// The round this model closes; rounds count 1, 2, … without gaps.
    public var round: Int
    /// The CID of the model it was trained from (nil only when the ledger has no model yet).
    public var parent: String?
    /// The CID of the new model.
    public var model: String
    /// The aggregation strategy (e.g. "fedavg", "krum").
    public var strategy: String
    /// ε spent in this round, in millionths.
    public var epsilonMicros: Int
    /// The peer ids whose updates were aggregated.
    public var participants: [String]

    /// A body from its fields.
    public init(round: Int, parent: String?, model: String, strategy: String, epsilonMicros: Int, participants: [String]) {
        self.round = round; self.parent = parent; self.model = model; self.strategy = strategy
        self.epsilonMicros = epsilonMicros; self.participants = participants
    }
}

/// `murmur.ledger.contribution/1`: a coordinator's score for one participant of the current round.
public struct Contribution: RecordBody {
    /// The record type this body belongs to.
    public static let kind = RecordKind.contribution
    /// The round (must be the current one).
    public var round: Int
    /// The participant's peer id.
    public var peer: String
    /// Training samples the participant reported.
    public var samples: Int
    /// The score in millionths (≥ 0; larger is better).
    public var scoreMicros: Int
    /// How it was scored: "participation-samples", "leave-one-out", "gtg-shapley", "group", ….
    public var method: String
    /// Flagged by robust aggregation's anomaly scores: such a client is paid nothing.
    public var anomalous: Bool

    /// A body from its fields.
    public init(round: Int, peer: String, samples: Int, scoreMicros: Int, method: String, anomalous: Bool = false) {
        self.round = round; self.peer = peer; self.samples = samples; self.scoreMicros = scoreMicros
        self.method = method; self.anomalous = anomalous
    }
}

/// One payment of a reward record.
public struct Payout: Codable, Sendable, Equatable, Hashable {
    /// The payee's peer id.
    public var peer: String
    /// Credits paid (> 0).
    public var amount: Int
    /// A body from its fields.
    public init(peer: String, amount: Int) { self.peer = peer; self.amount = amount }
}

/// `murmur.ledger.reward/1`: a coordinator pays the current round's budget; replay recomputes it.
public struct Reward: RecordBody {
    /// The record type this body belongs to.
    public static let kind = RecordKind.reward
    /// The round (must be the current one, rewarded once).
    public var round: Int
    /// Payments sorted by peer id, exactly what `RewardPolicy` gives for the round's contributions.
    public var payouts: [Payout]
    /// Credits not paid (dust from integer division, burned excess, ineligible clients' share).
    public var burned: Int

    /// A body from its fields.
    public init(round: Int, payouts: [Payout], burned: Int) { self.round = round; self.payouts = payouts; self.burned = burned }
}

/// `murmur.ledger.proposal/1`: a member proposes parameter changes; its log index is its id.
public struct Proposal: RecordBody {
    /// The record type this body belongs to.
    public static let kind = RecordKind.proposal
    /// The changes.
    public var changes: ParameterChanges
    /// Votes are accepted in rounds current…current+votingRounds−1.
    public var votingRounds: Int
    /// The first round the change applies to (after the window).
    public var effectiveRound: Int
    /// Why (free text, for humans).
    public var rationale: String

    /// A body from its fields.
    public init(changes: ParameterChanges, votingRounds: Int, effectiveRound: Int, rationale: String = "") {
        self.changes = changes; self.votingRounds = votingRounds; self.effectiveRound = effectiveRound; self.rationale = rationale
    }
}

/// A vote's choice.
public enum VoteChoice: String, Codable, Sendable, CaseIterable {
    /// For the change.
    case yes
    /// Against the change.
    case no
    /// Counts toward the quorum only.
    case abstain
}

/// `murmur.ledger.vote/1`: a member votes once on an open proposal.
public struct Vote: RecordBody {
    /// The record type this body belongs to.
    public static let kind = RecordKind.vote
    /// The proposal's log index.
    public var proposal: Int
    /// Yes, no or abstain (abstain counts for quorum only).
    public var choice: VoteChoice

    /// A body from its fields.
    public init(proposal: Int, choice: VoteChoice) { self.proposal = proposal; self.choice = choice }
}

/// `murmur.ledger.enactment/1`: after the window, anyone asks replay to tally a proposal.
public struct Enactment: RecordBody {
    /// The record type this body belongs to.
    public static let kind = RecordKind.enactment
    /// The proposal's log index.
    public var proposal: Int
    /// A body from its fields.
    public init(proposal: Int) { self.proposal = proposal }
}

/// `murmur.ledger.reputation/1`: a verifier's spot-check summary for one device, with the fields of
/// MurmurVerify's `ReputationRecord` (delta = (checked − failed) − 20·failed).
public struct Reputation: RecordBody {
    /// The record type this body belongs to.
    public static let kind = RecordKind.reputation
    /// The device's peer id.
    public var device: String
    /// Receipts re-executed.
    public var checked: Int
    /// Receipts rejected.
    public var failed: Int
    /// Rejection codes seen (sorted, unique).
    public var reasons: [String]
    /// Reputation delta in integer points.
    public var delta: Int

    /// A body from its fields.
    public init(device: String, checked: Int, failed: Int, reasons: [String]) {
        self.device = device; self.checked = checked; self.failed = failed; self.reasons = reasons
        self.delta = Self.expectedDelta(checked: checked, failed: failed)
    }

    /// +1 per accepted check, −20 per failure (MurmurVerify.ReputationRecord).
    public static func expectedDelta(checked: Int, failed: Int) -> Int { (checked - failed) - 20 * failed }
}

/// `murmur.ledger.receipt-digest/1`: the SHA-256 over a batch of inference receipts (MurmurVerify),
/// so a verifier can later prove which receipts existed.
public struct ReceiptDigest: RecordBody {
    /// The record type this body belongs to.
    public static let kind = RecordKind.receiptDigest
    /// The device that issued the receipts.
    public var device: String
    /// How many receipts.
    public var count: Int
    /// 64 hex digits.
    public var digest: String

    /// A body from its fields.
    public init(device: String, count: Int, digest: String) { self.device = device; self.count = count; self.digest = digest }
}
