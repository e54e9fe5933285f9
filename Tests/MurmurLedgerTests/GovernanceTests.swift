@testable import MurmurLedger
import MurmurTestSupport
import Testing

/// Proposals, votes and enactments: quorum, threshold, supermajority, window and effective round.
@Suite(.ownThreads) struct GovernanceTests {
    let f = LedgerFixture()

    func started(_ voting: VotingRule = .oneMemberOneVote) throws -> LedgerHarness {
        var h = LedgerHarness()
        #expect(try h.append(f.sign(f.genesis(voting: voting), f.coordinator)).accepted)
        return h
    }

    func close(_ h: inout LedgerHarness, _ r: Int) throws {
        #expect(try h.append(f.modelVersion(r, participants: [0], epsilon: 1)).accepted)
    }

    func propose(_ h: inout LedgerHarness, _ changes: ParameterChanges, window: Int = 1, effective: Int = 3) throws -> Int {
        let index = Int(h.ledger.nextSequence)
        let o = try h.append(f.sign(Proposal(changes: changes, votingRounds: window, effectiveRound: effective, rationale: "test"), f.members[0]))
        #expect(o.accepted, "\(String(describing: o.rejection))")
        return index
    }

    func vote(_ h: inout LedgerHarness, _ p: Int, _ choices: [VoteChoice]) throws {
        for (m, c) in choices.enumerated() { #expect(try h.append(f.sign(Vote(proposal: p, choice: c), f.members[m])).accepted) }
    }

    func enact(_ h: inout LedgerHarness, _ p: Int) throws -> RejectionReason? {
        try h.append(f.sign(Enactment(proposal: p), f.members[4])).rejection
    }

    @Test func anEnactedChangeTakesEffectAtItsRound() throws {
        var h = try started()
        let p = try propose(&h, ParameterChanges(clientsPerRound: 1, rewardBudget: 500), window: 2, effective: 4)
        try vote(&h, p, [.yes, .yes, .no])
        #expect(try enact(&h, p) == .votingOpen)
        try close(&h, 1)
        try close(&h, 2)
        #expect(try enact(&h, p) == nil)
        #expect(try enact(&h, p) == .alreadyDecided)
        #expect(h.state.parameters.clientsPerRound == 4, "not before the effective round")
        #expect(h.state.scheduled.count == 1)
        try close(&h, 3)
        #expect(h.state.parameters.rewardBudget == 1000)
        #expect(try h.append(f.modelVersion(4, participants: [0, 1])).rejection == .tooManyParticipants(limit: 1, got: 2))
        try close(&h, 4)
        #expect(h.state.parameters.clientsPerRound == 1 && h.state.parameters.rewardBudget == 500)
        #expect(h.state.scheduled.isEmpty)
        #expect(h.state.proposals[String(p)]?.status == .enacted)
    }

    @Test func votesOnlyInTheWindowOncePerMember() throws {
        var h = try started()
        let p = try propose(&h, ParameterChanges(quorumPercent: 60), window: 1, effective: 3)
        #expect(try h.append(f.sign(Vote(proposal: p, choice: .yes), f.members[1])).accepted)
        #expect(try h.append(f.sign(Vote(proposal: p, choice: .no), f.members[1])).rejection == .doubleVote)
        #expect(try h.append(f.sign(Vote(proposal: p, choice: .yes), f.outsider)).rejection == .unauthorized(role: "member"))
        #expect(try h.append(f.sign(Vote(proposal: p + 1, choice: .yes), f.members[2])).rejection == .unknownProposal(p + 1))
        try close(&h, 1)
        #expect(try h.append(f.sign(Vote(proposal: p, choice: .yes), f.members[2])).rejection == .outsideVotingWindow)
        #expect(h.state.proposals[String(p)]?.yes == 1)
    }

    @Test func quorumAndThreshold() throws {
        var h = try started()
        let few = try propose(&h, ParameterChanges(rewardBudget: 10))
        let tie = try propose(&h, ParameterChanges(rewardBudget: 20))
        try vote(&h, few, [.yes, .yes])  // 2 of 5 = 40% < 50%
        try vote(&h, tie, [.yes, .yes, .no, .no, .abstain])  // quorum met, 2 yes of 4 is not > 50%
        try close(&h, 1)
        #expect(try enact(&h, few) == .quorumNotMet)
        #expect(try enact(&h, tie) == .thresholdNotMet)
        #expect(h.state.scheduled.isEmpty)
    }

    @Test(arguments: [
        (ParameterChanges(epsilonBudgetMicros: 9_000_000), true),
        (ParameterChanges(noiseMultiplierMilli: 900), true),
        (ParameterChanges(clipNormMilli: 1100), true),
        (ParameterChanges(epsilonBudgetMicros: 7_000_000), false),
        (ParameterChanges(noiseMultiplierMilli: 1100, clipNormMilli: 900), false),
        (ParameterChanges(clientsPerRound: 10), false),
    ])
    func privacyWeakeningNeedsTwoThirds(changes: ParameterChanges, weakens: Bool) throws {
        #expect(FederationParameters().weakensPrivacy(FederationParameters().applying(changes)) == weakens)
        var h = try started()
        let p = try propose(&h, changes)
        try vote(&h, p, [.yes, .yes, .yes, .no, .no])  // 60% yes: a majority, not two thirds
        try close(&h, 1)
        #expect(try enact(&h, p) == (weakens ? .supermajorityNotMet : nil))
        var h2 = try started()
        let p2 = try propose(&h2, changes)
        try vote(&h2, p2, [.yes, .yes, .yes, .yes, .no])
        try close(&h2, 1)
        #expect(try enact(&h2, p2) == nil)
    }

    @Test func enactmentAfterTheEffectiveRoundBeganIsTooLate() throws {
        var h = try started()
        let p = try propose(&h, ParameterChanges(rewardBudget: 10), window: 1, effective: 3)
        try vote(&h, p, [.yes, .yes, .yes])
        try close(&h, 1)
        try close(&h, 2)
        #expect(try enact(&h, p) == .tooLate)
    }

    @Test func malformedProposalsAreRejected() throws {
        var h = try started()
        let cases: [Proposal] = [
            Proposal(changes: ParameterChanges(), votingRounds: 1, effectiveRound: 3),
            Proposal(changes: ParameterChanges(quorumPercent: 0), votingRounds: 1, effectiveRound: 3),
            Proposal(changes: ParameterChanges(rewardBudget: 1), votingRounds: 0, effectiveRound: 3),
            Proposal(changes: ParameterChanges(rewardBudget: 1), votingRounds: 2, effectiveRound: 3),
        ]
        for c in cases { #expect(try h.append(f.sign(c, f.members[0])).rejection?.code == "malformed") }
        #expect(try h.append(f.sign(Proposal(changes: ParameterChanges(rewardBudget: 1), votingRounds: 1, effectiveRound: 3), f.coordinator)).rejection == .unauthorized(role: "member"))
    }

    @Test func creditVotingWeighsByBalance() throws {
        var h = try started(.credits)
        let early = try propose(&h, ParameterChanges(rewardBudget: 10), window: 1, effective: 3)
        #expect(try h.append(f.sign(Vote(proposal: early, choice: .yes), f.members[0])).rejection == .noVotingWeight)
        // Round 1: members 0 and 1 hit the 250 cap, the excess is redistributed to member 2 (capped too).
        try h.append([f.modelVersion(1, participants: [0, 1, 2]), f.contribution(1, 0, score: 5), f.contribution(1, 1, score: 5), f.contribution(1, 2, score: 1)])
        let reward = RewardPolicy(h.state.parameters).rewards(round: 1, contributions: Array(h.state.openRound.contributions.values))
        #expect(reward.payouts.map(\.amount) == [250, 250, 250])
        #expect(try h.append(f.sign(reward, f.coordinator)).accepted)
        let p = try propose(&h, ParameterChanges(rewardBudget: 10), window: 1, effective: 4)
        #expect(h.state.proposals[String(p)]?.totalWeight == 750)
        #expect(try h.append(f.sign(Vote(proposal: p, choice: .no), f.members[2])).accepted)
        #expect(try h.append(f.sign(Vote(proposal: p, choice: .yes), f.members[3])).rejection == .noVotingWeight)
        #expect(try h.append(f.sign(Vote(proposal: p, choice: .yes), f.members[0])).accepted)
        let tied = h.state.proposals[String(p)]
        #expect(tied?.yes == 250 && tied?.no == 250)
        #expect(try h.append(f.sign(Vote(proposal: p, choice: .yes), f.members[1])).accepted)
        try close(&h, 2)
        #expect(try enact(&h, p) == nil)
    }
}
