import MurmurCore
import MurmurML

extension SimulationConfig {
    /// Checks the scoring knobs (called from `validate`): the method must fit the privacy mode.
    func validateScoring() throws {
        func bad(_ m: String) -> FLError { .invalidConfiguration(m) }
        guard freeRiders >= 0, freeRiders < 1, freeRiders + malicious < 1 else {
            throw bad("--free-riders must be in [0, 1) and leave some honest clients next to --malicious, got \(freeRiders)")
        }
        guard let scoring else { return }
        try scoring.validate()
        if secagg != nil, !scoring.method.worksWithSecureAggregation {
            throw bad(
                "--scoring \(scoring.method.rawValue) needs each client's update, which --secagg hides from the server; use --scoring participation or --scoring group (groups' sums)")
        }
        if dp != nil, scoring.method != .participation {
            throw bad(
                "--scoring \(scoring.method.rawValue) evaluates individual or group updates before the DP noise, which the privacy accountant does not cover; use --scoring participation with --dp")
        }
    }
}

extension Simulation {
    /// Seed of the validation carve: fixed, like the test split, so it does not move with --seed.
    static let validationSeed: UInt64 = 0x56A1_1DA7

    /// Carves the validation set out of the server's test split: a stratified
    /// `DataSplit.stratified(test, testFraction: N / |test|)` with a fixed seed (each class gives
    /// round(N·n_c/|test|) samples, so about N in all). No client ever trains on the test split,
    /// so the validation set is never trained on either; the training data, the partition and
    /// hence the whole training run are the same as without scoring. The reported test accuracy
    /// is then measured on the rest of the split. Returns (validation, test); nil validation
    /// when scoring needs none.
    static func carveValidation(_ test: Dataset, config: SimulationConfig) throws -> (Dataset?, Dataset) {
        guard let scoring = config.scoring, scoring.method.needsValidation else { return (nil, test) }
        guard scoring.validationSamples < test.count else {
            throw FLError.invalidConfiguration(
                "--validation \(scoring.validationSamples) leaves no test samples: the test split has \(test.count); use fewer")
        }
        let parts = DataSplit.stratified(test, testFraction: Double(scoring.validationSamples) / Double(test.count), seed: validationSeed)
        var validation = parts.test
        validation.name = test.name + "-validation"
        guard validation.count > 0 else {
            throw FLError.invalidConfiguration("--validation \(scoring.validationSamples) rounds to 0 samples per class; use more")
        }
        return (validation, parts.train)
    }

    /// The clients that free-ride (send Δ = 0 and claim their samples): ⌊ρ·N⌉ of the honest ones,
    /// chosen by a seeded shuffle disjoint from `maliciousClients`.
    public var freeRidingClients: Set<ClientID> {
        guard config.freeRiders > 0 else { return [] }
        let bad = maliciousClients
        var ids = (0..<config.clients).filter { !bad.contains($0) }
        var rng = SeededRNG(seed: config.seed, stream: 0xF4EE)
        GTGShapley.shuffle(&ids, rng: &rng)
        let k = min(ids.count, Int((config.freeRiders * Double(config.clients)).rounded()))
        return Set(ids.prefix(k))
    }

    /// The scorer for `config.scoring` (nil when scoring is off).
    public func contributionScorer() -> RoundScorer? {
        guard let scoring = config.scoring else { return nil }
        let averaging: CoalitionAveraging = config.secagg.map { .uniform(clip: $0.clipNorm) } ?? .samples
        return RoundScorer(scoring: scoring, averaging: averaging, model: model, validation: validation, seed: config.seed)
    }
}
