/// A cooperative game over players 0..<n: v(S) for any coalition S (Shapley 1953).
///
/// Contribution scoring reduces a federated round to such a game: v(S) is the validation
/// utility of the model the server would have produced from the updates of S alone
/// (`RoundGame`). Leave-one-out, exact Shapley and GTG-Shapley are written against this
/// protocol, so they can be checked on hand-computable toy games.
public protocol CoalitionGame {
    /// n, the number of players.
    var playerCount: Int { get }
    /// v(S) for the members of S (distinct, in any order); v(∅) for an empty list.
    mutating func value(_ members: [Int]) throws -> Double
}

/// A coalition as a bit set, the key of a game's value cache (any number of players).
public struct Coalition: Hashable, Sendable {
    var words: [UInt64]

    /// The coalition of `members` among `playerCount` players.
    public init(_ members: some Sequence<Int>, playerCount: Int) {
        words = [UInt64](repeating: 0, count: (playerCount + 63) / 64)
        for m in members { words[m >> 6] |= 1 << UInt64(m & 63) }
    }
}

/// A game given by a closure, with every value cached (for tests and small games).
public struct ClosureGame: CoalitionGame {
    public let playerCount: Int
    let v: ([Int]) throws -> Double
    var cache = [Coalition: Double]()
    /// Number of distinct coalitions evaluated so far.
    public private(set) var evaluations = 0

    /// The game v over `playerCount` players.
    public init(playerCount: Int, value: @escaping ([Int]) throws -> Double) {
        self.playerCount = playerCount
        self.v = value
    }

    /// v(S), from the cache or the closure (called with S sorted).
    public mutating func value(_ members: [Int]) throws -> Double {
        let key = Coalition(members, playerCount: playerCount)
        if let x = cache[key] { return x }
        let x = try v(members.sorted())
        cache[key] = x
        evaluations += 1
        return x
    }
}

/// The exact Shapley value by the subset formula
/// φᵢ = Σ_{S ⊆ N∖{i}} |S|!·(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)) (Shapley 1953),
/// with each of the 2ⁿ coalitions evaluated once. Used for few players (groups, tests).
public enum ExactShapley {
    /// φ for every player; n must be ≤ 20 (2ⁿ evaluations; a programmer error otherwise).
    public static func values(_ game: inout some CoalitionGame) throws -> [Double] {
        let n = game.playerCount
        precondition(n <= 20, "exact Shapley enumerates 2^n coalitions; n = \(n) is too many")
        guard n > 0 else { return [] }
        var v = [Double](repeating: 0, count: 1 << n)
        for mask in 0..<(1 << n) {
            v[mask] = try game.value((0..<n).filter { mask & (1 << $0) != 0 })
        }
        // weight[s] = s!·(n−s−1)!/n!, computed as 1 / (n · C(n−1, s)).
        var weight = [Double](repeating: 0, count: n)
        var binomial = 1.0
        for s in 0..<n {
            weight[s] = 1 / (Double(n) * binomial)
            binomial = binomial * Double(n - 1 - s) / Double(s + 1)
        }
        var phi = [Double](repeating: 0, count: n)
        for mask in 0..<(1 << n) {
            let s = mask.nonzeroBitCount
            for i in 0..<n where mask & (1 << i) == 0 {
                phi[i] += weight[s] * (v[mask | (1 << i)] - v[mask])
            }
        }
        return phi
    }
}
