import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurP2P
import MurmurSecAgg

/// Errors of a node's federation settings, each naming what to fix.
public enum FederationEngineError: Error, Equatable, CustomStringConvertible {
    /// The federation's settings cannot run over the network (yet), or are inconsistent.
    case unsupported(String)
    /// A client index outside the federation, or a client address without `/p2p/<id>`.
    case invalidRole(String)

    public var description: String {
        switch self {
        case .unsupported(let m): return "federation: \(m)"
        case .invalidRole(let m): return "federation role: \(m)"
        }
    }
}

/// A federation run by real nodes: the `RoundEngine` that makes `Node`s train together.
///
/// Every node holds the same `SimulationConfig` (data set, partition, model, strategy, rounds,
/// seed, and `secagg`/`dp`/`scoring`). A client node serves `/murmur/fl/1` for its own shard
/// (client `index` of the partition) and, under `--secagg`, `/murmur/secagg/1` with its kept
/// update; it answers only the aggregator. The aggregator node drives the rounds through
/// `P2PTransport` (and `NetworkSecureAggregation`) with the simulation's strategy and settings,
/// records each round for `/v1/rounds` (and the dashboard) and in its ledger (model version,
/// contributions, reward), and stores the final model in `node.sqlite` (served at
/// `/v1/models/{cid}`). The protocol code is the one `LoopbackFederation` checks against the
/// simulation, so a seeded run over nodes ends with the simulated model CID.
public struct FederationEngine: RoundEngine {
    /// What this node does in the federation.
    public enum Role: Sendable {
        /// Trains shard `index` when `aggregator` asks.
        case client(index: ClientID, aggregator: PeerID)
        /// Runs the rounds; `clients[i]` is client i's address ending in `/p2p/<id>`.
        case aggregator(clients: [Multiaddr])
    }

    /// The federation (every node builds the same one from the same settings).
    public let simulation: Simulation
    /// This node's part.
    public let role: Role
    /// How long one client may take to answer a fit or evaluate request.
    public let deadline: Duration
    /// How long each SecAgg+ stage waits for the participants (a client that does not answer
    /// in time is a dropout of that stage).
    public let stageDeadline: Duration
    /// Whether the aggregator records the rounds in its node ledger.
    public let recordsLedger: Bool
    /// Called on the aggregator when the last round is done, with the result and the model's CID.
    public let onFinish: (@Sendable (SimulationResult, CID) -> Void)?
    /// Model transparency (checkpoint gossip, model distribution by CID, witness quorum), nil when off.
    public let transparency: Transparency?
    private let handlers: [String: StreamHandler]
    private let parameterCount: Int
    /// The aggregator's fault point (`fit-result`), nil on clients and without fault injection.
    private let aggregatorFault: FaultPoint?

