import MurmurCore
import MurmurML
import MurmurTensor

/// A simulated device that lies. It wraps an honest `SimulatedClient` and changes its data
/// (label flipping, backdoor) or its update (sign flipping, noise, boosting, free-riding).
/// Colluding attacks (ALIE, IPM, min-max, min-sum) train honestly here; `CollusionStrategy`
/// replaces their updates once the round's honest updates are known.
public struct MaliciousClient: ClientApp {
    /// The device it would be if honest (its data and model).
    public let honest: SimulatedClient
    /// What it does instead.
    public let attack: AttackKind
    /// Standard deviation of the noise attack.
    public var noiseStd: Float
    /// Factor the backdoor update is boosted by (model replacement: about n/η, the clients per
    /// round over the server rate; Bagdasaryan et al. 2020 §3.2).
    public var boost: Float
    /// The backdoor pattern and target label.
    public var trigger: BackdoorTrigger

    public init(honest: SimulatedClient, attack: AttackKind, noiseStd: Float = 0.5, boost: Float = 5, trigger: BackdoorTrigger = .init()) {
        self.honest = honest
        self.attack = attack
        self.noiseStd = noiseStd
        self.boost = boost
        self.trigger = trigger
    }

    /// Its client id.
    public var id: ClientID { honest.id }

    public func fit(_ instruction: FitInstruction) throws -> FitResult {
        switch attack {
        case .labelFlip:
            var data = honest.data
            let top = Int32(data.classCount - 1)
            data.labels = data.labels.map { top - $0 }
            return try SimulatedClient(id: id, data: data, model: honest.model).fit(instruction)
        case .backdoor:
            var r = try SimulatedClient(id: id, data: trigger.poison(honest.data), model: honest.model).fit(instruction)
            Vec.scale(boost, &r.delta)
            r.sampleCount = honest.data.count  // claims its real sample count
            return r
        case .signFlip:
            var r = try honest.fit(instruction)
            Vec.scale(-1, &r.delta)
            return r
        case .noise:
            var rng = SeededRNG(seed: instruction.seed, stream: 0x4015E, UInt64(instruction.round), UInt64(id))
            let delta = (0..<instruction.parameters.count).map { _ in Float(rng.nextGaussian()) * noiseStd }
            return FitResult(client: id, delta: delta, sampleCount: honest.data.count, trainLoss: 0)
        case .freeRide:
            return FitResult(client: id, delta: [Float](repeating: 0, count: instruction.parameters.count), sampleCount: honest.data.count, trainLoss: 0)
        case .alie, .ipm, .minMax, .minSum:
            return try honest.fit(instruction)
        }
    }

    public func evaluate(_ instruction: EvaluateInstruction) throws -> EvaluateResult {
        try honest.evaluate(instruction)
    }
}
