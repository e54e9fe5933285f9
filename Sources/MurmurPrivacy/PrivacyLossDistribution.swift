import Foundation

/// A discretized privacy-loss distribution: probability `probs[i]` on loss (lowerLoss + i)·d,
/// plus `infinityMass` on +∞. Pessimistic: hockey-stick divergences computed from it upper-bound
/// the true mechanism's (Doroshenko, Ghazi, Kamath, Kumar & Manurangsi 2022, "Connect the Dots").
public struct PrivacyLossPMF: Sendable, Equatable {
    /// The discretization interval d of the loss grid.
    public var discretization: Double
    /// Index of the first grid point (loss = lowerLoss·d).
    public var lowerLoss: Int
    /// Probability mass on each grid point.
    public var probs: [Double]
    /// Mass on loss +∞.
    public var infinityMass: Double

    /// A PMF from its parts.
    public init(discretization: Double, lowerLoss: Int, probs: [Double], infinityMass: Double) {
        self.discretization = discretization
        self.lowerLoss = lowerLoss
        self.probs = probs
        self.infinityMass = infinityMass
    }

    /// δ(ε) = μ(∞) + Σ_{ℓ > ε} (1 − e^(ε−ℓ))·p(ℓ), the ε-hockey-stick divergence.
    public func delta(epsilon: Double) -> Double {
        var delta = infinityMass
        for (i, p) in probs.enumerated() {
            let loss = Double(lowerLoss + i) * discretization
            if loss > epsilon { delta += -expm1(epsilon - loss) * p }
        }
        return delta
    }

    /// The smallest ε ≥ 0 with δ(ε) ≤ `delta` (+∞ when the mass at ∞ exceeds δ); scans losses
    /// from the top as dp-accounting's `_get_epsilon_for_delta`.
    public func epsilon(delta: Double) -> Double {
        if infinityMass > delta { return .infinity }
        var upper = infinityMass, lower = 0.0
        var i = probs.count - 1
        while i >= 0 {
            let loss = Double(lowerLoss + i) * discretization
            if upper > delta && lower > 0 && log((upper - delta) / lower) >= loss { break }
            upper += probs[i]
            lower += exp(-loss) * probs[i]
            if upper >= delta && lower == 0 { return max(0, loss) }
            i -= 1
        }
        if upper <= lower + delta { return 0 }
        return log((upper - delta) / lower)
    }

    /// The PLD of `times`-fold composition: FFT power restricted to a Chernoff window holding
    /// all but `tailMassTruncation` of the mass (dropped mass on the right goes to +∞, keeping
    /// the estimate pessimistic) — dp-accounting's `DensePLDPmf.self_compose`.
    public func selfComposed(_ times: Int, tailMassTruncation: Double = 1e-15) -> PrivacyLossPMF {
        precondition(times >= 1, "compose at least once")  // programmer error: callers validate
        if times == 1 { return self }
        let n = probs.count
        // Chernoff bounds on the support of the sum (dp-accounting `compute_self_convolve_bounds`).
        var upperBound = (n - 1) * times, lowerBound = 0
        let orders = ((-20..<0).map(Double.init) + (1..<21).map(Double.init)).map { $0 / Double(n) }
        let logTail = log(2 / tailMassTruncation)
        // log pᵢ once for the 40 log-MGF evaluations (log Σ pᵢ e^{i·order}, max-shifted).
        let support = probs.indices.filter { probs[$0] > 0 }
        let logP = support.map { log(probs[$0]) }
        let index = support.map(Double.init)
        for order in orders {
            var m = -Double.infinity
            for k in logP.indices { m = max(m, index[k] * order + logP[k]) }
            var s = 0.0
            for k in logP.indices { s += exp(index[k] * order + logP[k] - m) }
            let logMGF = m + log(s)
            let bound = (Double(times) * logMGF + logTail) / order
            guard bound.isFinite else { continue }
            if order > 0 { upperBound = min(upperBound, Int(bound.rounded(.up))) }
            if order < 0 { lowerBound = max(lowerBound, Int(bound.rounded(.down))) }
        }
        let outputLength = upperBound - lowerBound + 1
        let length = FFT.paddedLength(max(outputLength, n))
        let circular = FFT.selfConvolve(probs, times: times, length: length)
        var out = [Double](repeating: 0, count: outputLength)
        for k in 0..<outputLength { out[k] = circular[(k + lowerBound) % length] }
        let inf = tailMassTruncation - expm1(Double(times) * log1p(-infinityMass))
        var composed = PrivacyLossPMF(discretization: discretization, lowerLoss: lowerLoss * times + lowerBound,
                                      probs: out, infinityMass: inf)
        composed.truncateTails(tailMassTruncation)
        return composed
    }

    /// Drops a prefix and a suffix each of mass ≤ `mass`/2: the prefix is added to the first kept
    /// point, the suffix to +∞ (pessimistic; dp-accounting's `_truncate_tails`).
    mutating func truncateTails(_ mass: Double) {
        guard mass > 0, !probs.isEmpty else { return }
        func prefix(_ a: [Double]) -> Int {
            var s = 0.0
            for (i, v) in a.enumerated() { s += v; if s > mass / 2 { return i } }
            return a.count
        }
        let left = prefix(probs)
        var right = probs.count - prefix(probs.reversed())
        right = max(right, left + 1)
        let leftMass = probs[..<left].reduce(0, +)
        let rightMass = right < probs.count ? probs[right...].reduce(0, +) : 0
        var kept = Array(probs[left..<min(right, probs.count)])
        if kept.isEmpty { kept = [0] }
        kept[0] += leftMass
        probs = kept
        lowerLoss += left
        infinityMass += rightMass
    }
}
