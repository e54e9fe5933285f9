import MurmurCore
import MurmurML

extension SimulationConfig {
    /// Checks the robustness knobs (called from `validate`).
    func validateRobustness() throws {
        func bad(_ m: String) -> FLError { .invalidConfiguration(m) }
        guard malicious >= 0, malicious < 1 else { throw bad("--malicious must be in [0, 1), got \(malicious)") }
        guard byzantineFraction >= 0, byzantineFraction < 0.5 else {
            throw bad("--assumed-malicious must be in [0, 0.5), got \(byzantineFraction)")
        }
        if attack != nil, malicious == 0 { throw bad("--attack needs --malicious > 0 (the fraction of clients that attack)") }
        if malicious > 0, attack == nil { throw bad("--malicious needs --attack NAME (\(AttackKind.allCases.map(\.rawValue).joined(separator: ", ")))") }
        if aggregator == .fltrust { guard rootSamples >= 1 else { throw bad("--root-samples must be ≥ 1 for fltrust") } }
        // With --secagg, SimulationConfig.validate() refuses aggregators that need plaintext
        // updates (`worksWithSecureAggregation`).
    }

    /// f, the updates per round Krum and Bulyan assume may be Byzantine: ⌊ρ·n⌋ of the n clients
    /// sampled per round, ρ = `byzantineFraction`.
    public var byzantinePerRound: Int {
        let n = max(1, Int((fraction * Double(clients)).rounded()))
        return Int((byzantineFraction * Double(n)).rounded(.down))
    }
}

extension Simulation {
    /// The clients that attack (empty without `--attack`).
    public var maliciousClients: Set<ClientID> {
        guard config.attack != nil else { return [] }
        return AttackKind.maliciousClients(population: config.clients, fraction: config.malicious, seed: config.seed)
    }

    /// The population: honest `SimulatedClient`s, with the malicious ones wrapped in `MaliciousClient`.
    public func makeClientApps() -> [any ClientApp] {
        let bad = maliciousClients
        let freeRiding = freeRidingClients
        let boost = Float(max(1, 1 / max(config.malicious, 1e-9)).rounded())
        return makeClients().map { c -> any ClientApp in
            if freeRiding.contains(c.id) { return MaliciousClient(honest: c, attack: .freeRide) }
            guard let attack = config.attack, bad.contains(c.id) else { return c }
            return MaliciousClient(honest: c, attack: attack, boost: min(boost, 20))
        }
    }

    /// FLTrust's root data set: `rootSamples` training samples picked by a seeded shuffle.
    public func rootDataset() -> Dataset {
        var idx = Array(0..<train.count)
        var rng = SeededRNG(seed: config.seed, stream: 0x7257)
        for i in stride(from: idx.count - 1, to: 0, by: -1) { idx.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return train.subset(Array(idx.prefix(min(config.rootSamples, train.count))))
    }

    /// The configured server strategy with the robust aggregator in its `combine` hook, and the
    /// colluding attack (if any) in front of it.
    public func robustStrategy(wrapping base: any Strategy, initial: [Float]) throws -> any Strategy {
        let aggregator = try config.aggregator.make(
            byzantine: config.byzantinePerRound, beta: config.byzantineFraction,
            root: config.aggregator == .fltrust ? rootDataset() : nil, model: model)
        var s: any Strategy = RobustStrategy(base: base, aggregator: aggregator, initial: initial, plan: roundSettings.plan, seed: config.seed)
        if let attack = config.attack, attack.isColluding {
            s = CollusionStrategy(base: s, attack: attack, malicious: maliciousClients)
        }
        return s
    }

    /// Backdoor success rate of `parameters` on the test split (the default trigger).
    public func backdoorSuccessRate(_ parameters: [Float]) throws -> Double {
        BackdoorTrigger().successRate(try Network(config: model, parameters: parameters), test: test)
    }
}
