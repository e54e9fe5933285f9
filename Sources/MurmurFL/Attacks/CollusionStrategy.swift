import Foundation

/// The colluding attacks (ALIE, IPM, min-max, min-sum), played inside the round: before the
/// server strategy combines the updates, the malicious clients' updates are replaced by one
/// crafted vector computed from the round's honest updates.
///
/// Design choice: this is the full-knowledge oracle the papers assume (Baruch et al. 2019 §3,
/// Xie et al. 2020 §3, Shejwalkar & Houmansadr 2021 §IV: the adversary knows the benign updates
/// of the round). It is simulation plumbing, not a server component: it wraps the server
/// strategy only because that is the one place that sees all updates of a round at once. The
/// malicious clients themselves (`MaliciousClient`) train honestly and send their real sample
/// counts, so everything else about them looks benign.
public struct CollusionStrategy: WrappingStrategy, AnomalyScoring {
    /// The server strategy the poisoned results go to.
    public var base: any Strategy
    /// A colluding attack (others pass through unchanged).
    public let attack: AttackKind
    /// The colluding clients.
    public let malicious: Set<ClientID>
    /// IPM's ε (0.1 in Xie et al. defeats Krum and the median).
    public var ipmEpsilon: Float = 0.1

    public var name: String { base.name }

    public init(base: any Strategy, attack: AttackKind, malicious: Set<ClientID>) {
        self.base = base
        self.attack = attack
        self.malicious = malicious
    }

    public func combine(_ results: [FitResult]) throws -> [Float] { try base.combine(poisoned(results)) }

    public func combineScored(_ results: [FitResult]) throws -> RobustAggregate {
        let r = poisoned(results)
        if let scoring = base as? any AnomalyScoring { return try scoring.combineScored(r) }
        return RobustAggregate(delta: try base.combine(r), anomalies: [])
    }

    /// The results with every malicious update replaced by the crafted one.
    public func poisoned(_ results: [FitResult]) -> [FitResult] {
        let bad = results.indices.filter { malicious.contains(results[$0].client) }
        let honest = results.filter { !malicious.contains($0.client) }.map(\.delta)
        guard !bad.isEmpty, !honest.isEmpty, attack.isColluding else { return results }
        let crafted = craft(honest: honest, total: results.count, malicious: bad.count)
        var out = results
        for i in bad { out[i].delta = crafted }
        return out
    }

    /// The crafted update from the honest ones (n = all updates of the round, m = malicious).
    public func craft(honest: [[Float]], total n: Int, malicious m: Int) -> [Float] {
        let (mu, sigma) = Self.meanAndStd(honest)
        switch attack {
        case .alie:
            let z = Float(Self.alieZ(n: n, m: m))
            return zip(mu, sigma).map { $0 - z * $1 }
        case .ipm:
            return mu.map { -ipmEpsilon * $0 }
        case .minMax, .minSum:
            let direction = sigma.map { -$0 }  // inverse standard deviation (∇p = −σ)
            let gamma = Self.largestGamma(honest: honest, mean: mu, direction: direction, minSum: attack == .minSum)
            return zip(mu, direction).map { $0 + gamma * $1 }
        default:
            return mu
        }
    }

    /// ALIE's z_max: s = ⌊n/2 + 1⌋ − m supporters are needed, z = Φ⁻¹((n − s)/n)
    /// (Baruch et al. 2019, Alg. 3).
    static func alieZ(n: Int, m: Int) -> Double {
        let s = Double(n / 2 + 1 - m)
        let p = min(max((Double(n) - s) / Double(n), 1e-6), 1 - 1e-6)
        // Φ⁻¹ by bisection on Φ(z) = (1 + erf(z/√2))/2.
        var lo = -10.0, hi = 10.0
        for _ in 0..<100 {
            let mid = (lo + hi) / 2
            if 0.5 * (1 + erf(mid / 2.0.squareRoot())) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    static func meanAndStd(_ rows: [[Float]]) -> ([Float], [Float]) {
        let d = rows[0].count, k = Float(rows.count)
        var mu = [Float](repeating: 0, count: d), sd = [Float](repeating: 0, count: d)
        for r in rows { for j in 0..<d { mu[j] += r[j] } }
        for j in 0..<d { mu[j] /= k }
        for r in rows { for j in 0..<d { let t = r[j] - mu[j]; sd[j] += t * t } }
        for j in 0..<d { sd[j] = (sd[j] / k).squareRoot() }
        return (mu, sd)
    }

    static func squaredDistance(_ a: [Float], _ b: [Float]) -> Float {
        var s: Float = 0
        for j in 0..<a.count { let t = a[j] - b[j]; s += t * t }
        return s
    }

    /// The largest γ found by the halving search of Shejwalkar & Houmansadr 2021 (Alg. 1) with
    /// γ_init = 10, τ = 1e-5, such that μ + γ·∇p stays within the honest spread:
    /// min-max: maxᵢ ‖∇m − ∇ᵢ‖² ≤ maxᵢⱼ ‖∇ᵢ − ∇ⱼ‖²; min-sum: Σᵢ ‖∇m − ∇ᵢ‖² ≤ maxᵢ Σⱼ ‖∇ᵢ − ∇ⱼ‖².
    static func largestGamma(honest: [[Float]], mean: [Float], direction: [Float], minSum: Bool) -> Float {
        let k = honest.count
        var pair = [Float](repeating: 0, count: k * k)
        for i in 0..<k { for j in (i + 1)..<max(i + 1, k) { let s = squaredDistance(honest[i], honest[j]); pair[i * k + j] = s; pair[j * k + i] = s } }
        let bound: Float = minSum
            ? (0..<k).map { i in (0..<k).reduce(Float(0)) { $0 + pair[i * k + $1] } }.max() ?? 0
            : pair.max() ?? 0
        func ok(_ g: Float) -> Bool {
            let crafted = zip(mean, direction).map { $0 + g * $1 }
            let d = honest.map { squaredDistance(crafted, $0) }
            return (minSum ? d.reduce(0, +) : d.max() ?? 0) <= bound
        }
        var gamma: Float = 10, step: Float = 5, best: Float = 0
        while abs(best - gamma) > 1e-5 && step > 1e-7 {
            if ok(gamma) { best = gamma; gamma += step } else { gamma -= step }
            step /= 2
        }
        return best
    }
}
