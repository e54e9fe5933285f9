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
    /// Model transparency (checkpoint gossip, model distribution by CID, witness quorum), nil when off.
    public let transparency: Transparency?
    private let handlers: [String: StreamHandler]
    private let parameterCount: Int

    /// An engine for `role` in the federation `config`.
    ///
    /// Secure aggregation and DP over nodes are not wired yet (the protocol pieces exist in
    /// MurmurNode/Rounds; docs/node.md), so such a federation is refused rather than run in
    /// the clear.
    public init(config: SimulationConfig, role: Role, deadline: Duration = .seconds(120),
                transparency settings: TransparencySettings? = nil,
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
        transparency = try Self.transparency(settings, role: role, simulation: simulation)
        switch role {
        case .client(let index, let aggregator):
            let apps = simulation.makeClientApps()
            guard apps.indices.contains(index) else {
                throw FederationEngineError.invalidRole("client index \(index) is outside 0..<\(apps.count)")
            }
            let app = transparency?.gate.map { $0.wrap(apps[index]) } ?? apps[index]
            handlers = [FLWire.protocolID: FLClientService(app: app, parameterCount: parameterCount, aggregators: [aggregator]).handler]
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
        var transport: any Transport = P2PTransport(host: node.host, peers: peers, parameterCount: parameterCount, deadline: deadline)
        if let publisher = transparency?.publisher { transport = publisher.wrap(transport, peers: peers, node: node, gossip: gossip) }
        var roundStart = Int64(Date().timeIntervalSince1970)
        let result = try await simulation.run(transport: transport, progress: { record in
            let now = Int64(Date().timeIntervalSince1970)
            try? node.recordRound(RoundSummary(
                round: record.round, status: .completed, participants: record.completed, accuracy: record.accuracy,
                startedAt: roundStart, finishedAt: now))
            roundStart = now
        })
        let metadata = simulation.config.modelMetadata(dataset: simulation.train.name, round: result.history.count)
        let artifact = ModelArtifact(network: try Network(config: result.model, parameters: result.parameters), metadata: metadata)
        let cid = try node.store.putModel(artifact)
        if let publisher = transparency?.publisher {
            // The final version is logged and cosigned before the last round is reported, so the summary's checkpoint carries it.
            _ = try await publisher.publish(version: result.history.count, parameters: result.parameters, node: node, gossip: gossip)
        }
        if let last = result.history.last {
            try node.recordRound(RoundSummary(
                round: last.round, status: .completed, model: cid.description, participants: last.completed,
                accuracy: result.final.accuracy, startedAt: roundStart, finishedAt: Int64(Date().timeIntervalSince1970)))
        }
        node.logger.info("federation finished: \(result.history.count) rounds, accuracy \(result.final.accuracy), model \(cid)")
        onFinish?(result, cid)
        if let gossiping { await withTaskCancellationHandler { await gossiping.value } onCancel: { gossiping.cancel() } }
    }
}

extension FederationEngine {
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
        let settings: TransparencySettings?
        do { settings = try TransparencySettings.from(config) } catch { throw FederationEngineError.invalidRole("\(error)") }
        return try FederationEngine(config: federation, role: role, deadline: deadline, transparency: settings)
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
