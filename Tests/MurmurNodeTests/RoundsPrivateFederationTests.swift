import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurP2P
import NIOConcurrencyHelpers
import Testing

@testable import MurmurNode

/// Real `Node`s train under SecAgg+, central DP and distributed DP (and with leave-one-out
/// contribution scores, which need the clear updates) with `FederationEngine`: the
/// aggregator ends with the seeded simulation's model CID and records every round in its ledger
/// (model version, one contribution per participant, reward), which `GET /v1/ledger/state` shows
/// (issue 11, items 2 and 4).
@Suite struct RoundsPrivateFederationTests {
    enum Privacy: String, CaseIterable, Sendable {
        case secagg, centralDP, distributedDP, leaveOneOut
    }

    /// 4 clients, 2 rounds of the loopback federation, with `privacy`.
    static func config(_ privacy: Privacy) -> SimulationConfig {
        var c = RoundsLoopbackFederationTests.config()
        c.clients = 4
        c.rounds = 2
        var dp = DPConfig()
        dp.noiseMultiplier = 0.5
        dp.clipNorm = 1
        switch privacy {
        case .secagg: c.secagg = SecAggSettings()
        case .centralDP: c.dp = dp
        case .distributedDP:
            c.secagg = SecAggSettings()
            c.dp = dp
        case .leaveOneOut: c.scoring = ContributionScoring(method: .loo)
        }
        return c
    }

    @Test(.timeLimit(.minutes(4)), arguments: Privacy.allCases)
    func privateNodeFederationEndsWithTheSimulatedModelAndLedgersItsRounds(_ privacy: Privacy) async throws {
        let federation = Self.config(privacy)
        let simulated = try await Simulation(config: federation).run()
        let run = try await NodeFederation.run(federation, name: privacy.rawValue)
        let (result, cid) = try #require(run.finished)
        #expect(result.parameters.map(\.bitPattern) == simulated.parameters.map(\.bitPattern), "\(privacy)")
        let simulatedModel = ModelArtifact(
            network: try Network(config: simulated.model, parameters: simulated.parameters),
            metadata: federation.modelMetadata(dataset: "digits", round: federation.rounds))
        #expect(cid == (try simulatedModel.manifest.cid()))
        #expect(result.history.map(\.epsilon) == simulated.history.map(\.epsilon))

        // The ledger: genesis, then per round a model version, 4 contributions and a reward.
        let ledger = run.ledger
        #expect(ledger["size"] as? Int == 1 + 2 * (1 + 4 + 1), "\(ledger)")
        let state = try #require(ledger["state"] as? [String: Any])
        #expect(state["round"] as? Int == 2)
        #expect(state["model"] as? String == cid.description)
        #expect(Set(state["members"] as? [String] ?? []) == Set(run.clientPeers))
        #expect(state["coordinators"] as? [String] == [run.aggregatorPeer])
        let balances = state["balances"] as? [String: Int] ?? [:]
        if federation.scoring == nil {
            // Participation: everyone who took part is paid.
            #expect(Set(balances.keys) == Set(run.clientPeers) && balances.values.allSatisfy { $0 > 0 }, "\(balances)")
        } else {
            // Leave-one-out: paid by score (a client that made the validation loss worse gets 0).
            #expect(!balances.isEmpty && Set(balances.keys).isSubset(of: Set(run.clientPeers)), "\(balances)")
        }
        if federation.dp != nil {
            #expect((state["epsilon_spent_micros"] as? Int ?? 0) > 0, "\(state)")
            #expect(run.rounds.allSatisfy { $0["epsilon"] is Double }, "\(run.rounds)")
        }
        if federation.secagg != nil {
            #expect(run.rounds.contains { ($0["detail"] as? String ?? "").contains("4 of 4 inputs in the sum") }, "\(run.rounds)")
        }
    }
}

/// Client nodes and an aggregator node running one federation in this process (each with its
/// own data folder, HTTP API and libp2p host), until the aggregator finishes.
struct NodeFederation {
    var finished: (SimulationResult, CID)?
    /// `GET /v1/ledger/state` of the aggregator after the run.
    var ledger: [String: Any]
    /// `GET /v1/rounds` rows of the aggregator after the run.
    var rounds: [[String: Any]]
    var clientPeers: [String]
    var aggregatorPeer: String

    static func run(_ federation: SimulationConfig, name: String, faults: [ClientID: FaultPoint] = [:]) async throws -> NodeFederation {
        let dir = temporaryFolder("federation-\(name)")
        defer { cleanup(dir) }
        let aggregatorKey = dir + "/aggregator.key"
        let aggregatorID = try NodeKeys.identity(at: aggregatorKey).identity.peerID
        var clients: [Node] = []
        var runners: [Task<Void, any Error>] = []
        var addresses: [Multiaddr] = []
        for i in 0..<federation.clients {
            let config = testConfig(dir + "/client\(i)")
            let identity = try NodeKeys.identity(at: config.identityPath).identity
            let engine = try FederationEngine(
                config: federation, role: .client(index: i, aggregator: aggregatorID), identity: identity, fault: faults[i])
            let node = try Node(config: config, roundEngine: engine, logger: quietLogger)
            runners.append(Task { try await node.run() })
            let endpoints = try await withDeadline(seconds: 20, "client \(i) start") { try await node.waitUntilStarted() }
            addresses.append(try #require(endpoints.p2p.first))
            clients.append(node)
        }
        defer {
            let stopping = clients
            Task { for c in stopping { await c.shutdown() } }
        }
        let finished = NIOLockedValueBox<(SimulationResult, CID)?>(nil)
        let engine = try FederationEngine(
            config: federation, role: .aggregator(clients: addresses), deadline: .seconds(60), stageDeadline: .seconds(20)
        ) { r, cid in finished.withLockedValue { $0 = (r, cid) } }
        var config = testConfig(dir + "/aggregator")
        config.roles = [.aggregator]
        config.identityFile = aggregatorKey
        let aggregator = try Node(config: config, roundEngine: engine, logger: quietLogger)
        let (ledger, rounds) = try await withRunningNode(aggregator) { e in
            _ = await eventually(seconds: 55) { finished.withLockedValue { $0 } != nil }
            let ledger = try await http("GET", e.http.appendingPathComponent("v1/ledger/state")).object
            let rounds = try await http("GET", e.http.appendingPathComponent("v1/rounds")).object["rounds"] as? [[String: Any]] ?? []
            return (UncheckedBox(ledger), UncheckedBox(rounds))
        }
        for c in clients { await c.shutdown() }
        for r in runners { _ = try? await withDeadline(seconds: 20, "client stop") { try await r.value } }
        return NodeFederation(
            finished: finished.withLockedValue { $0 }, ledger: ledger.value, rounds: rounds.value,
            clientPeers: addresses.compactMap { $0.peerID?.description }, aggregatorPeer: aggregatorID.description)
    }
}

/// Carries a JSON object out of a `@Sendable` closure (it is read once, after the closure returned).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
