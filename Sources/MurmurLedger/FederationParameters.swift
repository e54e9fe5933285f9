/// The federation's governed parameters, fixed at genesis and changed only by enacted proposals.
/// Reals are fixed-point integers (milli, micro) so that canonical JSON and replay are exact.
public struct FederationParameters: Codable, Sendable, Equatable {
    /// DP noise multiplier z (σ = z·C) in thousandths.
    public var noiseMultiplierMilli: Int
    /// Total privacy budget ε in millionths; model-version records may not spend more.
    public var epsilonBudgetMicros: Int
    /// Clip norm C in thousandths.
    public var clipNormMilli: Int
    /// At most this many participants per round.
    public var clientsPerRound: Int
    /// Credits paid out per round (the reward budget).
    public var rewardBudget: Int
    /// No client receives more than this percentage of a round's budget.
    public var rewardCapPercent: Int
    /// Clients scoring below this (millionths) get nothing.
    public var qualityThresholdMicros: Int
    /// What happens to credits above a client's cap: redistributed or burned.
    public var capExcess: CapExcess
    /// Percentage of the total voting weight that must vote (yes, no or abstain) for a decision.
    public var quorumPercent: Int
    /// A proposal passes when yes > threshold% of yes+no (privacy-weakening ones need ≥ 2/3).
    public var thresholdPercent: Int
    /// Witness verifier keys (`name+hex(id)+base64(key)`, docs/log.md) that cosign checkpoints.
    public var witnesses: [String]

    /// Parameters from their values; see each property.
    public init(noiseMultiplierMilli: Int = 1000, epsilonBudgetMicros: Int = 8_000_000, clipNormMilli: Int = 1000,
                clientsPerRound: Int = 100, rewardBudget: Int = 1000, rewardCapPercent: Int = 25,
                qualityThresholdMicros: Int = 0, capExcess: CapExcess = .redistribute, quorumPercent: Int = 50,
                thresholdPercent: Int = 50, witnesses: [String] = []) {
        self.noiseMultiplierMilli = noiseMultiplierMilli; self.epsilonBudgetMicros = epsilonBudgetMicros
        self.clipNormMilli = clipNormMilli; self.clientsPerRound = clientsPerRound; self.rewardBudget = rewardBudget
        self.rewardCapPercent = rewardCapPercent; self.qualityThresholdMicros = qualityThresholdMicros
        self.capExcess = capExcess; self.quorumPercent = quorumPercent; self.thresholdPercent = thresholdPercent
        self.witnesses = witnesses
    }

    /// The first out-of-range value, described, or nil when all are valid.
    public var problem: String? {
        if noiseMultiplierMilli < 0 { return "noise_multiplier_milli must be ≥ 0" }
        if epsilonBudgetMicros < 0 { return "epsilon_budget_micros must be ≥ 0" }
        if clipNormMilli <= 0 { return "clip_norm_milli must be > 0" }
        if clientsPerRound < 1 { return "clients_per_round must be ≥ 1" }
        if rewardBudget < 0 || rewardBudget > 1 << 40 { return "reward_budget must be in 0…2^40" }
        if !(1...100).contains(rewardCapPercent) { return "reward_cap_percent must be in 1…100" }
        if qualityThresholdMicros < 0 { return "quality_threshold_micros must be ≥ 0" }
        if !(1...100).contains(quorumPercent) { return "quorum_percent must be in 1…100" }
        if !(50...99).contains(thresholdPercent) { return "threshold_percent must be in 50…99" }
        if Set(witnesses).count != witnesses.count { return "witnesses must be distinct" }
        return nil
    }

    /// These parameters with `changes` applied.
    public func applying(_ changes: ParameterChanges) -> FederationParameters {
        var p = self
        if let v = changes.noiseMultiplierMilli { p.noiseMultiplierMilli = v }
        if let v = changes.epsilonBudgetMicros { p.epsilonBudgetMicros = v }
        if let v = changes.clipNormMilli { p.clipNormMilli = v }
        if let v = changes.clientsPerRound { p.clientsPerRound = v }
        if let v = changes.rewardBudget { p.rewardBudget = v }
        if let v = changes.rewardCapPercent { p.rewardCapPercent = v }
        if let v = changes.qualityThresholdMicros { p.qualityThresholdMicros = v }
        if let v = changes.capExcess { p.capExcess = v }
        if let v = changes.quorumPercent { p.quorumPercent = v }
        if let v = changes.thresholdPercent { p.thresholdPercent = v }
        if let v = changes.witnesses { p.witnesses = v }
        return p
    }

    /// True when moving from `self` to `new` weakens privacy: a larger ε budget, a smaller noise
    /// multiplier or a larger clip norm. Such a change needs a two-thirds supermajority.
    /// (With σ = z·C a larger C alone keeps ε, but lets one client move the model further under
    /// local DP and robust aggregation, so it is treated as weakening; docs/ledger.md.)
    public func weakensPrivacy(_ new: FederationParameters) -> Bool {
        new.epsilonBudgetMicros > epsilonBudgetMicros || new.noiseMultiplierMilli < noiseMultiplierMilli
            || new.clipNormMilli > clipNormMilli
    }
}

/// What to do with credits a capped client would have earned above the cap.
public enum CapExcess: String, Codable, Sendable, CaseIterable {
    /// Share them among the uncapped eligible clients in proportion to score (water-filling).
    case redistribute
    /// Pay them to nobody.
    case burn
}

/// A proposal's changes: every field that is set replaces the current value.
public struct ParameterChanges: Codable, Sendable, Equatable {
    /// New DP noise multiplier ×10³.
    public var noiseMultiplierMilli: Int?
    /// New total ε budget ×10⁶.
    public var epsilonBudgetMicros: Int?
    /// New clip norm ×10³.
    public var clipNormMilli: Int?
    /// New most participants per round.
    public var clientsPerRound: Int?
    /// New credits per round.
    public var rewardBudget: Int?
    /// New per-client cap, % of the budget.
    public var rewardCapPercent: Int?
    /// New minimum score ×10⁶.
    public var qualityThresholdMicros: Int?
    /// New handling of credits above the cap.
    public var capExcess: CapExcess?
    /// New quorum, % of the voting weight.
    public var quorumPercent: Int?
    /// New threshold, % of yes+no.
    public var thresholdPercent: Int?
    /// The whole new witness set.
    public var witnesses: [String]?

    /// Changes from their values (nil: unchanged).
    public init(noiseMultiplierMilli: Int? = nil, epsilonBudgetMicros: Int? = nil, clipNormMilli: Int? = nil,
                clientsPerRound: Int? = nil, rewardBudget: Int? = nil, rewardCapPercent: Int? = nil,
                qualityThresholdMicros: Int? = nil, capExcess: CapExcess? = nil, quorumPercent: Int? = nil,
                thresholdPercent: Int? = nil, witnesses: [String]? = nil) {
        self.noiseMultiplierMilli = noiseMultiplierMilli; self.epsilonBudgetMicros = epsilonBudgetMicros
        self.clipNormMilli = clipNormMilli; self.clientsPerRound = clientsPerRound; self.rewardBudget = rewardBudget
        self.rewardCapPercent = rewardCapPercent; self.qualityThresholdMicros = qualityThresholdMicros
        self.capExcess = capExcess; self.quorumPercent = quorumPercent; self.thresholdPercent = thresholdPercent
        self.witnesses = witnesses
    }

    /// True when nothing is changed.
    public var isEmpty: Bool { self == ParameterChanges() }
}
