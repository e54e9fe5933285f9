import MurmurCore

/// Group-level contribution under secure aggregation: the round's clients are split into
/// groups of at least `groupSize`, each group's updates are summed (what one SecAgg instance
/// per group reveals to the server, and nothing finer), the groups are scored by their Shapley
/// value in the round's game over groups, and each group's score is split to its members in
/// proportion to their reported samples.
///
/// Groups are redrawn every round from the seed, so over many rounds a client's total tracks
/// its own updates rather than its neighbours' (group testing, as in Dorfman 1943: a bad member
/// lowers its group's score every round it is in one). The Shapley value over G groups is
/// exact for G ≤ `ContributionScoring.exactShapleyGroups` (2^G sub-models), GTG-Shapley above.
public enum GroupScore {
    /// The seeded split of `count` results into max(1, ⌊count / size⌋) groups of ≥ size members
    /// (sizes differ by at most one): a shuffle dealt round-robin. Members are result indices,
    /// sorted within each group.
    public static func groups(count: Int, size: Int, rng: inout SeededRNG) -> [[Int]] {
        guard count > 0 else { return [] }
        let g = max(1, count / max(1, size))
        var order = Array(0..<count)
        GTGShapley.shuffle(&order, rng: &rng)
        var out = [[Int]](repeating: [], count: g)
        for (j, i) in order.enumerated() { out[j % g].append(i) }
        return out.map { $0.sorted() }
    }

    /// Each member's share of its group's value: value·nᵢ/Σ_group n (equal shares when the group
    /// reports no samples). Returns one score per result index; members' shares sum to the group's.
    public static func split(groupValues: [Double], groups: [[Int]], samples: [Int]) -> [Double] {
        var out = [Double](repeating: 0, count: samples.count)
        for (g, members) in groups.enumerated() {
            let total = members.reduce(0) { $0 + samples[$1] }
            for i in members {
                out[i] = total > 0
                    ? groupValues[g] * Double(samples[i]) / Double(total)
                    : groupValues[g] / Double(members.count)
            }
        }
        return out
    }

    /// The Shapley value of each group in `game` (its players are the groups): exact for at
    /// most `exactLimit` groups, GTG-Shapley otherwise.
    public static func groupValues(_ game: inout some CoalitionGame, exactLimit: Int, gtg: GTGShapleyOptions, rng: inout SeededRNG) throws -> [Double] {
        if game.playerCount <= exactLimit { return try ExactShapley.values(&game) }
        return try GTGShapley.estimate(&game, options: gtg, rng: &rng).values
    }
}
