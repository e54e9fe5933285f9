import Foundation
import MurmurCore
import MurmurP2P
import MurmurSecAgg
import Testing

@testable import MurmurNode

/// SecAgg+ between libp2p peers: `SecAggCoordinator` on the aggregator, `SecAggClientService`
/// on each participant, over `/murmur/secagg/1`.
@Suite struct RoundsSecAggTests {
    static let dimension = 64

    /// What a participant does on a server message before handling it.
    enum Fault: Sendable {
        /// Loses its connection on receiving this kind of message.
        case disconnectOn(String)
        /// Stops answering (stalls) on receiving this kind of message.
        case stallOn(String)
    }

    /// Holds a host created after the closure that needs it.
    final class HostBox: @unchecked Sendable {
        // @unchecked: `host` is only touched under `lock`.
        private let lock = NSLock()
        private var host: P2PHost?
        func set(_ h: P2PHost) { lock.withLock { host = h } }
        var value: P2PHost? { lock.withLock { host } }
    }

    /// n participant hosts with seeded inputs, and an aggregator that knows their addresses.
    static func federation(_ n: Int, faults: [Int: Fault] = [:], log: ErrorLog? = nil) async throws -> (aggregator: P2PHost, peers: [PeerID], inputs: [[UInt32]]) {
        let aggregator = P2PHost(identity: Identity())
        var rng = SeededRNG(seed: 11)
        let inputs = (0..<n).map { _ in (0..<dimension).map { _ in UInt32(rng.next() % (1 << 16)) } }
        var peers = [PeerID]()
        for i in 0..<n {
            let identity = Identity()
            let box = HostBox()
            let fault = faults[i]
            let aggregatorID = aggregator.peerID
            var configuration = P2PHost.Configuration()
            configuration.handlers[SecAggWire.protocolID] = SecAggClientService(
                identity: identity, maxDimension: dimension, aggregators: [aggregatorID],
                input: { [input = inputs[i]] _ in input },
                onMessage: { m in
                    switch fault {
                    case .disconnectOn(let kind)? where m.kind == kind:
                        for c in box.value?.connections(to: aggregatorID) ?? [] { await c.close() }
                    case .stallOn(let kind)? where m.kind == kind:
                        try? await Task.sleep(for: .seconds(30))
                    default: break
                    }
                },
                onError: { _, e in log?.record(e) }
            ).handler
            let host = P2PHost(identity: identity, configuration: configuration)
            box.set(host)
            try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
            aggregator.addAddresses(host.addresses, for: host.peerID)
            peers.append(host.peerID)
        }
        return (aggregator, peers, inputs)
    }

    static func parameters(_ n: Int) throws -> SecAggParameters {
        try SecAggParameters(clientCount: n, degree: n - 1, threshold: 3, quantizer: try Quantizer(clip: 1, inputBits: 16, clientCount: n))
    }

    /// Σ of the listed inputs in Z_{2^b}.
    static func sum(_ inputs: [[UInt32]], of clients: [Int], mask: UInt32) -> [UInt32] {
        (0..<dimension).map { j in clients.reduce(UInt32(0)) { $0 &+ inputs[$1][j] } & mask }
    }

    @Test(.timeLimit(.minutes(3))) func networkedRoundSumsEveryInput() async throws {
        let (aggregator, peers, inputs) = try await Self.federation(5)
        let p = try Self.parameters(5)
        let outcome = try await SecAggCoordinator(host: aggregator, stageDeadline: .seconds(30)).run(
            round: 1, parameters: p, peers: peers, dimension: Self.dimension, graphSeed: 7)
        #expect(outcome.result.contributors == [0, 1, 2, 3, 4])
        #expect(outcome.dropped.isEmpty)
        #expect(outcome.result.sum == Self.sum(inputs, of: [0, 1, 2, 3, 4], mask: p.quantizer.ringMask))
    }

    /// 2 of 6 participants (a third) lose their connection: one before sharing its keys (not in
    /// the sum), one after sending its masked input (in the sum, recovered from its neighbours' shares).
    @Test(.timeLimit(.minutes(3))) func dropoutsMidRoundAreRecovered() async throws {
        let (aggregator, peers, inputs) = try await Self.federation(6, faults: [1: .disconnectOn("KeyRoster"), 4: .disconnectOn("UnmaskRequest")])
        let p = try Self.parameters(6)
        let outcome = try await SecAggCoordinator(host: aggregator, stageDeadline: .seconds(30)).run(
            round: 3, parameters: p, peers: peers, dimension: Self.dimension, graphSeed: 9)
        #expect(outcome.result.contributors == [0, 2, 3, 4, 5])
        #expect(outcome.dropped == [1: .shareKeys, 4: .unmasking])
        #expect(outcome.result.sum == Self.sum(inputs, of: [0, 2, 3, 4, 5], mask: p.quantizer.ringMask))
    }

