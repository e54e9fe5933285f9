import Foundation
import MurmurCore
import MurmurLog
import MurmurML
import MurmurP2P
import Testing

@testable import MurmurNode

/// A logged model whose weights exceed one block (`Block.maxSize`): the aggregator stores them
/// again as 1 MiB chunks, the announcement names their chunk list (`weights_chunks`), and a client
/// fetches the chunks over `/murmur/blocks/1` and checks the reassembled weights against the
/// model's manifest before accepting it. No training: the parameters are random.
@Suite("Transparency: models over one block", .timeLimit(.minutes(2)))
struct TransparencyLargeModelTests {
    @Test func weightsOverOneBlockCrossAsCheckedChunks() async throws {
        let dir = temporaryFolder("transparency-large")
        defer { cleanup(dir) }
        // MLP 64-4096-10: 303,114 parameters, 1.2 MB of float32 weights, two chunks.
        let model = ModelConfig(architecture: .mlp(hidden: [4096]), inputShape: [64], classCount: 10)
        let count = try Network(config: model, seed: 1).parameterCount
        var rng = SeededRNG(seed: 11)
        let parameters = (0..<count).map { _ in rng.nextFloat() - 0.5 }
        let aggregator = try Node(config: testConfig(dir + "/aggregator"), logger: quietLogger)
        let client = try Node(config: testConfig(dir + "/client"), logger: quietLogger)
        try await withRunningNode(aggregator) { ae in
            try await withRunningNode(client) { _ in
                let publisher = ModelPublisher(settings: try TransparencySettings(logKey: nil, witnesses: [], quorum: 0),
                                               model: model, strategy: "fedavg") { _ in [:] }
                let a = try await publisher.publish(version: 0, parameters: parameters, node: aggregator.context, gossip: nil)
                try #require(a.weightsChunks != nil, "weights over one block must be announced as chunks")
                let aggregatorID = aggregator.context.identity.peerID
                client.context.host.addAddresses([try #require(ae.p2p.first)], for: aggregatorID)
                let settings = try TransparencySettings(logKey: try VerifierKey(aggregator.context.ledger.verifierKey), witnesses: [], quorum: 0)

                // A chunk list that is not these weights' (another object's) is refused after the fetch.
                let gate0 = try ModelGate(settings: settings, aggregator: aggregatorID)
                gate0.attach(client.context)
                let other = try aggregator.context.store.putWeightChunks(ModelArtifact(network: try Network(config: model, seed: 2)))
                var lying = a
                lying.weightsChunks = try #require(other).description
                await #expect(throws: ModelRefusal.self) { try await gate0.accept(lying) }
                #expect(try client.context.store.model(a.model) == nil)

                let gate = try ModelGate(settings: settings, aggregator: aggregatorID)
                gate.attach(client.context)
                try await gate.accept(a)
                #expect(gate.acceptedModel(round: 1) == a.model)
                let held = try #require(try client.context.store.model(a.model))
                #expect(held.weights.count > Block.maxSize)
                let back = try Network(config: held.manifest.config, safetensors: held.weights).parameters
                #expect(back.count == parameters.count)
                #expect(zip(back, parameters).allSatisfy { $0.bitPattern == $1.bitPattern })
            }
        }
    }
}
