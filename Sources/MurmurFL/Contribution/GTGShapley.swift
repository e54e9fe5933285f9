import MurmurCore

/// GTG-Shapley: Guided Truncation Gradient Shapley (Liu, Chen, Yu, Liu, Cui, "GTG-Shapley:
/// Efficient and Accurate Participant Contribution Evaluation in Federated Learning", ACM
/// TIST 13(4):60, 2022; arXiv:2109.02053), Algorithm 1, for one round.
///
/// The Shapley value φᵢ = E_π[v(Pᵢ^π ∪ {i}) − v(Pᵢ^π)] (Pᵢ^π: the players before i in a uniformly
/// random order π) is estimated by Monte-Carlo permutation sampling (Castro et al. 2009) over
/// sub-models reconstructed from the round's updates (`RoundGame`) instead of retrained ones,
/// with the paper's three savings:
///  - **between-round truncation**: if |v(N) − v(∅)| ≤ `roundThreshold` the round changed the
///    utility too little to be worth dividing; every φᵢ = 0 and nothing is evaluated;
///  - **within-round truncation**: walking a permutation, once |v(N) − v(prefix)| < ε the
///    remaining players' marginal gains are taken as 0 without evaluating them;
///  - **guided sampling**: permutations come in cycles of n, in which each player in turn takes
///    the first position (its marginal gain over the empty coalition, the most informative
///    one, is then sampled for every player) and the others follow in random order.
/// Sampling stops at the end of a cycle once at least `minPermutations` were drawn and the
/// running estimates converged — the relative L1 change Σᵢ|φᵢᵏ − φᵢ^last| / Σᵢ|φᵢ^last| stays ≤
/// `convergence` for the last `window` permutations — or at `maxPermutations`. (The reference
/// implementations average the per-player relative change |φᵢᵏ − φᵢ^last| / |φᵢ^last| instead;
/// one player with φ ≈ 0, such as a free-rider, then keeps that from ever converging.)
///
/// Each permutation's marginal gains telescope to v(last evaluated prefix) − v(∅), which is
/// within ε of v(N) − v(∅): the estimates are efficient (Σφᵢ ≈ the round's gain) up to ε.
public enum GTGShapley {
    /// The estimates and what they cost.
    public struct Estimate: Sendable, Equatable {
        /// φᵢ per player, in player order.
        public var values: [Double]
        /// Permutations sampled (0 when the round was truncated).
        public var permutations: Int
        /// True when between-round truncation zeroed the round.
        public var roundTruncated: Bool
    }

    /// Estimates the Shapley values of `game`; deterministic given `rng`'s state.
    public static func estimate(_ game: inout some CoalitionGame, options: GTGShapleyOptions, rng: inout SeededRNG) throws -> Estimate {
        let n = game.playerCount
        guard n > 0 else { return Estimate(values: [], permutations: 0, roundTruncated: false) }
        let all = Array(0..<n)
        let v0 = try game.value([])
        let vN = try game.value(all)
        if abs(vN - v0) <= options.roundThreshold {
            return Estimate(values: [Double](repeating: 0, count: n), permutations: 0, roundTruncated: true)
        }
        var sums = [Double](repeating: 0, count: n)
        var recent = [[Double]]()  // the running estimates after each of the last `window` permutations
        var k = 0
        cycles: while true {
            for first in 0..<n {
                var order = all.filter { $0 != first }
                shuffle(&order, rng: &rng)
                order.insert(first, at: 0)
                var prefix = [Int]()
                prefix.reserveCapacity(n)
                var previous = v0
                for player in order {
                    prefix.append(player)
                    let v = abs(vN - previous) >= options.epsilon ? try game.value(prefix) : previous
                    sums[player] += v - previous
                    previous = v
                }
                k += 1
                recent.append(sums.map { $0 / Double(k) })
                if recent.count > options.window { recent.removeFirst() }
                if k >= options.maxPermutations { break cycles }
            }
            if k >= options.minPermutations && converged(recent, criterion: options.convergence) { break }
        }
        return Estimate(values: sums.map { $0 / Double(k) }, permutations: k, roundTruncated: false)
    }

    /// max over the window of Σᵢ|φᵢᵏ − φᵢ^last| / Σᵢ|φᵢ^last| ≤ criterion.
    static func converged(_ recent: [[Double]], criterion: Double) -> Bool {
        guard let last = recent.last, recent.count >= 2 else { return false }
        let scale = last.reduce(0) { $0 + abs($1) } + 1e-12
        for est in recent {
            var change = 0.0
            for i in last.indices { change += abs(est[i] - last[i]) }
            if change / scale > criterion { return false }
        }
        return true
    }

    /// Fisher–Yates with `SeededRNG` (Lemire's bounded integers), so orders are stable across
    /// standard-library versions.
    static func shuffle(_ a: inout [Int], rng: inout SeededRNG) {
        var i = a.count - 1
        while i > 0 {
            let s = UInt64(i + 1)
            var m = rng.next().multipliedFullWidth(by: s)
            if m.low < s {
                let threshold = (0 &- s) % s
                while m.low < threshold { m = rng.next().multipliedFullWidth(by: s) }
            }
            a.swapAt(i, Int(m.high))
            i -= 1
        }
    }
}
