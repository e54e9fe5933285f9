import MurmurCore
import MurmurFL
import MurmurML
import MurmurP2P
import MurmurSecAgg

/// A simulated federation whose clients are real libp2p nodes on 127.0.0.1 in this process:
/// one `P2PHost` per client serving `/murmur/fl/1`, and an aggregator host driving the same
/// `Simulation` (strategy, settings, evaluation) through `P2PTransport`.
///
/// This is how the networked protocol is checked against the simulation (a seeded networked run
/// ends with the simulated run's model CID) and how its overhead is measured, without processes.
public final class LoopbackFederation: Sendable {
    /// The federation being run.
    public let simulation: Simulation
    /// The aggregator's host.
    public let aggregator: P2PHost
    /// Client `i`'s host is `clients[i]`.
    public let clients: [P2PHost]
    /// The transport the rounds run over.
    public let transport: P2PTransport
    /// Under `--secagg`: each round's SecAgg+ over `/murmur/secagg/1` (nil otherwise).
    public let secureAggregation: NetworkSecureAggregation?
    private let stopListeners: [@Sendable () -> Void]

    /// Starts one listening host per client of `simulation` (clients from `makeClientApps()`,
    /// optionally wrapped by `wrap`, e.g. to inject a fault) and an aggregator that knows their
    /// addresses. With `--secagg` the clients also serve `/murmur/secagg/1` and keep their
    /// updates for it (with `--dp`, noised and encoded for distributed DP); `onSecAggMessage` sees each server message a client receives.
    public static func start(
        _ simulation: Simulation, deadline: Duration = .seconds(120), stageDeadline: Duration = .seconds(60),
        onClientError: FLClientService.ErrorHandler? = nil,
        onSecAggMessage: (@Sendable (ClientID, SecAggMessage) async -> Void)? = nil,
        onSecAggOutcome: (@Sendable (Int, [ClientID], SecAggNetworkOutcome) -> Void)? = nil,
        wrap: @Sendable (ClientID, any ClientApp) -> any ClientApp = { $1 }
    ) async throws -> LoopbackFederation {
        let secagg = simulation.config.secagg
        let parameterCount = try Network(config: simulation.model, seed: 0).parameterCount
        let aggregator = P2PHost(identity: Identity())
        var hosts = [P2PHost]()
        var stops = [@Sendable () -> Void]()
        var peers = [ClientID: PeerID]()
        let loopback = try Multiaddr("/ip4/127.0.0.1/tcp/0")
        for (id, app) in simulation.makeClientApps().enumerated() {
            var configuration = P2PHost.Configuration()
            let identity = Identity()
            let withheld = try simulation.secureUpdateStore(dimension: parameterCount)
            configuration.handlers[FLWire.protocolID] = FLClientService(
                app: wrap(id, app), parameterCount: parameterCount, aggregators: [aggregator.peerID],
                withheld: withheld, onError: onClientError
            ).handler
            if let withheld {
                let observe: (@Sendable (SecAggMessage) async -> Void)? =
                    if let onSecAggMessage { { message in await onSecAggMessage(id, message) } } else { nil }
                configuration.handlers[SecAggWire.protocolID] = SecAggClientService(
                    identity: identity, maxDimension: parameterCount, aggregators: [aggregator.peerID],
                    input: withheld.provider, onMessage: observe,
                    onError: onClientError
                ).handler
            }
            let host = P2PHost(identity: identity, configuration: configuration)
            let listener = try await host.listen(loopback)
            stops.append { listener.close(promise: nil) }
            aggregator.addAddresses(host.addresses, for: host.peerID)
            peers[id] = host.peerID
            hosts.append(host)
        }
        let transport = P2PTransport(
            host: aggregator, peers: peers, parameterCount: parameterCount, deadline: deadline, withheldDeltas: secagg != nil)
        var secure = try simulation.networkSecureAggregation(
            coordinator: SecAggCoordinator(host: aggregator, stageDeadline: stageDeadline), peers: peers, dimension: parameterCount)
        secure?.onOutcome = onSecAggOutcome
        return LoopbackFederation(
            simulation: simulation, aggregator: aggregator, clients: hosts, transport: transport, secure: secure, stops: stops)
    }

    private init(simulation: Simulation, aggregator: P2PHost, clients: [P2PHost], transport: P2PTransport,
                 secure: NetworkSecureAggregation?, stops: [@Sendable () -> Void]) {
        self.secureAggregation = secure
        self.simulation = simulation
        self.aggregator = aggregator
        self.clients = clients
        self.transport = transport
        self.stopListeners = stops
    }

    /// Runs the simulation's rounds over the network (`Simulation.run(transport:)`).
    public func run(progress: (RoundRecord) -> Void = { _ in }) async throws -> SimulationResult {
        try await simulation.run(transport: transport, secureAggregation: secureAggregation, progress: progress)
    }

    /// Takes client `id` off the network: stops its listener and closes its connections, as a
    /// device that crashes or loses its link would.
    public func disconnect(client id: ClientID) async {
        guard clients.indices.contains(id) else { return }
        stopListeners[id]()
        await clients[id].closeConnections()
    }

    /// Stops every listener and closes every connection.
    public func shutdown() async {
        for id in clients.indices { await disconnect(client: id) }
        await aggregator.closeConnections()
    }
}
