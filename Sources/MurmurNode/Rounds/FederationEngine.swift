import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurP2P

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
/// seed). A client node serves `/murmur/fl/1` for its own shard (client `index` of the
/// partition) and answers only the aggregator; the aggregator node drives the rounds through
/// `P2PTransport` with the simulation's strategy and settings, records each round for
/// `/v1/rounds` (and the dashboard), and stores the final model in `node.sqlite` (served at
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
    /// Called on the aggregator when the last round is done, with the result and the model's CID.
    public let onFinish: (@Sendable (SimulationResult, CID) -> Void)?
    private let handlers: [String: StreamHandler]
    private let parameterCount: Int

    /// An engine for `role` in the federation `config`.
    ///
    /// Secure aggregation and DP over nodes are not wired yet (the protocol pieces exist in
    /// MurmurNode/Rounds; docs/node.md), so such a federation is refused rather than run in
    /// the clear.
    public init(config: SimulationConfig, role: Role, deadline: Duration = .seconds(120),
                onFinish: (@Sendable (SimulationResult, CID) -> Void)? = nil) throws {
        guard config.secagg == nil, config.dp == nil else {
            throw FederationEngineError.unsupported("secure aggregation and DP between nodes are not wired into the node yet; run them with `murmur simulate`")
        }
        guard config.scoring == nil else { throw FederationEngineError.unsupported("contribution scoring between nodes is not wired yet") }
        let simulation = try Simulation(config: config)
        self.simulation = simulation
        self.role = role
        self.deadline = deadline
        self.onFinish = onFinish
        parameterCount = try Network(config: simulation.model, seed: 0).parameterCount
        switch role {
        case .client(let index, let aggregator):
            let apps = simulation.makeClientApps()
            guard apps.indices.contains(index) else {
                throw FederationEngineError.invalidRole("client index \(index) is outside 0..<\(apps.count)")
            }
            handlers = [FLWire.protocolID: FLClientService(app: apps[index], parameterCount: parameterCount, aggregators: [aggregator]).handler]
        case .aggregator(let clients):
            guard clients.count == config.clients else {
                throw FederationEngineError.invalidRole("the federation has \(config.clients) clients but \(clients.count) addresses were given")
            }
            for a in clients where a.peerID == nil {
                throw FederationEngineError.invalidRole("client address \(a) does not end in /p2p/<peer id>")
            }
            handlers = [:]
        }
    }

    public var protocolHandlers: [String: StreamHandler] { handlers }

    /// The aggregator runs every round, then returns; a client serves until the node stops.
    public func run(_ node: NodeContext) async throws {
        guard case .aggregator(let clients) = role else {
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        var peers = [ClientID: PeerID]()
        for (id, address) in clients.enumerated() {
            guard let peer = address.peerID else { continue }
            node.host.addAddresses([address], for: peer)
            peers[id] = peer
        }
        let transport = P2PTransport(host: node.host, peers: peers, parameterCount: parameterCount, deadline: deadline)
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
        let fingerprint = try AggregatorProgress.fingerprint(of: simulation.config)
        var roundStart = Int64(Date().timeIntervalSince1970)
        let result = try await simulation.run(transport: transport, resume: resume, afterRound: { record, global in
            // The model and progress are durable before the round is reported (and before the next
            // round starts): a round listed in /v1/rounds is never retried.
            let artifact = ModelArtifact(network: try Network(config: simulation.model, parameters: global),
                                         metadata: simulation.config.modelMetadata(dataset: simulation.train.name, round: record.round))
            try node.store.saveAggregatorProgress(federation: fingerprint, round: record.round, model: artifact)
            let now = Int64(Date().timeIntervalSince1970)
            let retried = resume.map { record.round == $0.round + 1 } ?? false
            try? node.recordRound(RoundSummary(
                round: record.round, status: .completed, participants: record.completed, accuracy: record.accuracy,
                startedAt: roundStart, finishedAt: now, detail: retried ? "retried after an aggregator restart" : nil))
            roundStart = now
        })
        let lastRound = result.history.last?.round ?? simulation.config.rounds
        let metadata = simulation.config.modelMetadata(dataset: simulation.train.name, round: lastRound)
        let artifact = ModelArtifact(network: try Network(config: result.model, parameters: result.parameters), metadata: metadata)
        let cid = try node.store.putModel(artifact)
        if let last = result.history.last {
            try node.recordRound(RoundSummary(
                round: last.round, status: .completed, model: cid.description, participants: last.completed,
                accuracy: result.final.accuracy, startedAt: roundStart, finishedAt: Int64(Date().timeIntervalSince1970),
                detail: resume.map { last.round == $0.round + 1 } == true ? "retried after an aggregator restart" : nil))
        }
        node.logger.info("federation finished: \(lastRound) rounds, accuracy \(result.final.accuracy), model \(cid)")
        onFinish?(result, cid)
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
    public static func from(_ config: NodeConfig, deadline: Duration = .seconds(120)) throws -> FederationEngine? {
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
        return try FederationEngine(config: federation, role: role, deadline: deadline)
    }
}
