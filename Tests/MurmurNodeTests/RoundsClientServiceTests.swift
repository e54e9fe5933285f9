import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurP2P
import Testing

@testable import MurmurNode

/// A client app with fixed answers (no training), for protocol tests.
struct FixedClient: ClientApp {
    let id: ClientID
    let parameterCount: Int
    var delay: Double = 0
    var fails = false

    struct Refused: Error, CustomStringConvertible { var description: String { "no local data" } }

    func fit(_ instruction: FitInstruction) throws -> FitResult {
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if fails { throw Refused() }
        return FitResult(client: id, delta: instruction.parameters.map { $0 + Float(id) }, sampleCount: 10 + id, trainLoss: 0.5)
    }

    func evaluate(_ instruction: EvaluateInstruction) throws -> EvaluateResult {
        EvaluateResult(client: id, evaluation: Evaluation(accuracy: 0.75, loss: 1, count: 4))
    }
}

/// Errors a service reported, collected for assertions.
final class ErrorLog: @unchecked Sendable {
    // @unchecked: `errors` is only touched under `lock`.
    private let lock = NSLock()
    private var errors: [any Error] = []
    func record(_ e: any Error) { lock.withLock { errors.append(e) } }
    var all: [any Error] { lock.withLock { errors } }
}

/// A listening client node serving `/murmur/fl/1` for `app`, plus an aggregator host that knows it.
func clientNode(_ app: any ClientApp, parameterCount: Int, log: ErrorLog? = nil) async throws -> (client: P2PHost, aggregator: P2PHost) {
    var configuration = P2PHost.Configuration()
    configuration.handlers[FLWire.protocolID] = FLClientService(
        app: app, parameterCount: parameterCount, onError: { _, e in log?.record(e) }
    ).handler
    let client = P2PHost(identity: Identity(), configuration: configuration)
    try await client.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
    let aggregator = P2PHost(identity: Identity())
    aggregator.addAddresses(client.addresses, for: client.peerID)
    return (client, aggregator)
}

/// The client half of `/murmur/fl/1`: answers requests, resets streams with malformed input and
/// keeps serving.
@Suite struct RoundsClientServiceTests {
    /// Sends raw bytes on a new `/murmur/fl/1` stream and reads the answer (throws on reset).
    static func raw(_ bytes: [UInt8], from aggregator: P2PHost, to client: P2PHost) async throws -> [UInt8] {
        let stream = try await aggregator.newStream(to: client.peerID, [FLWire.protocolID])
        try await stream.write(bytes)
        try await stream.closeWrite()
        return try await stream.readToEnd(limit: 1 << 16)
    }

    @Test(.timeLimit(.minutes(3))) func malformedStreamsAreResetAndTheServiceKeepsServing() async throws {
        let log = ErrorLog()
        let (client, aggregator) = try await clientNode(FixedClient(id: 0, parameterCount: 3), parameterCount: 3, log: log)
        let transport = P2PTransport(host: aggregator, peers: [0: client.peerID], parameterCount: 3, deadline: .seconds(20))

        // 1. A well-framed body that is not a message; 2. a length prefix above the model's limit;
        // 3. an answer kind sent as a request; 4. a parameter vector of the wrong length.
        let garbage: [[UInt8]] = [
            [0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
            Varint.encode(UInt64(FLWire.maxMessageLength(parameterCount: 3) + 1)),
            FLWire.frame(.fitResult(FitResult(client: 0, delta: [1, 2, 3], sampleCount: 1, trainLoss: 0))),
            FLWire.frame(.evaluateInstruction(EvaluateInstruction(round: 1, parameters: [1, 2]))),
        ]
        for bytes in garbage {
            await #expect(throws: P2PError.self) { try await Self.raw(bytes, from: aggregator, to: client) }
        }
        let errors = log.all.compactMap { $0 as? FLWireError }
        #expect(errors.count == 4)
        #expect(errors.contains(.frameTooLarge(length: UInt64(FLWire.maxMessageLength(parameterCount: 3) + 1), limit: FLWire.maxMessageLength(parameterCount: 3))))
        #expect(errors.contains(.unexpectedKind(expected: "FitInstruction or EvaluateInstruction", got: "FitResult")))
        #expect(errors.contains(.parameterCountMismatch(expected: 3, got: 2)))

        // The same node still answers a valid request.
        let plan = LocalTrainingPlan(epochs: 1, batchSize: 4, learningRate: 0.1)
        let fit = try await transport.fit(FitInstruction(round: 1, parameters: [1, 2, 3], plan: plan, seed: 5), client: 0)
        #expect(fit.delta == [1, 2, 3] && fit.sampleCount == 10)
        let evaluation = try await transport.evaluate(EvaluateInstruction(round: 1, parameters: [0, 0, 0]), client: 0)
        #expect(evaluation.evaluation == Evaluation(accuracy: 0.75, loss: 1, count: 4))
        let (sent, received) = transport.traffic.totals
        #expect(sent > 0 && received > 0)
    }

    @Test(.timeLimit(.minutes(3))) func requestsFromOtherThanTheAggregatorAreRefused() async throws {
        let log = ErrorLog()
        var configuration = P2PHost.Configuration()
        let aggregator = P2PHost(identity: Identity())
        configuration.handlers[FLWire.protocolID] = FLClientService(
            app: FixedClient(id: 0, parameterCount: 1), parameterCount: 1, aggregators: [aggregator.peerID],
            onError: { _, e in log.record(e) }
        ).handler
        let client = P2PHost(identity: Identity(), configuration: configuration)
        try await client.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        let stranger = P2PHost(identity: Identity())
        stranger.addAddresses(client.addresses, for: client.peerID)
        let request = FLWire.frame(.evaluateInstruction(EvaluateInstruction(round: 1, parameters: [0])))
        await #expect(throws: P2PError.self) { try await Self.raw(request, from: stranger, to: client) }
        #expect(log.all.compactMap { $0 as? FLServiceError } == [.notAnAggregator(stranger.peerID.description)])
        aggregator.addAddresses(client.addresses, for: client.peerID)
        let answer = try await Self.raw(request, from: aggregator, to: client)
        guard case .evaluateResult(let e) = try FLWire.decodeFrame(answer, parameterCount: 1) else { Issue.record("wrong kind"); return }
        #expect(e.client == 0)
    }
}
