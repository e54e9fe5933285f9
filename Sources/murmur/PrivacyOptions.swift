import ArgumentParser
import MurmurFL
import MurmurPrivacy

extension DPMode: ExpressibleByArgument {}
extension AccountantKind: ExpressibleByArgument {}
extension NoiseSourceKind: ExpressibleByArgument {}
extension DPConfig.ClientSampling: ExpressibleByArgument {}

/// The differential-privacy flags of `murmur simulate` (DP-FedAvg, see docs/privacy.md).
struct PrivacyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Differential privacy: central (the aggregator adds noise to the sum) or local (each device noises its own update). Off when absent.", valueName: "central|local"))
    var dp: DPMode?

    @Option(help: ArgumentHelp("L2 clip norm C of each device's update, or 'adaptive' (median of update norms, Andrew et al. 2021, starting at 0.1).", valueName: "C|adaptive"))
    var clip: String = "1.0"

    @Option(help: ArgumentHelp("Noise multiplier σ (noise std = σ·C). Give this or --target-epsilon.", valueName: "σ"))
    var noise: Double?

    @Option(help: ArgumentHelp("Privacy budget ε to reach after all rounds; σ is calibrated to it.", valueName: "ε"))
    var targetEpsilon: Double?

    @Option(help: ArgumentHelp("δ of the (ε, δ) guarantee; keep it below 1/clients.", valueName: "δ"))
    var delta: Double = 1e-5

    @Option(help: "Privacy accountant: rdp (Rényi DP) or pld (privacy loss distributions, tighter).")
    var accountant: AccountantKind = .rdp

    @Option(help: "How devices are sampled each round under DP: poisson (each with probability --fraction) or fixed (exactly fraction·clients).")
    var dpSampling: DPConfig.ClientSampling = .poisson

    @Option(help: "Noise source: seeded (reproducible, for simulation) or secure (operating-system CSPRNG).")
    var noiseSource: NoiseSourceKind = .seeded

    /// The DP configuration, or nil when --dp is absent (then other DP flags are refused).
    func config() throws -> DPConfig? {
        guard let dp else {
            if noise != nil || targetEpsilon != nil {
                throw ValidationError("--noise and --target-epsilon need --dp central or --dp local")
            }
            return nil
        }
        var c = DPConfig()
        c.mode = dp
        if clip == "adaptive" {
            c.adaptiveClipping = true
            c.clipNorm = 0.1
        } else {
            guard let value = Double(clip), value > 0, value.isFinite else {
                throw ValidationError("--clip must be a positive number or 'adaptive', got '\(clip)'")
            }
            c.clipNorm = value
        }
        c.noiseMultiplier = noise
        c.targetEpsilon = targetEpsilon
        c.delta = delta
        c.accountant = accountant
        c.sampling = dpSampling
        c.noise = noiseSource
        do {
            try c.validate()
        } catch let e as FLError {
            throw ValidationError(e.description)
        }
        return c
    }
}
