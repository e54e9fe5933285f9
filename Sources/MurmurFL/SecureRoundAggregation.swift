/// A round's aggregation run as a protocol between the server and the clients, so the server never
/// holds one client's update: networked SecAgg+ (MurmurNode's `/murmur/secagg/1`).
///
/// When `RoundRunner.secureAggregation` is set, clients answer a fit with their sample count and
/// loss only (an empty delta) and keep the update; the runner passes those results here and
/// applies the returned Δ̄ with the strategy's server step. The in-memory `SecureAggregation`
/// strategy computes the same Δ̄ from plaintext deltas in the simulation.
public protocol SecureRoundAggregation: Sendable {
    /// The mean update Δ̄ over the clients whose inputs entered the secure sum, from among
    /// `results` (the clients that completed local training this round, sorted by id).
    func meanUpdate(round: Int, results: [FitResult]) async throws -> [Float]

    /// The round's Δ̄, or nil when the round releases nothing and the model stays as it is
    /// (distributed DP: fewer survivors than the noise needs, `DistributedDP`). The default is
    /// `meanUpdate`.
    func release(round: Int, results: [FitResult]) async throws -> [Float]?
}

extension SecureRoundAggregation {
    /// Every round releases its mean update.
    public func release(round: Int, results: [FitResult]) async throws -> [Float]? {
        try await meanUpdate(round: round, results: results)
    }
}
