import Dispatch
import MurmurCore
import MurmurFL
import MurmurP2P

/// Serves `/murmur/fl/1` for one `ClientApp`: reads a fit or evaluate request, runs it, answers.
///
/// The client half of the networked round protocol (docs/node.md, "Networked rounds"); register
/// `handler` under `FLWire.protocolID` in a `P2PHost.Configuration`. Malformed input resets the
/// stream and is reported to `onError`; the host keeps serving other streams.
public struct FLClientService: Sendable {
    /// Called with the sending peer and the typed error of every rejected stream (for logs and
    /// peer scoring).
    public typealias ErrorHandler = @Sendable (PeerID?, any Error) -> Void

    /// The device's round-protocol logic (a `SimulatedClient` in tests and the cluster).
    public let app: any ClientApp
    /// The model's parameter count: every parameter vector must have it; it bounds frame sizes.
    public let parameterCount: Int
    /// Peers allowed to send requests (nil = any authenticated peer).
    public let aggregators: Set<PeerID>?
    /// Under secure aggregation: where fit deltas are kept (answers then carry an empty delta).
    public let withheld: SecureUpdateStore?
    let onError: ErrorHandler?

    /// A service for `app` whose model has `parameterCount` parameters.
    public init(app: any ClientApp, parameterCount: Int, aggregators: Set<PeerID>? = nil,
                withheld: SecureUpdateStore? = nil, onError: ErrorHandler? = nil) {
        self.app = app
        self.withheld = withheld
        self.parameterCount = parameterCount
        self.aggregators = aggregators
        self.onError = onError
    }

    /// The stream handler to register under `FLWire.protocolID`.
    public var handler: StreamHandler { { stream in try await self.serve(stream) } }

    /// Answers one request stream: exactly one message in, one message out.
    public func serve(_ stream: P2PStream) async throws {
        let peer = stream.connection.remotePeer
        let answer: FLMessage
        do {
            if let aggregators, !aggregators.contains(where: { $0 == peer }) {
                throw FLServiceError.notAnAggregator(peer?.description ?? "unknown peer")
            }
            let request = try await FLStreamIO.readMessage(stream, parameterCount: parameterCount)
            let app = self.app
            switch request {
            case .fitInstruction(let instruction):
                let withheld = self.withheld
                answer = await Self.offload {
                    var result = try app.fit(instruction)
                    if let withheld {
                        withheld.put(round: instruction.round, delta: result.delta, seed: instruction.seed, client: result.client)
                        result.delta = []
                    }
                    return .fitResult(result)
                }
            case .evaluateInstruction(let instruction):
                answer = await Self.offload { .evaluateResult(try app.evaluate(instruction)) }
            default:
                throw FLWireError.unexpectedKind(expected: "FitInstruction or EvaluateInstruction", got: request.kind.description)
            }
        } catch {
            onError?(peer, error)
            await stream.reset()
            throw error
        }
        try await FLStreamIO.writeMessage(stream, answer)
    }

    /// Runs CPU-bound client work on a Dispatch thread, off Swift's cooperative pool, so the
    /// aggregator's deadlines and the event loops keep running while clients train; a thrown
    /// error becomes a `failure` answer.
    static func offload(_ work: @escaping @Sendable () throws -> FLMessage) async -> FLMessage {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do { continuation.resume(returning: try work()) } catch {
                    continuation.resume(returning: .failure(String(describing: error)))
                }
            }
        }
    }
}

/// Requests a client refuses before reading them.
public enum FLServiceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The peer is not one of the aggregators this client trains for.
    case notAnAggregator(String)

    /// The message shown in logs.
    public var description: String {
        switch self {
        case .notAnAggregator(let p): "\(p) is not an aggregator of this federation; its /murmur/fl/1 request was refused"
        }
    }
}