    /// An engine for `role` in the federation `config`.
    ///
    /// Under `--secagg` a client node needs its `identity` (the node's key: it is the client's
    /// SecAgg+ participant key). With a ledger and no `--scoring`, the aggregator scores
    /// participation (as `murmur simulate --ledger` does), which does not change the training.
    /// `fault` makes a client crash at a chosen step (fault tests, `murmur cluster --kill-clients`).
    /// Local DP (`--dp local`) is refused: the simulation adds each client's noise at the
    /// aggregator, which between nodes would see the clear update. `settings` turn on model
    /// transparency (checkpoints cosigned by witnesses, models announced by CID and checked).
    public init(config: SimulationConfig, role: Role, identity: Identity? = nil, deadline: Duration = .seconds(120),
                stageDeadline: Duration = .seconds(60), recordsLedger: Bool = true, fault: FaultPoint? = nil,
                transparency settings: TransparencySettings? = nil, dataFolder: String? = nil,
                onFinish: (@Sendable (SimulationResult, CID) -> Void)? = nil) throws {
        var config = config
        if let dp = config.dp, dp.mode == .local {
            throw FederationEngineError.unsupported(
                "--dp local is simulated by noising each update at the aggregator, which between nodes would receive it in the clear; use --dp central, or --secagg --dp central (clients add the noise)")
        }
        if config.secagg != nil, let scoring = config.scoring, scoring.method != .participation {
            throw FederationEngineError.unsupported(
                "--scoring \(scoring.method.rawValue) with --secagg scores groups' sums computed in memory; between nodes use --scoring participation")
        }
        if case .aggregator = role, recordsLedger, config.scoring == nil {
            config.scoring = ContributionScoring(method: .participation)
        }
        let simulation: Simulation
        do { simulation = try Simulation(config: config) } catch let e as FLError {
            throw FederationEngineError.unsupported(e.description)
        }
        self.simulation = simulation
        self.role = role
        self.deadline = deadline
        self.stageDeadline = stageDeadline
        self.recordsLedger = recordsLedger
        self.onFinish = onFinish
        let parameterCount = try Network(config: simulation.model, seed: 0).parameterCount
        self.parameterCount = parameterCount
        transparency = try Self.transparency(settings, role: role, simulation: simulation)
        switch role {
        case .client(let index, let aggregator):
            let apps = simulation.makeClientApps()
            guard apps.indices.contains(index) else {
                throw FederationEngineError.invalidRole("client index \(index) is outside 0..<\(apps.count)")
            }
            // A device's own data (`data_folder`) replaces the seeded shard of the bundled set.
            let own: any ClientApp = try dataFolder.map {
                SimulatedClient(id: index, data: try Self.localData(folder: $0, model: simulation.model), model: simulation.model)
            } ?? apps[index]
            let withheld = try simulation.secureUpdateStore(dimension: parameterCount)
            let gated = transparency?.gate.map { $0.wrap(own) } ?? own
            let app: any ClientApp = fault.map { FaultingClientApp(base: gated, fault: $0) } ?? gated
            var handlers = [FLWire.protocolID: FLClientService(
                app: app, parameterCount: parameterCount, aggregators: [aggregator], withheld: withheld).handler]
            if let withheld {
                guard let identity else {
                    throw FederationEngineError.invalidRole("a client node under --secagg needs the node's identity (its SecAgg+ key)")
                }
                var observe: (@Sendable (SecAggMessage) async -> Void)? = nil
                if let fault { observe = { m in fault.check(round: Int(m.round), message: m.kind) } }
                handlers[SecAggWire.protocolID] = SecAggClientService(
                    identity: identity, maxDimension: parameterCount, aggregators: [aggregator], input: withheld.provider,
                    onMessage: observe).handler
            }
            self.handlers = handlers
        case .aggregator(let clients):
            guard clients.count == config.clients else {
                throw FederationEngineError.invalidRole("the federation has \(config.clients) clients but \(clients.count) addresses were given")
            }
            for a in clients where a.peerID == nil {
                throw FederationEngineError.invalidRole("client address \(a) does not end in /p2p/<peer id>")
            }
            handlers = [:]
        }
        if case .aggregator = role { aggregatorFault = fault } else { aggregatorFault = nil }
    }

    public var protocolHandlers: [String: StreamHandler] {
        handlers.merging(transparency?.protocolHandlers ?? [:]) { mine, _ in mine }
    }

