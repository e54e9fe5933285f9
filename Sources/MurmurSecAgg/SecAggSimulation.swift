import Foundation
import MurmurCore

/// The stage before which a simulated client drops out (it sends nothing from then on).
public enum SecAggStage: Int, Sendable, CaseIterable, Comparable {
    /// Never sends its keys.
    case advertiseKeys = 1
    /// Advertises keys, never sends shares.
    case shareKeys
    /// Shares keys, never sends its masked input (its pairwise masks are then removed).
    case maskedInput
    /// Sends its masked input, never answers the unmask request.
    case unmasking

    public static func < (a: SecAggStage, b: SecAggStage) -> Bool { a.rawValue < b.rawValue }
}

/// Costs of one simulated round, for `SecAggBenchmark` and `murmur simulate --secagg`.
/// Compute is process CPU time (all threads), which a machine shared with other jobs inflates far
/// less than wall time; `serverWallSeconds` shows what the unmasking threads save in latency.
public struct SecAggRoundStats: Sendable, Equatable {
    /// Total client compute (all clients, all stages), CPU seconds.
    public var clientSeconds: Double = 0
    /// Largest single-client compute, CPU seconds.
    public var maxClientSeconds: Double = 0
    /// Server compute (validation, routing, unmasking), CPU seconds over all its threads.
    public var serverSeconds: Double = 0
    /// Server wall time for the same work, seconds.
    public var serverWallSeconds: Double = 0
    /// Wire bytes sent by each client, indexed by client.
    public var bytesSent: [Int] = []
    /// Wire bytes received by each client, indexed by client.
    public var bytesReceived: [Int] = []
    /// Clients that stopped because their own checks failed (they count as dropouts).
    public var clientFailures: [Int: SecAggError] = [:]
}

/// An in-memory driver that runs one SecAgg+ round for n simulated clients through the wire
/// encoding, with dropouts injected at any stage.
///
/// The same loop a network driver runs: deliver, collect, `closeStage()` when everyone alive
/// has answered; useful for tests, `murmur simulate --secagg` and benchmarks.
public enum SecAggSimulation {
    /// Runs a round: client i holds `inputs[i]` and drops before `dropouts[i]` (if listed).
    public static func run(
        config: SecAggRoundConfig, identities: [Identity], inputs: [[UInt32]],
        dropouts: [Int: SecAggStage] = [:], prg: MaskPRG = .protocolDefault,
        observer: ((SecAggMessage) -> Void)? = nil
    ) throws -> (result: SecAggResult, stats: SecAggRoundStats) {
        let n = config.participants.count
        guard identities.count == n, inputs.count == n else {
            throw SecAggError.invalidParameters("need \(n) identities and inputs, got \(identities.count) and \(inputs.count)")
        }
        let clock = ContinuousClock()
        var stats = SecAggRoundStats(bytesSent: Array(repeating: 0, count: n), bytesReceived: Array(repeating: 0, count: n))
        var clientTime = [Double](repeating: 0, count: n)
        var clients = try (0..<n).map {
            try SecAggClient(index: $0, identity: identities[$0], config: config, input: inputs[$0], prg: prg)
        }
        var server = SecAggServer(config: config, prg: prg)
        var failed = [Int: SecAggError]()
        func alive(_ u: Int, _ stage: SecAggStage) -> Bool {
            guard failed[u] == nil else { return false }
            guard let d = dropouts[u] else { return true }
            return d > stage
        }

        func toServer(_ actions: [SecAggAction], from u: Int) throws {
            for case .send(let m) in actions {
                observer?(m)
                let bytes = m.encoded()
                stats.bytesSent[u] += bytes.count
                let start = clock.now, cpu = CPUTime.process()
                _ = try server.receive(try SecAggMessage(decoding: bytes))
                stats.serverSeconds += CPUTime.process() - cpu
                stats.serverWallSeconds += seconds(clock.now - start)
            }
        }
        // Stage 1.
        for u in 0..<n where alive(u, .advertiseKeys) {
            let cpu = CPUTime.process()
            let out = try clients[u].start()
            clientTime[u] += CPUTime.process() - cpu
            try toServer(out, from: u)
        }
        var pending = try timed(&stats) { try server.closeStage() }
        for stage in [SecAggStage.shareKeys, .maskedInput, .unmasking] {
            for case .send(let m) in pending {
                let u = m.client
                let bytes = m.encoded()
                guard alive(u, stage) else { continue }
                observer?(m)
                stats.bytesReceived[u] += bytes.count
                let cpu = CPUTime.process()
                let out: [SecAggAction]
                do {
                    out = try clients[u].receive(try SecAggMessage(decoding: bytes))
                } catch let error as SecAggError {
                    // An honest client that cannot continue (e.g. fewer than t neighbours left) drops out.
                    failed[u] = error
                    continue
                }
                clientTime[u] += CPUTime.process() - cpu
                try toServer(out, from: u)
            }
            pending = try timed(&stats) { try server.closeStage() }
        }
        guard case .finished(let result)? = pending.first else {
            throw SecAggError.unexpectedMessage(kind: "closeStage", stage: "\(server.state)")
        }
        stats.clientFailures = failed
        stats.clientSeconds = clientTime.reduce(0, +)
        stats.maxClientSeconds = clientTime.max() ?? 0
        return (result, stats)
    }

