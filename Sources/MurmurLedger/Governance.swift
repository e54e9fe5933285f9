/// Governance: proposals, votes and enactments under quorum, threshold and supermajority rules.
///
/// Rounds: `state.round` is the last closed round, so round `state.round + 1` is in progress. A
/// proposal made during round p with `voting_rounds` w takes votes during rounds p…p+w−1, can be
/// enacted from round p+w on, and before its `effective_round` (≥ p+w+1) begins; the change then
/// applies from that round's model-version record on (docs/ledger.md, "Governance").
extension Ledger {
    /// The round in progress.
    var roundInProgress: Int { state.round + 1 }

    /// A voter's weight now: 1 per member, or the member's credits under the credits rule.
    func weight(of peer: String) -> Int {
        switch state.voting {
        case .oneMemberOneVote: return 1
        case .credits: return state.balances[peer, default: 0]
        }
    }

    /// The total voting weight now (the quorum's base).
    var totalWeight: Int {
        switch state.voting {
        case .oneMemberOneVote: return members.count
        case .credits: return state.members.reduce(0) { $0 + state.balances[$1, default: 0] }
        }
    }

    mutating func applyProposal(_ p: Proposal, author: String, index: Int) throws(RejectionReason) {
        try require(members.contains(author), "member")
        guard !p.changes.isEmpty else { throw .malformed("a proposal must change something") }
        if let problem = state.parameters.applying(p.changes).problem { throw .malformed(problem) }
        guard (1...10_000).contains(p.votingRounds) else { throw .malformed("voting_rounds must be in 1…10000") }
        let first = roundInProgress, last = first + p.votingRounds - 1
        guard p.effectiveRound > last + 1, p.effectiveRound <= last + 1_000_000 else {
            throw .malformed("effective_round must be in \(last + 2)…\(last + 1_000_000) (after the window and the enactment round)")
        }
        guard p.rationale.utf8.count <= 4096 else { throw .malformed("rationale is longer than 4096 bytes") }
        state.proposals[String(index)] = ProposalState(proposal: p, author: author, firstRound: first, lastRound: last, totalWeight: totalWeight)
    }

    mutating func applyVote(_ v: Vote, author: String) throws(RejectionReason) {
        try require(members.contains(author), "member")
        let key = String(v.proposal)
        guard let p = state.proposals[key] else { throw .unknownProposal(v.proposal) }
        guard p.status == .open else { throw .alreadyDecided }
        guard (p.firstRound...p.lastRound).contains(roundInProgress) else { throw .outsideVotingWindow }
        guard p.voters[author] == nil else { throw .doubleVote }
        let w = weight(of: author)
        guard w > 0 else { throw .noVotingWeight }
        state.proposals[key]?.voters[author] = v.choice
        switch v.choice {
        case .yes: state.proposals[key]?.yes += w
        case .no: state.proposals[key]?.no += w
        case .abstain: state.proposals[key]?.abstain += w
        }
    }

    mutating func applyEnactment(_ e: Enactment, author: String) throws(RejectionReason) {
        try require(members.contains(author) || coordinators.contains(author), "member")
        let key = String(e.proposal)
        guard let p = state.proposals[key] else { throw .unknownProposal(e.proposal) }
        guard p.status == .open else { throw .alreadyDecided }
        guard roundInProgress > p.lastRound else { throw .votingOpen }
        guard roundInProgress < p.proposal.effectiveRound else { throw .tooLate }
        let weakens = state.parameters.weakensPrivacy(state.parameters.applying(p.proposal.changes))
        try Self.tally(p, quorumPercent: state.parameters.quorumPercent, thresholdPercent: state.parameters.thresholdPercent,
                       weakensPrivacy: weakens)
        state.proposals[key]?.status = .enacted
        state.scheduled.append(ScheduledChange(proposal: e.proposal, effectiveRound: p.proposal.effectiveRound, changes: p.proposal.changes))
        state.scheduled.sort { ($0.effectiveRound, $0.proposal) < ($1.effectiveRound, $1.proposal) }
    }

    /// The decision rule. Quorum: yes+no+abstain ≥ quorum% of the weight at proposal time (and > 0).
    /// Threshold: yes > threshold% of yes+no. Privacy-weakening changes also need yes ≥ 2/3 of yes+no.
    static func tally(_ p: ProposalState, quorumPercent: Int, thresholdPercent: Int, weakensPrivacy: Bool) throws(RejectionReason) {
        let voted = p.yes + p.no + p.abstain
        guard voted > 0, voted * 100 >= quorumPercent * p.totalWeight else { throw .quorumNotMet }
        if weakensPrivacy { guard p.yes > 0, 3 * p.yes >= 2 * (p.yes + p.no) else { throw .supermajorityNotMet } }
        guard p.yes * 100 > thresholdPercent * (p.yes + p.no) else { throw .thresholdNotMet }
    }
}
