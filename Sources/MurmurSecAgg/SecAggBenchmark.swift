import Foundation
import MurmurCore

/// One measured SecAgg+ round.
public struct SecAggBenchmarkResult: Sendable, Hashable {
    /// Clients n.
    public let clients: Int
    /// Vector length d.
    public let dimension: Int
    /// Fraction of clients dropped after sharing keys (the costliest stage for the server).
    public let dropoutRate: Double
    /// Graph degree k and threshold t used.
    public let degree: Int, threshold: Int
    /// Ring bits b.
    public let ringBits: Int
    /// Mean and max compute per client over the whole round, CPU seconds.
    public let clientSecondsMean: Double, clientSecondsMax: Double
    /// Server compute for the whole round, CPU seconds (all its threads).
    public let serverSeconds: Double
    /// Server wall time for the whole round, seconds.
    public let serverWallSeconds: Double
    /// Mean wire bytes sent and received per client.
    public let bytesSentPerClient: Double, bytesReceivedPerClient: Double
}

/// Runs in-memory SecAgg+ rounds and reports client/server compute and bytes per client, the
/// figures issue 5 asks for (`murmur bench secagg` will print these).
public enum SecAggBenchmark {
    /// One round of n clients with d-dimensional inputs; `dropoutRate` of the clients drop after
    /// sharing keys. k and t come from `SecAggParameters.derive` (δ = dropoutRate, γ =
    /// corruptionRate) or, when no graph meets its bounds, the complete graph with t = ⌊n/2⌋ + 1.
    public static func run(
        clients n: Int, dimension d: Int, dropoutRate: Double, corruptionRate: Double = 0.05, inputBits: Int = 16,
        prg: MaskPRG = .protocolDefault, seed: UInt64 = 1
    ) throws -> SecAggBenchmarkResult {
        let parameters: SecAggParameters
        do {
            parameters = try SecAggParameters.derive(
                clientCount: n, dropoutRate: dropoutRate, corruptionRate: corruptionRate, inputBits: inputBits)
        } catch {
            let q = try Quantizer(clip: 1, inputBits: inputBits, clientCount: n)
            parameters = try SecAggParameters(clientCount: n, degree: n - 1, threshold: n / 2 + 1, quantizer: q)
        }
        var rng = SeededRNG(seed: seed)
        let identities = (0..<n).map { _ in Identity(deterministic: &rng) }
        let config = try SecAggRoundConfig(
            round: 1, parameters: parameters, participants: identities.map(\.publicKey), dimension: d, graphSeed: seed)
        let mask = UInt64(1) << UInt64(inputBits) - 1
        let inputs = (0..<n).map { _ in (0..<d).map { _ in UInt32(truncatingIfNeeded: rng.next() & mask) } }
        var dropouts = [Int: SecAggStage]()
        for u in Array(0..<n).shuffled(using: &rng).prefix(Int((Double(n) * dropoutRate).rounded())) {
            dropouts[u] = .maskedInput
        }
        let (_, stats) = try SecAggSimulation.run(config: config, identities: identities, inputs: inputs, dropouts: dropouts, prg: prg)
        return SecAggBenchmarkResult(
            clients: n, dimension: d, dropoutRate: dropoutRate, degree: parameters.degree, threshold: parameters.threshold,
            ringBits: parameters.quantizer.ringBits,
            clientSecondsMean: stats.clientSeconds / Double(n), clientSecondsMax: stats.maxClientSeconds,
            serverSeconds: stats.serverSeconds, serverWallSeconds: stats.serverWallSeconds,
            bytesSentPerClient: Double(stats.bytesSent.reduce(0, +)) / Double(n),
            bytesReceivedPerClient: Double(stats.bytesReceived.reduce(0, +)) / Double(n))
    }
}