    /// The aggregator runs every round, then returns; a client serves until the node stops.
    public func run(_ node: NodeContext) async throws {
        let gossip = try transparency?.start(node)
        guard case .aggregator(let clients) = role else {
            await gossip?.run()
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        // Gossip runs beside the rounds (checkpoints out, evidence in) and after them until the node stops.
        let gossiping = gossip.map { g in Task { await g.run() } }
        defer { gossiping?.cancel() }
        var peers = [ClientID: PeerID]()
        for (id, address) in clients.enumerated() {
            guard let peer = address.peerID else { continue }
            node.host.addAddresses([address], for: peer)
            peers[id] = peer
        }
        let secure = simulation.config.secagg != nil
        var transport: any Transport = P2PTransport(
            host: node.host, peers: peers, parameterCount: parameterCount, deadline: deadline, withheldDeltas: secure)
        let resume = try resumePoint(node)
        if let resume, resume.round >= simulation.config.rounds {
            // Killed after the last round's model was stored but maybe before its summary named it.
            let last = try node.store.rounds(limit: 1).first
            if last?.model == nil, let progress = try node.store.aggregatorProgress() {
                let accuracy = try Network(config: simulation.model, parameters: resume.parameters).evaluate(simulation.test).accuracy
                try node.recordRound(RoundSummary(
                    round: resume.round, status: .completed, model: progress.model, participants: last?.participants ?? 0,
                    accuracy: accuracy, startedAt: last?.startedAt ?? Int64(Date().timeIntervalSince1970), finishedAt: Int64(Date().timeIntervalSince1970)))
            }
            node.logger.info("federation already finished (round \(resume.round)); nothing to run")
            return
        }
        let outcomes = SecAggOutcomes()
        var secureAggregation = try simulation.networkSecureAggregation(
            coordinator: SecAggCoordinator(host: node.host, stageDeadline: stageDeadline), peers: peers, dimension: parameterCount)
        secureAggregation?.onOutcome = { round, ids, outcome in
            outcomes.record(round: round, ids: ids, outcome: outcome)
            if !outcome.dropped.isEmpty {
                node.logger.warning("round \(round): SecAgg+ dropouts \(outcome.dropped.keys.sorted().map { ids[$0] }) recovered; \(outcome.result.contributors.count) of \(ids.count) in the sum")
            }
        }
        let recorder = recordsLedger
            ? try await FederationLedgerRecorder.start(node, records: FederationLedgerRecords(
                simulation: simulation, members: clients.map { $0.peerID?.description ?? "" }))
            : nil
        let fingerprint = try AggregatorProgress.fingerprint(of: simulation.config)
        /// `/v1/rounds`' detail: the SecAgg+ outcome and whether the round was retried after a restart.
        func detail(_ round: Int) -> String? {
            let retried = resume.map { round == $0.round + 1 } == true ? "retried after an aggregator restart" : nil
            let parts = [outcomes.detail(round: round), retried].compactMap { $0 }
            return parts.isEmpty ? nil : parts.joined(separator: "; ")
        }
        if let aggregatorFault { transport = FaultingTransport(base: transport, fault: aggregatorFault) }
        if let publisher = transparency?.publisher {
            // The publisher reuses the ledger's model-version records, so the recorder catches up first.
            transport = publisher.wrap(transport, peers: peers, node: node, gossip: gossip, beforePublish: { await recorder?.flush() })
        }
        var roundStart = Int64(Date().timeIntervalSince1970)
        let result = try await simulation.run(transport: transport, secureAggregation: secureAggregation, resume: resume, afterRound: { record, global in
            // The model and progress are durable before the round is reported (and before the next
            // round starts): a round listed in /v1/rounds is never retried.
            let artifact = ModelArtifact(network: try Network(config: simulation.model, parameters: global),
                                         metadata: simulation.config.modelMetadata(dataset: simulation.train.name, round: record.round))
            try node.store.saveAggregatorProgress(federation: fingerprint, round: record.round, model: artifact)
            let now = Int64(Date().timeIntervalSince1970)
            try? node.recordRound(RoundSummary(
                round: record.round, status: .completed, participants: record.completed, accuracy: record.accuracy,
                epsilon: record.epsilon, startedAt: roundStart, finishedAt: now, detail: detail(record.round)))
            roundStart = now
            var record = record
            // Under SecAgg+, only the clients whose input entered the sum took part in the model.
            if let inSum = outcomes.contributors(round: record.round) {
                record.contributions = record.contributions?.filter { inSum.contains($0.client) }
            }
            recorder?.record(record, parameters: global)
        })
        await recorder?.finish()
        let lastRound = result.history.last?.round ?? simulation.config.rounds
        let metadata = simulation.config.modelMetadata(dataset: simulation.train.name, round: lastRound)
        let artifact = ModelArtifact(network: try Network(config: result.model, parameters: result.parameters), metadata: metadata)
        let cid = try node.store.putModel(artifact)
        if let publisher = transparency?.publisher {
            // The final version is logged and cosigned before the last round is reported, so the summary's checkpoint carries it.
            _ = try await publisher.publish(version: lastRound, parameters: result.parameters, node: node, gossip: gossip)
        }
        if let last = result.history.last {
            try node.recordRound(RoundSummary(
                round: last.round, status: .completed, model: cid.description, participants: last.completed,
                accuracy: result.final.accuracy, epsilon: last.epsilon, startedAt: roundStart,
                finishedAt: Int64(Date().timeIntervalSince1970), detail: detail(last.round)))
        }
        node.logger.info("federation finished: \(lastRound) rounds, accuracy \(result.final.accuracy), model \(cid)")
        onFinish?(result, cid)
        if let gossiping { await withTaskCancellationHandler { await gossiping.value } onCancel: { gossiping.cancel() } }
    }
}

/// Who entered each round's SecAgg+ sum, as `NetworkSecureAggregation.onOutcome` reports it.
final class SecAggOutcomes: @unchecked Sendable {
    // @unchecked: `rounds` is only touched under `lock`.
    private let lock = NSLock()
    private var rounds: [Int: (contributors: Set<ClientID>, dropped: [ClientID: SecAggStage], count: Int)] = [:]

    func record(round: Int, ids: [ClientID], outcome: SecAggNetworkOutcome) {
        let contributors = Set(outcome.result.contributors.map { ids[$0] })
        let dropped = Dictionary(uniqueKeysWithValues: outcome.dropped.map { (ids[$0.key], $0.value) })
        lock.withLock { rounds[round] = (contributors, dropped, ids.count) }
    }

    /// The client ids in round `round`'s sum (nil when the round ran no SecAgg+).
    func contributors(round: Int) -> Set<ClientID>? { lock.withLock { rounds[round]?.contributors } }

