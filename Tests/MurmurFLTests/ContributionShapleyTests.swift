import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurFL

/// Exact Shapley (subset formula) and GTG-Shapley (Liu et al. 2022, Alg. 1) on toy games.
@Suite(.ownThreads) struct ContributionShapleyTests {
    /// A saturating, non-additive game: v(S) = 1 − Π_{i∈S}(1 − pᵢ) ("someone succeeds").
    static let p = [0.5, 0.3, 0.2, 0.1, 0.05, 0.0]
    static func saturating(_ n: Int) -> ClosureGame {
        ClosureGame(playerCount: n) { s in 1 - s.reduce(1.0) { $0 * (1 - p[$1]) } }
    }

    /// φ by the definition: the mean marginal gain over all n! orders (Shapley 1953).
    static func permutationShapley(_ n: Int, _ v: ([Int]) -> Double) -> [Double] {
        var phi = [Double](repeating: 0, count: n)
        var count = 0
        func walk(_ prefix: [Int]) {
            if prefix.count == n {
                count += 1
                for j in 0..<n { phi[prefix[j]] += v(Array(prefix[...j])) - v(Array(prefix[..<j])) }
                return
            }
            for i in 0..<n where !prefix.contains(i) { walk(prefix + [i]) }
        }
        walk([])
        return phi.map { $0 / Double(count) }
    }

    @Test func exactShapleyMatchesAllPermutations() throws {
        for n in 1...6 {
            var game = Self.saturating(n)
            let exact = try ExactShapley.values(&game)
            let byOrder = Self.permutationShapley(n) { s in 1 - s.reduce(1.0) { $0 * (1 - Self.p[$1]) } }
            for i in 0..<n { #expect(abs(exact[i] - byOrder[i]) < 1e-12) }
            #expect(game.evaluations == 1 << n)
        }
    }

    /// Hand-checked: the glove game with one left glove (0) and two right gloves (1, 2),
    /// v(S) = 1 iff S holds a pair. φ = (2/3, 1/6, 1/6) (a textbook example).
    @Test func gloveGameHandChecked() throws {
        var game = ClosureGame(playerCount: 3) { s in s.contains(0) && (s.contains(1) || s.contains(2)) ? 1 : 0 }
        let phi = try ExactShapley.values(&game)
        #expect(abs(phi[0] - 2.0 / 3) < 1e-12 && abs(phi[1] - 1.0 / 6) < 1e-12 && abs(phi[2] - 1.0 / 6) < 1e-12)
    }

    @Test func gtgShapleyIsCloseToExact() throws {
        var options = GTGShapleyOptions()
        options.epsilon = 1e-4
        options.convergence = 0.01
        options.maxPermutations = 600
        for n in [4, 5, 6] {
            var exactGame = Self.saturating(n)
            let exact = try ExactShapley.values(&exactGame)
            var game = Self.saturating(n)
            var rng = SeededRNG(seed: 7)
            let est = try GTGShapley.estimate(&game, options: options, rng: &rng)
            let worst = zip(est.values, exact).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 0.02, "n = \(n): max |GTG − exact| = \(worst), values \(est.values) vs \(exact)")
            #expect(est.permutations >= options.minPermutations && est.permutations % n == 0 || est.permutations == options.maxPermutations)
            // The ranking (all pᵢ distinct except the last two at n = 6) is the exact one.
            for i in 1..<(n - 1) { #expect(est.values[i - 1] > est.values[i]) }
        }
    }

    /// Efficiency: exact values sum to v(N) − v(∅); GTG's telescoping sums are within ε of it.
    @Test func efficiency() throws {
        let n = 6
        var game = Self.saturating(n)
        let total = try game.value(Array(0..<n)) - game.value([])
        #expect(abs(try ExactShapley.values(&game).reduce(0, +) - total) < 1e-12)
        let options = GTGShapleyOptions()
        var rng = SeededRNG(seed: 1)
        var g2 = Self.saturating(n)
        let est = try GTGShapley.estimate(&g2, options: options, rng: &rng)
        #expect(abs(est.values.reduce(0, +) - total) <= options.epsilon + 1e-12)
    }

    @Test func sameSeedSameEstimateOtherSeedOtherOrder() throws {
        func run(_ seed: UInt64) throws -> GTGShapley.Estimate {
            var game = Self.saturating(6)
            var rng = SeededRNG(seed: seed)
            var options = GTGShapleyOptions()
            options.epsilon = 0
            return try GTGShapley.estimate(&game, options: options, rng: &rng)
        }
        #expect(try run(3) == run(3))
        #expect(try run(3).values != run(4).values)
    }

    /// Between-round truncation: a round that moved the utility by ≤ the threshold costs two
    /// evaluations (v(∅), v(N)) and gives everyone 0.
    @Test func betweenRoundTruncation() throws {
        var game = ClosureGame(playerCount: 5) { s in 0.0005 * Double(s.count) / 5 }
        var rng = SeededRNG(seed: 1)
        let est = try GTGShapley.estimate(&game, options: GTGShapleyOptions(), rng: &rng)
        #expect(est.roundTruncated && est.permutations == 0 && est.values == [0, 0, 0, 0, 0])
        #expect(game.evaluations == 2)
    }

    /// Within-round truncation: in a game where player 0 alone reaches v(N), permutations that
    /// start with 0 stop evaluating at once, so far fewer than n·(permutations) values are needed.
    @Test func withinRoundTruncationSkipsEvaluations() throws {
        var game = ClosureGame(playerCount: 8) { s in s.contains(0) ? 1 : Double(s.count) * 0.01 }
        var rng = SeededRNG(seed: 2)
        var options = GTGShapleyOptions()
        options.maxPermutations = 40
        let est = try GTGShapley.estimate(&game, options: options, rng: &rng)
        #expect(est.values[0] > 0.8)
        // Without truncation every permutation would add up to 7 new coalitions.
        #expect(game.evaluations < 8 * est.permutations / 2, "\(game.evaluations) evaluations for \(est.permutations) permutations")
    }
}
