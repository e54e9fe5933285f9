import MurmurCore
import MurmurFL
import MurmurML
import MurmurP2P
import Testing

@testable import MurmurNode

/// `P2PTransport`: every way a networked client can fail maps to the `FLError` the round runner counts.
@Suite struct RoundsTransportTests {
    static let plan = LocalTrainingPlan(epochs: 1, batchSize: 4, learningRate: 0.1)

    @Test(.timeLimit(.minutes(3))) func aSlowClientTimesOutAtTheDeadline() async throws {
        let (client, aggregator) = try await clientNode(FixedClient(id: 0, parameterCount: 2, delay: 30), parameterCount: 2)
        let transport = P2PTransport(host: aggregator, peers: [0: client.peerID], parameterCount: 2, deadline: .seconds(1))
        // The 30 s client is abandoned after 1 s (the test's 1 min limit proves the wait is bounded).
        await #expect(throws: FLError.clientTimedOut(0)) {
            _ = try await transport.fit(FitInstruction(round: 1, parameters: [0, 0], plan: Self.plan, seed: 1), client: 0)
        }
    }

    @Test(.timeLimit(.minutes(3))) func failuresAndUnreachablePeersCountAsDropped() async throws {
        let (client, aggregator) = try await clientNode(FixedClient(id: 4, parameterCount: 2, fails: true), parameterCount: 2)
        let nowhere = P2PHost(identity: Identity()).peerID
        let transport = P2PTransport(host: aggregator, peers: [4: client.peerID, 5: nowhere], parameterCount: 2, deadline: .seconds(20))
        #expect(await transport.onlineClients() == [4, 5])
        let instruction = FitInstruction(round: 1, parameters: [0, 0], plan: Self.plan, seed: 1)
        // The client answers with a `failure` message (its app threw).
        await #expect(throws: FLError.clientDropped(4)) { _ = try await transport.fit(instruction, client: 4) }
        // No connection and no address.
        await #expect(throws: FLError.clientDropped(5)) { _ = try await transport.fit(instruction, client: 5) }
        await #expect(throws: FLError.unknownClient(6)) { _ = try await transport.fit(instruction, client: 6) }
    }

    @Test(.timeLimit(.minutes(3))) func anAnswerForAnotherClientIsMalformed() async throws {
        // The node serving client 1 answers as client 2.
        let (client, aggregator) = try await clientNode(FixedClient(id: 2, parameterCount: 1), parameterCount: 1)
        let transport = P2PTransport(host: aggregator, peers: [1: client.peerID], parameterCount: 1, deadline: .seconds(20))
        await #expect(throws: FLError.malformedUpdate(client: 1, reason: "the answer names client 2")) {
            _ = try await transport.fit(FitInstruction(round: 1, parameters: [0], plan: Self.plan, seed: 1), client: 1)
        }
    }
}