    /// A line for `/v1/rounds`: how many inputs entered the sum and who dropped at which stage.
    func detail(round: Int) -> String? {
        guard let r = lock.withLock({ rounds[round] }) else { return nil }
        let dropped = r.dropped.sorted { $0.key < $1.key }.map { "client \($0.key) (\($0.value))" }
        return "secagg: \(r.contributors.count) of \(r.count) inputs in the sum" + (dropped.isEmpty ? "" : "; dropped " + dropped.joined(separator: ", "))
    }
}

extension FederationEngine {
    /// Where a restarted aggregator resumes: the last stored round of this federation and the
    /// global model after it (nil = start at round 1). Progress of other settings is ignored.
    func resumePoint(_ node: NodeContext) throws -> (round: Int, parameters: [Float])? {
        guard let progress = try node.store.aggregatorProgress(),
              progress.federation == (try AggregatorProgress.fingerprint(of: simulation.config)), progress.round >= 1 else { return nil }
        let parameters = try node.store.modelParameters(progress.model)
        guard parameters.count == parameterCount else {
            throw FederationEngineError.unsupported("the stored model \(progress.model) has \(parameters.count) parameters, the federation's model \(parameterCount)")
        }
        if progress.round < simulation.config.rounds {
            node.logger.notice("resuming the federation after round \(progress.round) (model \(progress.model)): round \(progress.round + 1) is retried")
        }
        return (progress.round, parameters)
    }

    /// The engine a node's `federation`, `client_index`, `aggregator` and `clients` settings
    /// describe, or nil when the node is in no federation.
    /// `fault` is passed to the engine (`murmur node` reads it from `MURMUR_FAULT_CRASH_AT`).
    public static func from(_ config: NodeConfig, deadline: Duration = .seconds(120), fault: FaultPoint? = nil) throws -> FederationEngine? {
        guard let path = config.federation else { return nil }
        let federation: SimulationConfig
        do {
            federation = try JSONDecoder().decode(SimulationConfig.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw FederationEngineError.unsupported("cannot read \(path) as a SimulationConfig JSON: \(error)")
        }
        let role: Role
        if config.has(.aggregator) {
            role = .aggregator(clients: try config.clients.map { try Multiaddr($0) })
        } else if config.has(.client), let index = config.clientIndex, let aggregator = config.aggregator {
            role = .client(index: index, aggregator: try PeerID(parsing: aggregator))
        } else {
            throw FederationEngineError.invalidRole("a node in a federation needs the aggregator role, or the client role with client_index and aggregator")
        }
        // The node's key (created here on a first start, then read by `Node`) is a client's SecAgg+ key.
        let identity = federation.secagg == nil ? nil : try NodeKeys.identity(at: config.identityPath).identity
        let settings: TransparencySettings?
        do { settings = try TransparencySettings.from(config) } catch { throw FederationEngineError.invalidRole("\(error)") }
        return try FederationEngine(config: federation, role: role, identity: identity, deadline: deadline, fault: fault,
                                    transparency: settings, dataFolder: config.has(.client) ? config.dataFolder : nil)
    }

    /// A client node's local training set: the one CSV file (`.csv` or `.csv.gz`) in `folder`,
    /// features then the label in the last column, labels the integers 0..<classes of `model`
    /// (MurmurML's `CSVLoader`). Throws when the folder holds no or several data files, or rows
    /// of another width than the model's input.
    public static func localData(folder: String, model: ModelConfig) throws -> Dataset {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let files = names.filter { $0.hasSuffix(".csv") || $0.hasSuffix(".csv.gz") }.sorted()
        guard files.count == 1 else {
            throw FederationEngineError.invalidRole(
                "data_folder \(folder) must hold exactly one .csv or .csv.gz file (features, then the label); found \(files.isEmpty ? "none" : files.joined(separator: ", "))")
        }
        let path = folder + "/" + files[0]
        let data: Dataset
        do { data = try CSVLoader.load(path: path, classCount: model.classCount) } catch {
            throw FederationEngineError.invalidRole("data_folder: \(error)")
        }
        let features = model.inputShape.reduce(1, *)
        guard data.featureCount == features else {
            throw FederationEngineError.invalidRole("data_folder: \(path) has \(data.featureCount) features per row; the federation's model reads \(features)")
        }
        guard data.count > 0 else { throw FederationEngineError.invalidRole("data_folder: \(path) has no rows") }
        return data
    }
}

extension FederationEngine {
    /// The transparency part for `role` (a client's gate, the aggregator's publisher), nil without settings.
    static func transparency(_ settings: TransparencySettings?, role: Role, simulation: Simulation) throws -> Transparency? {
        guard let settings else { return nil }
        switch role {
        case .client(_, let aggregator):
            do { return Transparency(settings: settings, gate: try ModelGate(settings: settings, aggregator: aggregator)) } catch {
                throw FederationEngineError.invalidRole("\(error)")
            }
        case .aggregator:
            let config = simulation.config, dataset = simulation.train.name
            let publisher = ModelPublisher(settings: settings, model: simulation.model, strategy: config.strategy.rawValue) {
                config.modelMetadata(dataset: dataset, round: $0)
            }
            return Transparency(settings: settings, publisher: publisher)
        }
    }
}
