import MurmurCore

/// The poisoning attacks the simulator can play, by CLI name.
public enum AttackKind: String, CaseIterable, Sendable, Codable {
    /// Train on labels y → C − 1 − y (data poisoning; Fang et al. 2020, Tolpegin et al. 2020).
    case labelFlip = "label-flip"
    /// Send −Δ (Karimireddy et al. 2021 §6).
    case signFlip = "sign-flip"
    /// Send pure Gaussian noise N(0, σ²I) (Blanchard et al. 2017's Gaussian Byzantine).
    case noise
    /// Pixel-pattern backdoor, update boosted for model replacement (Bagdasaryan et al. 2020).
    case backdoor
    /// "A little is enough": μ − z·σ of the honest updates (Baruch et al., NeurIPS 2019).
    case alie
    /// Inner-product manipulation: −ε·μ of the honest updates (Xie et al., UAI 2020).
    case ipm
    /// Min-max: μ + γ·∇p, γ as large as keeps it within the honest updates' maximum spread
    /// (Shejwalkar & Houmansadr, NDSS 2021).
    case minMax = "min-max"
    /// Min-sum: as min-max, bounding the sum of squared distances (same paper).
    case minSum = "min-sum"
    /// Free-riding: send Δ = 0 (the global model back unchanged) without training.
    case freeRide = "free-ride"

    /// Attacks that need the honest updates of the round (played by `CollusionStrategy`).
    public var isColluding: Bool {
        switch self {
        case .alie, .ipm, .minMax, .minSum: return true
        default: return false
        }
    }

    /// The malicious part of a population of `population` clients: ⌊ρ·N⌉ ids chosen by a seeded
    /// shuffle, so the same seed always corrupts the same devices.
    public static func maliciousClients(population: Int, fraction: Double, seed: UInt64) -> Set<ClientID> {
        let k = min(population, max(0, Int((fraction * Double(population)).rounded())))
        var ids = Array(0..<population)
        var rng = SeededRNG(seed: seed, stream: 0xBAD)
        // Fisher–Yates: the first k of the permutation are malicious.
        for i in stride(from: population - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            ids.swapAt(i, j)
        }
        return Set(ids.prefix(k))
    }
}
