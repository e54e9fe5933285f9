import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurP2P
import Testing

@testable import MurmurNode

/// Issue 11 item 2: the round protocol over libp2p gives exactly the simulation's model, and a
/// client lost mid-round is counted as dropped while the round completes.
@Suite struct RoundsLoopbackFederationTests {
    /// 8 clients, 3 rounds, digits, a small MLP, every client every round.
    static func config() -> SimulationConfig {
        var c = SimulationConfig()
        c.dataset = .digits
        c.model = .mlp
        c.hidden = [32]
        c.clients = 8
        c.fraction = 1
        c.rounds = 3
        c.localEpochs = 1
        c.seed = 2026
        c.maxConcurrency = 4
        return c
    }

    static func modelCID(_ r: SimulationResult) throws -> CID {
        try ModelArtifact(network: try Network(config: r.model, parameters: r.parameters)).manifest.cid()
    }

    @Test(.timeLimit(.minutes(3))) func seededNetworkedRunEndsWithTheSimulatedModelCID() async throws {
        let simulation = try Simulation(config: Self.config())
        let simulated = try await simulation.run()
        let federation = try await LoopbackFederation.start(simulation, deadline: .seconds(60))
        let networked = try await federation.run()
        await federation.shutdown()

        #expect(networked.parameters.map(\.bitPattern) == simulated.parameters.map(\.bitPattern))
        #expect(try Self.modelCID(networked) == Self.modelCID(simulated))
        #expect(networked.history.map(\.completed) == [8, 8, 8])
        #expect(networked.history.map(\.trainLoss) == simulated.history.map(\.trainLoss))
        #expect(networked.history.map(\.accuracy) == simulated.history.map(\.accuracy))
        // The model learned something, so the equality is not between two untrained models.
        #expect(networked.final.accuracy > 0.5)
        // Each round sends the global model to 8 clients and gets 8 deltas back.
        let parameterCount = simulated.parameters.count
        let (sent, received) = federation.transport.traffic.totals
        #expect(sent >= 3 * 8 * 4 * parameterCount && received >= 3 * 8 * 4 * parameterCount)
    }

    @Test(.timeLimit(.minutes(3))) func aClientThatDisconnectsMidRoundIsDroppedAndTheRoundCompletes() async throws {
        let simulation = try Simulation(config: Self.config())
        let handle = FederationHandle()
        // Client 3 loses its link while training in round 2 and never comes back.
        let federation = try await LoopbackFederation.start(simulation, deadline: .seconds(60), wrap: { id, app in
            id == 3 ? VanishingClient(base: app, round: 2, handle: handle, id: id) : app
        })
        handle.set(federation)
        let result = try await federation.run()
        await federation.shutdown()
        #expect(result.history.map(\.completed) == [8, 7, 7])
        #expect(result.history.map(\.dropped) == [0, 1, 1])
        #expect(result.history.map(\.stragglers) == [0, 0, 0])
    }
}

/// Lets a client app reach the federation it is part of (set after start).
final class FederationHandle: @unchecked Sendable {
    // @unchecked: `federation` is only touched under `lock`.
    private let lock = NSLock()
    private var federation: LoopbackFederation?
    func set(_ f: LoopbackFederation) { lock.withLock { federation = f } }
    var value: LoopbackFederation? { lock.withLock { federation } }
}

/// A client whose node goes off the network while it trains in `round`: the answer it computes
/// has no connection to travel on.
struct VanishingClient: ClientApp {
    let base: any ClientApp
    let round: Int
    let handle: FederationHandle
    let id: ClientID

    func fit(_ instruction: FitInstruction) throws -> FitResult {
        if instruction.round == round, let federation = handle.value {
            let gone = DispatchSemaphore(value: 0)
            let id = self.id
            Task {
                await federation.disconnect(client: id)
                gone.signal()
            }
            gone.wait()
        }
        return try base.fit(instruction)
    }

    func evaluate(_ instruction: EvaluateInstruction) throws -> EvaluateResult { try base.evaluate(instruction) }
}
