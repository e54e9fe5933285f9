/// Splits a round's reward budget among its contributors: proportional to score, capped per client,
/// nothing for clients below the quality threshold or flagged anomalous. Pure and integer-only, so the
/// coordinator that writes a reward record and every node that replays it compute the same payouts.
public struct RewardPolicy: Sendable, Equatable {
    /// Credits to split.
    public var budget: Int
    /// The most one client may receive, as a percentage of `budget`.
    public var capPercent: Int
    /// Scores below this (millionths) earn nothing.
    public var qualityThresholdMicros: Int
    /// What happens to credits above a client's cap.
    public var excess: CapExcess

    /// A policy from its values.
    public init(budget: Int, capPercent: Int, qualityThresholdMicros: Int, excess: CapExcess) {
        self.budget = budget; self.capPercent = capPercent; self.qualityThresholdMicros = qualityThresholdMicros; self.excess = excess
    }

    /// The policy the federation's parameters define.
    public init(_ p: FederationParameters) {
        self.init(budget: p.rewardBudget, capPercent: p.rewardCapPercent, qualityThresholdMicros: p.qualityThresholdMicros, excess: p.capExcess)
    }

    /// The per-client cap in credits: ⌊budget · cap% / 100⌋.
    public var cap: Int { budget * capPercent / 100 }

    /// Whether a contribution may earn anything: not anomalous, score > 0 and ≥ the threshold.
    public func isEligible(_ c: Contribution) -> Bool {
        !c.anomalous && c.scoreMicros > 0 && c.scoreMicros >= qualityThresholdMicros
    }

    /// The reward record for `round`: payouts sorted by peer id (zero payouts omitted) and the credits burned.
    ///
    /// Each eligible client i gets ⌊B·sᵢ/S⌋ of the budget B left for the uncapped set (S = their total score).
    /// With `.redistribute`, clients whose share exceeds the cap are fixed at the cap and the rest of the
    /// budget is split again among the others (water-filling) until no new client hits the cap; with
    /// `.burn`, the excess is simply not paid. Dust from the floors is burned, never paid to anyone.
    public func rewards(round: Int, contributions: [Contribution]) -> Reward {
        let eligible = contributions.filter(isEligible).sorted { $0.peer < $1.peer }
        var paid: [String: Int] = [:]
        var open = eligible
        var left = budget
        while !open.isEmpty, left > 0 {
            let total = open.reduce(0) { $0 + $1.scoreMicros }
            var capped: [Contribution] = []
            for c in open where Self.share(left, c.scoreMicros, total) > cap { capped.append(c) }
            if capped.isEmpty || excess == .burn {
                for c in open { paid[c.peer] = min(cap, Self.share(left, c.scoreMicros, total)) }
                break
            }
            for c in capped { paid[c.peer] = cap; left -= cap }
            let cappedPeers = Set(capped.map(\.peer))
            open.removeAll { cappedPeers.contains($0.peer) }
        }
        let payouts = paid.filter { $0.value > 0 }.map { Payout(peer: $0.key, amount: $0.value) }.sorted { $0.peer < $1.peer }
        return Reward(round: round, payouts: payouts, burned: budget - payouts.reduce(0) { $0 + $1.amount })
    }

    /// ⌊b·s/t⌋ without overflow for b < 2^40 and s ≤ t (scores are millionths).
    static func share(_ b: Int, _ s: Int, _ t: Int) -> Int {
        guard t > 0 else { return 0 }
        let (hi, lo) = b.multipliedFullWidth(by: s)
        return t.dividingFullWidth((hi, lo)).quotient
    }
}
