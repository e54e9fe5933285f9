import ArgumentParser
import Foundation
import MurmurCore
import MurmurFL
import MurmurLedger
import MurmurML
import MurmurNode

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
    /// The record mapping shared with the aggregator node (MurmurNode's `FederationLedgerRecords`).
    let records: FederationLedgerRecords

    /// Creates the ledger in `path` (which must not exist or be empty).
    init(path: String, config: SimulationConfig, simulation: Simulation) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: path), let items = try? fm.contentsOfDirectory(atPath: path), !items.isEmpty {
            throw ValidationError("--ledger \(path) is not empty; give a new or empty directory (inspect an existing one with `murmur ledger state \(path)`)")
        }
        var rng = SeededRNG(seed: config.seed, stream: 0x1ED6E5)
        coordinator = Identity(deterministic: &rng)
        peers = (0..<config.clients).map { _ in Identity(deterministic: &rng).peerID.description }
        records = try FederationLedgerRecords(simulation: simulation, members: peers)
        let genesis = try records.genesis(federation: "murmur-simulation", coordinator: coordinator.peerID.description)
        writer = try LedgerWriter.create(path: path, origin: "murmur.simulation/\(config.seed)", genesis: genesis, founder: coordinator)
    }

    /// Records one finished round; rejected records (which the log keeps) are an error here,
    /// because the simulation writes them itself and they must be valid.
    func record(_ r: RoundRecord, parameters: [Float]) throws {
        let (version, contributions) = try records.round(r, parameters: parameters, state: writer.state)
        let (outcomes, _) = try writer.recordRound(version, contributions: contributions, coordinator: coordinator)
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
