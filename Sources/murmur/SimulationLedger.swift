import ArgumentParser
import Foundation
import MurmurCore
import MurmurFL
import MurmurLedger
import MurmurML

/// Records a simulated federation in a MurmurLedger directory (`murmur simulate --ledger DIR`,
/// `murmur demo`): a genesis naming the clients and the coordinator, then per round one batch of a
/// model-version record, one contribution record per participant and the reward record, each
/// batch closed by a signed checkpoint. Identities are derived from the seed, so a rerun with the
/// same seed writes the same records (timestamps aside: none are recorded).
final class SimulationLedger {
    let writer: LedgerWriter
    let coordinator: Identity
    /// Client index → peer id.
    let peers: [String]
    let modelConfig: ModelConfig
    let metadata: (Int) -> [String: String]
    let strategy: String

    /// Creates the ledger in `path` (which must not exist or be empty).
    init(path: String, config: SimulationConfig, simulation: Simulation, metadata: @escaping (Int) -> [String: String]) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: path), let items = try? fm.contentsOfDirectory(atPath: path), !items.isEmpty {
            throw ValidationError("--ledger \(path) is not empty; give a new or empty directory (inspect an existing one with `murmur ledger state \(path)`)")
        }
        var rng = SeededRNG(seed: config.seed, stream: 0x1ED6E5)
        coordinator = Identity(deterministic: &rng)
        peers = (0..<config.clients).map { _ in Identity(deterministic: &rng).peerID.description }
        modelConfig = simulation.model
        self.metadata = metadata
        strategy = config.strategy.rawValue
        var parameters = FederationParameters(clientsPerRound: max(1, Int((config.fraction * Double(config.clients)).rounded())))
        if let dp = config.dp, let plan = try simulation.privacyPlan(dimension: try simulation.initialParameters().count) {
            // DP samples clients by Poisson (q = fraction): a round may hold more than q·n of them.
            parameters.clientsPerRound = config.clients
            parameters.noiseMultiplierMilli = FixedPoint.milli(plan.noiseMultiplier)
            parameters.clipNormMilli = max(1, FixedPoint.milli(dp.clipNorm))
            parameters.epsilonBudgetMicros = Int(((plan.epsilons.last ?? 0) * 1e6).rounded(.up))
        }
        let initial = try Self.cid(try simulation.initialParameters(), config: modelConfig, metadata: metadata(0))
        let genesis = Genesis(
            federation: "murmur-simulation", members: peers, coordinators: [coordinator.peerID.description],
            parameters: parameters, initialModel: initial)
        writer = try LedgerWriter.create(path: path, origin: "murmur.simulation/\(config.seed)", genesis: genesis, founder: coordinator)
    }

    static func cid(_ parameters: [Float], config: ModelConfig, metadata: [String: String]) throws -> String {
        try ModelArtifact(network: try Network(config: config, parameters: parameters), metadata: metadata).manifest.cid().description
    }

    /// Records one finished round; rejected records (which the log keeps) are an error here,
    /// because the simulation writes them itself and they must be valid.
    func record(_ r: RoundRecord, parameters: [Float]) throws {
        let model = try Self.cid(parameters, config: modelConfig, metadata: metadata(r.round))
        let contributions = r.contributions ?? []
        // The ledger adds up per-round ε; the accountant's running total telescopes into increments.
        let spent = max(0, FixedPoint.micros(r.epsilon ?? 0) - writer.state.epsilonSpentMicros)
        let version = ModelVersion(
            round: r.round, parent: writer.state.model, model: model, strategy: strategy, epsilonMicros: spent,
            participants: contributions.map { peers[$0.client] }.sorted())
        // Scores below zero (a client that made the validation loss worse) are recorded as 0.
        let records = contributions.map {
            Contribution.scored(round: r.round, peer: peers[$0.client], samples: $0.samples, score: $0.score,
                                method: $0.method.rawValue, anomalous: $0.excluded ?? false)
        }
        let (outcomes, _) = try writer.recordRound(version, contributions: records, coordinator: coordinator)
        if let bad = outcomes.first(where: { !$0.accepted }) {
            throw ValidationError("ledger: round \(r.round)'s \(bad.schema) record was rejected: \(bad.rejection.map { "\($0)" } ?? "")")
        }
    }

    /// The closing summary: top balances, credits paid, the current model and the checkpoint.
    func summary(top: Int = 5) throws -> String {
        let s = writer.state
        let byPeer = Dictionary(uniqueKeysWithValues: peers.enumerated().map { ($1, $0) })
        let ranked = s.balances.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(top)
        var lines = ["ledger: \(writer.directory.path), \(s.entries) records, state digest \(try s.digest())"]
        lines.append("top contributors by credits: " + ranked.map { "client \(byPeer[$0.key] ?? -1) (\($0.key.prefix(16))…) \($0.value)" }.joined(separator: ", "))
        lines.append("rewards paid: \(s.minted) credits over \(s.round) rounds (\(s.burned) unpaid), current model \(s.model ?? "none")")
        lines.append("checkpoint:\n" + (try writer.latestCheckpoint()).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        return lines.joined(separator: "\n")
    }
}
