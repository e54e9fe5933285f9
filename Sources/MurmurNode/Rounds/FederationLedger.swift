import Foundation
import NIOConcurrencyHelpers
import MurmurCore
import MurmurFL
import MurmurLedger
import MurmurML

/// The ledger records of a federation (docs/ledger.md): its genesis, and per round the
/// model-version record and one contribution record per scored participant.
///
/// One mapping from MurmurFL's rounds to MurmurLedger's records, used by `murmur simulate
/// --ledger` (seeded peer ids, a ledger directory) and by the aggregator node
/// (`FederationEngine`: the clients' real peer ids, the node's log), so both ledgers of the same
/// federation hold the same model CIDs, scores and rewards.
public struct FederationLedgerRecords: Sendable {
    /// The federation.
    public let simulation: Simulation
    /// Client index → peer id.
    public let members: [String]
    /// The dataset name in the model metadata (`SimulationConfig.modelMetadata`).
    public let dataset: String

    /// Records for `simulation` whose client i is `members[i]`.
    public init(simulation: Simulation, members: [String]) throws {
        guard members.count == simulation.config.clients else {
            throw FLError.invalidConfiguration("the ledger names \(members.count) members for \(simulation.config.clients) clients")
        }
        self.simulation = simulation
        self.members = members
        dataset = simulation.train.name
    }

    /// The CID of the model artifact `parameters` form after `round` rounds.
    public func modelCID(_ parameters: [Float], round: Int) throws -> String {
        let metadata = simulation.config.modelMetadata(dataset: dataset, round: round)
        return try ModelArtifact(network: try Network(config: simulation.model, parameters: parameters), metadata: metadata)
            .manifest.cid().description
    }

    /// The genesis: the members, `coordinator` as the only coordinator, the clients per round,
    /// and under DP the noise, clip and ε budget of the plan; the initial model's CID.
    public func genesis(federation: String, coordinator: String) throws -> Genesis {
        let config = simulation.config
        let initial = try simulation.initialParameters()
        var parameters = FederationParameters(clientsPerRound: max(1, Int((config.fraction * Double(config.clients)).rounded())))
        if let dp = config.dp, let plan = try simulation.privacyPlan(dimension: initial.count) {
            // DP samples clients by Poisson (q = fraction): a round may hold more than q·n of them.
            parameters.clientsPerRound = config.clients
            parameters.noiseMultiplierMilli = FixedPoint.milli(plan.noiseMultiplier)
            parameters.clipNormMilli = max(1, FixedPoint.milli(dp.clipNorm))
            parameters.epsilonBudgetMicros = Int(((plan.epsilons.last ?? 0) * 1e6).rounded(.up))
        }
        return Genesis(
            federation: federation, members: members, coordinators: [coordinator], parameters: parameters,
            initialModel: try modelCID(initial, round: 0))
    }

    /// Round `r`'s model-version record (parent = the ledger's current model, ε spent this round)
    /// and its contribution records (scores below zero recorded as 0), given the ledger `state`
    /// before the round.
    public func round(_ r: RoundRecord, parameters: [Float], state: LedgerState) throws -> (version: ModelVersion, contributions: [Contribution]) {
        let model = try modelCID(parameters, round: r.round)
        let contributions = r.contributions ?? []
        // The ledger adds up per-round ε; the accountant's running total telescopes into increments.
        let spent = max(0, FixedPoint.micros(r.epsilon ?? 0) - state.epsilonSpentMicros)
        let version = ModelVersion(
            round: r.round, parent: state.model, model: model, strategy: simulation.config.strategy.rawValue, epsilonMicros: spent,
            participants: contributions.map { members[$0.client] }.sorted())
        let records = contributions.map {
            Contribution.scored(round: r.round, peer: members[$0.client], samples: $0.samples, score: $0.score,
                                method: $0.method.rawValue, anomalous: $0.excluded ?? false)
        }
        return (version, records)
    }
}

/// Appends a federation's rounds to the aggregator node's ledger (`NodeLedger`), one batch per
/// round in round order, off the round loop (the runner's `afterRound` cannot wait).
///
/// On a node whose ledger is empty it first appends the genesis (the clients as members, this
/// node as coordinator). A ledger that already holds another federation, or rounds of this one,
/// is left alone (logged): resuming a federation's ledger is the aggregator restart's business.
final class FederationLedgerRecorder: Sendable {
    /// Appends one round (called in round order, one at a time).
    private let write: @Sendable (RoundRecord, [Float]) async -> Void
    /// The last queued append; each new one waits for it, so rounds land in order.
    private let tail = NIOLockedValueBox(Task<Void, Never> {})

    private init(write: @escaping @Sendable (RoundRecord, [Float]) async -> Void) { self.write = write }

    /// Writes the genesis if needed and starts the appender; nil when this ledger cannot take the rounds.
    static func start(_ node: NodeContext, records: FederationLedgerRecords) async throws -> FederationLedgerRecorder? {
        let ledger = node.ledger
        let me = node.identity
        let state = await ledger.state
        if !state.started {
            let genesis = try records.genesis(federation: ledger.origin, coordinator: me.peerID.description)
            let outcome = try await ledger.append([LedgerRecord.sign(genesis, by: me)]).first
            if let rejection = outcome?.rejection {
                throw FederationEngineError.unsupported("the federation's ledger genesis was rejected: \(rejection)")
            }
        } else if state.members != records.members || !state.coordinators.contains(me.peerID.description) || state.round != 0 {
            node.logger.warning("the node's ledger already holds federation '\(state.federation)' at round \(state.round); this run's rounds are not recorded in it")
            return nil
        }
        return FederationLedgerRecorder { record, parameters in
            do {
                let (version, contributions) = try records.round(record, parameters: parameters, state: await ledger.state)
                let outcomes = try await ledger.appendRound(version, contributions: contributions, coordinator: me)
                for bad in outcomes where !bad.accepted {
                    node.logger.warning("ledger: round \(record.round)'s \(bad.schema) record was rejected: \(bad.rejection.map { "\($0)" } ?? "")")
                }
            } catch {
                node.logger.error("ledger: round \(record.round) not recorded: \(error)")
            }
        }
    }

    /// Queues round `record` with the global parameters after it.
    func record(_ record: RoundRecord, parameters: [Float]) {
        let write = self.write
        tail.withLockedValue { previous in
            let before = previous
            previous = Task {
                await before.value
                await write(record, parameters)
            }
        }
    }

    /// Waits until every round queued so far is in the ledger.
    func flush() async { await tail.withLockedValue { $0 }.value }

    /// Waits until every queued round is in the ledger.
    func finish() async { await flush() }
}
