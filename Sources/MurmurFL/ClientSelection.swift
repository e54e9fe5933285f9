import MurmurCore

/// How many clients the server samples each round: a fraction of those online or a fixed count.
/// Sampling is uniform without replacement and seeded by (seed, round), so runs reproduce.
public enum ClientSelection: Sendable, Equatable, Codable {
    case fraction(Double)
    case count(Int)
    /// Poisson sampling: each online client joins independently with probability `rate`, so the
    /// round may be empty. This is the sampling the DP accountant's `.poisson` case assumes.
    case poisson(Double)

    /// The clients chosen for `round` from `online`, sorted by id. At least `minimum` (capped at
    /// the number online) are chosen.
    public func select(from online: [ClientID], round: Int, seed: UInt64, minimum: Int = 1) -> [ClientID] {
        let n = online.count
        guard n > 0 else { return [] }
        var k: Int
        switch self {
        case .fraction(let f): k = Int((f * Double(n)).rounded())
        case .count(let c): k = c
        case .poisson(let rate): return Self.poissonSample(online, rate: rate, round: round, seed: seed)
        }
        k = min(n, max(k, minimum, 1))
        if k == n { return online.sorted() }
        // Partial Fisher–Yates: the first k slots become a uniform k-subset.
        var pool = online.sorted()
        var rng = SeededRNG(seed: seed, stream: 0x5E1EC7, UInt64(round))
        for i in 0..<k {
            let j = i + Int(rng.next() % UInt64(n - i))
            pool.swapAt(i, j)
        }
        return Array(pool[0..<k]).sorted()
    }

    /// Whether a round may select no client (Poisson sampling).
    public var allowsEmptyRound: Bool {
        if case .poisson = self { return true }
        return false
    }

    /// Each client independently with probability `rate`, decided by (seed, round, client).
    static func poissonSample(_ online: [ClientID], rate: Double, round: Int, seed: UInt64) -> [ClientID] {
        online.sorted().filter { client in
            var rng = SeededRNG(seed: seed, stream: 0x9015_5011, UInt64(round), UInt64(client))
            return rng.nextDouble() < rate
        }
    }

    /// Checks the value is usable.
    public func validate() throws {
        switch self {
        case .fraction(let f):
            guard f > 0, f <= 1 else { throw FLError.invalidConfiguration("--fraction must be in (0, 1], got \(f)") }
        case .count(let c):
            guard c >= 1 else { throw FLError.invalidConfiguration("the number of clients per round must be ≥ 1, got \(c)") }
        case .poisson(let q):
            guard q > 0, q <= 1 else { throw FLError.invalidConfiguration("the Poisson sampling rate must be in (0, 1], got \(q)") }
        }
    }
}

/// Simulated unreliability: each selected client independently drops out (never answers) with
/// probability `dropout`, or straggles (answers after the deadline, so its work is discarded)
/// with probability `straggler`, decided by (seed, round, client) so runs reproduce.
public struct NetworkConditions: Sendable, Equatable, Codable {
    public var dropout: Double
    public var straggler: Double

    public init(dropout: Double = 0, straggler: Double = 0) {
        self.dropout = dropout
        self.straggler = straggler
    }

    /// What happens to `client` in `round`.
    public func fate(client: ClientID, round: Int, seed: UInt64) -> ClientFate {
        var rng = SeededRNG(seed: seed, stream: 0xD209, UInt64(round), UInt64(client))
        if rng.nextDouble() < dropout { return .dropsOut }
        if rng.nextDouble() < straggler { return .straggles }
        return .answers
    }

    public func validate() throws {
        guard dropout >= 0, dropout < 1 else { throw FLError.invalidConfiguration("--dropout must be in [0, 1), got \(dropout)") }
        guard straggler >= 0, straggler < 1 else { throw FLError.invalidConfiguration("--stragglers must be in [0, 1), got \(straggler)") }
    }
}

/// A simulated client's behaviour in one round.
public enum ClientFate: Sendable, Equatable {
    case answers, dropsOut, straggles
}
