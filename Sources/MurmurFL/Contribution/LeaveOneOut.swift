/// Leave-one-out contribution: φᵢ = v(N) − v(N ∖ {i}), the utility the round loses without i.
///
/// On a `RoundGame` this is u(w_{t+1}) − u(w_{t+1} without i's update), where both models are
/// the round's server step over the (re-averaged) remaining updates — n + 1 validation passes
/// per round. Cheap and exact, but blind to redundancy: two clients holding the same data each
/// look dispensable (Ghorbani & Zou 2019 §2 discuss why Shapley fixes this).
public enum LeaveOneOut {
    /// φᵢ for every player of `game`, in player order.
    public static func values(_ game: inout some CoalitionGame) throws -> [Double] {
        let n = game.playerCount
        guard n > 0 else { return [] }
        let all = Array(0..<n)
        let full = try game.value(all)
        var phi = [Double]()
        phi.reserveCapacity(n)
        for i in 0..<n {
            phi.append(full - (try game.value(all.filter { $0 != i })))
        }
        return phi
    }
}