    /// A participant that stalls before its masked input is dropped at the stage deadline; its
    /// pairwise masks are removed and the others' sum comes out.
    @Test(.timeLimit(.minutes(3))) func aStalledParticipantIsDroppedAtTheStageDeadline() async throws {
        let (aggregator, peers, inputs) = try await Self.federation(5, faults: [2: .stallOn("ShareBundle")])
        let p = try Self.parameters(5)
        // 8 s: long enough that the others finish every stage even on a loaded machine, short
        // enough that the test waits for the stalled one only that long.
        let outcome = try await SecAggCoordinator(host: aggregator, stageDeadline: .seconds(8)).run(
            round: 1, parameters: p, peers: peers, dimension: Self.dimension, graphSeed: 3)
        #expect(outcome.result.contributors == [0, 1, 3, 4])
        #expect(outcome.dropped == [2: .maskedInput])
        #expect(outcome.result.sum == Self.sum(inputs, of: [0, 1, 3, 4], mask: p.quantizer.ringMask))
    }

    @Test(.timeLimit(.minutes(3))) func tooManyDropoutsAbortWithTheThresholdError() async throws {
        let faults: [Int: Fault] = [0: .disconnectOn("KeyRoster"), 1: .disconnectOn("KeyRoster"), 2: .disconnectOn("KeyRoster")]
        let (aggregator, peers, _) = try await Self.federation(5, faults: faults)
        await #expect(throws: SecAggError.self) {
            _ = try await SecAggCoordinator(host: aggregator, stageDeadline: .seconds(30)).run(
                round: 1, parameters: try Self.parameters(5), peers: peers, dimension: Self.dimension, graphSeed: 3)
        }
    }

    /// Garbage in place of a setup, and a valid setup naming another node's key: each stream is
    /// reset with a typed error and the same nodes then complete a round.
    @Test(.timeLimit(.minutes(3))) func malformedStreamsAreResetAndTheNodeKeepsServing() async throws {
        let log = ErrorLog()
        let (aggregator, peers, inputs) = try await Self.federation(4, log: log)
        let p = try Self.parameters(4)
        let garbage = try await aggregator.newStream(to: peers[0], [SecAggWire.protocolID])
        try await garbage.write([0x04, 0xFF, 0xFF, 0xFF, 0xFF])
        try await garbage.closeWrite()
        await #expect(throws: P2PError.self) { _ = try await garbage.readToEnd(limit: 1024) }
        // A setup that puts peer 1's key at index 0, sent to peer 0.
        let keys = try [peers[1], peers[0], peers[2], peers[3]].map { try #require($0.publicKey) }
        let config = try SecAggRoundConfig(round: 1, parameters: p, participants: keys, dimension: Self.dimension, graphSeed: 1)
        let impostor = try await aggregator.newStream(to: peers[0], [SecAggWire.protocolID])
        try await impostor.write(SecAggClientService.frame(SecAggWire.encode(SecAggSetup(config: config, graphSeed: 1, index: 0))))
        await #expect(throws: P2PError.self) { _ = try await impostor.readToEnd(limit: 1024) }
        let errors = log.all.compactMap { $0 as? SecAggWireError }
        #expect(errors.count == 2 && errors.last == .notAParticipant(0))

        let outcome = try await SecAggCoordinator(host: aggregator, stageDeadline: .seconds(30)).run(
            round: 2, parameters: p, peers: peers, dimension: Self.dimension, graphSeed: 4)
        #expect(outcome.result.sum == Self.sum(inputs, of: [0, 1, 2, 3], mask: p.quantizer.ringMask))
    }

    @Test func setupRoundTripsAndIsBounded() throws {
        let keys = (0..<4).map { _ in Identity().publicKey }
        var config = try SecAggRoundConfig(round: 9, parameters: try Self.parameters(4), participants: keys, dimension: 10, graphSeed: 5)
        config.minimumSurvivors = 3
        let body = SecAggWire.encode(SecAggSetup(config: config, graphSeed: 5, index: 2))
        let d = try SecAggWire.decodeSetup(body, maxDimension: 10)
        #expect(d.index == 2 && d.graphSeed == 5 && d.config.round == 9 && d.config.minimumSurvivors == 3)
        #expect(d.config.participants == keys && d.config.parameters == config.parameters && d.config.graph == config.graph)
        #expect(throws: SecAggWireError.dimensionTooLarge(10, limit: 9)) { try SecAggWire.decodeSetup(body, maxDimension: 9) }
        #expect(throws: SecAggWireError.self) { try SecAggWire.decodeSetup(Array(body.dropLast(5)), maxDimension: 10) }
    }
}