    /// Securely sums float updates end to end: quantize each (clip, q bits, stochastic rounding
    /// from `seed`), run a round with `parameters`, and dequantize Σ_{u∈U3} of the survivors.
    ///
    /// The entry point for `murmur simulate --secagg`: the caller divides by the contributor count
    /// (or weights) to get the mean update.
    public static func sumUpdates(
        _ updates: [[Float]], parameters: SecAggParameters, identities: [Identity],
        dropouts: [Int: SecAggStage] = [:], round: UInt64 = 1, seed: UInt64 = 1
    ) throws -> (sum: [Float], contributors: [Int], stats: SecAggRoundStats) {
        guard let d = updates.first?.count, updates.allSatisfy({ $0.count == d }) else {
            throw SecAggError.invalidParameters("updates must be non-empty and of equal length")
        }
        let quantizer = parameters.quantizer
        let inputs = updates.enumerated().map { i, x in
            var rng = SeededRNG(seed: seed, stream: UInt64(i))
            return quantizer.quantize(x, rng: &rng)
        }
        let (result, stats) = try sumRing(
            inputs, parameters: parameters, identities: identities, dropouts: dropouts, round: round, seed: seed)
        return (quantizer.dequantizeSum(result.sum, count: result.contributors.count), result.contributors, stats)
    }

    /// Securely sums inputs already encoded in Z_{2^b} (b = `parameters.quantizer.ringBits`):
    /// one round over `identities` with the graph drawn from `seed`; honest clients refuse to
    /// unmask when fewer than `minimumSurvivors` masked inputs arrived.
    ///
    /// The entry point for distributed DP, whose clients encode (scale, round, add discrete
    /// Gaussian noise) themselves.
    public static func sumRing(
        _ inputs: [[UInt32]], parameters: SecAggParameters, identities: [Identity],
        dropouts: [Int: SecAggStage] = [:], round: UInt64 = 1, seed: UInt64 = 1, minimumSurvivors: Int = 0
    ) throws -> (result: SecAggResult, stats: SecAggRoundStats) {
        guard let d = inputs.first?.count, inputs.allSatisfy({ $0.count == d }) else {
            throw SecAggError.invalidParameters("inputs must be non-empty and of equal length")
        }
        var config = try SecAggRoundConfig(
            round: round, parameters: parameters, participants: identities.map(\.publicKey), dimension: d, graphSeed: seed)
        config.minimumSurvivors = minimumSurvivors
        return try run(config: config, identities: identities, inputs: inputs, dropouts: dropouts)
    }

    private static func timed<T>(_ stats: inout SecAggRoundStats, _ body: () throws -> T) rethrows -> T {
        let clock = ContinuousClock()
        let start = clock.now, cpu = CPUTime.process()
        defer {
            stats.serverSeconds += CPUTime.process() - cpu
            stats.serverWallSeconds += seconds(clock.now - start)
        }
        return try body()
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

