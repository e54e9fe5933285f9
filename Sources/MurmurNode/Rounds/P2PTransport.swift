import Foundation
import Logging
import MurmurCore
import MurmurFL
import MurmurP2P

/// The round protocol's `Transport` over libp2p: each fit or evaluate is one `/murmur/fl/1`
/// stream to the client's node, bounded by a deadline.
///
/// Swapped in for `InMemoryTransport` so `RoundRunner` runs unchanged between processes
/// (issue 11 item 2). Every failure becomes an `FLError` the runner counts: no answer before the
/// deadline → `clientTimedOut`; a lost connection, reset stream, malformed answer or client-side
/// failure → `clientDropped` (logged with the cause).
public struct P2PTransport: Transport {
    /// The aggregator's host (dials clients, reusing live connections).
    public let host: P2PHost
    /// Which node serves each client; its addresses must be in `host`'s address book.
    public let peers: [ClientID: PeerID]
    /// The model's parameter count (checks answers, bounds frames).
    public let parameterCount: Int
    /// How long one fit or evaluate may take, dial and local training included.
    public let deadline: Duration
    /// Under secure aggregation clients answer fits with an empty delta (and keep the update).
    public let withheldDeltas: Bool
    /// Bytes sent and received on `/murmur/fl/1` by this transport.
    public let traffic = FLTraffic()
    let logger = Logger(label: "murmur.node.fl")

    /// A transport reaching client `id` at `peers[id]` through `host`.
    public init(host: P2PHost, peers: [ClientID: PeerID], parameterCount: Int, deadline: Duration = .seconds(120),
                withheldDeltas: Bool = false) {
        self.withheldDeltas = withheldDeltas
        self.host = host
        self.peers = peers
        self.parameterCount = parameterCount
        self.deadline = deadline
    }

    /// Every mapped client: an unreachable one counts as dropped when asked.
    public func onlineClients() async -> [ClientID] { peers.keys.sorted() }

    /// Sends the instruction on a new stream and waits (at most `deadline`) for the update.
    public func fit(_ instruction: FitInstruction, client: ClientID) async throws -> FitResult {
        switch try await exchange(.fitInstruction(instruction), client: client) {
        case .fitResult(let r) where r.client == client: return r
        case .fitResult(let r):
            throw FLError.malformedUpdate(client: client, reason: "the answer names client \(r.client)")
        case let other: throw dropped(client, FLWireError.unexpectedKind(expected: "FitResult", got: other.kind.description))
        }
    }

    /// Asks for a local evaluation on a new stream (at most `deadline`).
    public func evaluate(_ instruction: EvaluateInstruction, client: ClientID) async throws -> EvaluateResult {
        switch try await exchange(.evaluateInstruction(instruction), client: client) {
        case .evaluateResult(let r) where r.client == client: return r
        case .evaluateResult(let r):
            throw FLError.malformedUpdate(client: client, reason: "the evaluation names client \(r.client)")
        case let other: throw dropped(client, FLWireError.unexpectedKind(expected: "EvaluateResult", got: other.kind.description))
        }
    }

    private func dropped(_ client: ClientID, _ cause: any Error) -> FLError {
        logger.warning("client \(client) dropped: \(cause)")
        return .clientDropped(client)
    }

    /// One request/answer on a fresh stream; throws only `FLError`.
    func exchange(_ request: FLMessage, client: ClientID) async throws -> FLMessage {
        guard let peer = peers[client] else { throw FLError.unknownClient(client) }
        let host = self.host
        let parameterCount = self.parameterCount
        let traffic = self.traffic
        let withheld = withheldDeltas
        let frame = FLWire.frame(request)
        let outcome: DeadlineRace.Outcome<FLMessage> = await DeadlineRace.exchange(
            host: host, peer: peer, protocolID: FLWire.protocolID, deadline: deadline
        ) { stream in
            try await stream.write(frame)
            try await stream.closeWrite()
            traffic.add(sent: frame.count)
            let (answer, size) = try await FLStreamIO.readCountedMessage(stream, parameterCount: parameterCount, withheldDelta: withheld)
            traffic.add(received: size)
            return answer
        }
        switch outcome {
        case .timedOut:
            logger.info("client \(client) missed the \(deadline) deadline")
            throw FLError.clientTimedOut(client)
        case .failed(let error): throw dropped(client, error)
        case .finished(.failure(let text)): throw dropped(client, FLServiceFailure(text: text))
        case .finished(let answer): return answer
        }
    }
}

/// A client's `failure` answer, as a logged cause.
struct FLServiceFailure: Error, CustomStringConvertible {
    let text: String
    var description: String { "the client could not serve the request: \(text)" }
}

/// Byte counts of a transport's `/murmur/fl/1` frames (for `murmur bench cluster`).
public final class FLTraffic: @unchecked Sendable {
    // @unchecked: both counters are only read and written under `lock`.
    private let lock = NSLock()
    private var sentBytes = 0
    private var receivedBytes = 0

    /// Empty counters.
    public init() {}

    /// Frame bytes sent to clients and received from them so far.
    public var totals: (sent: Int, received: Int) { lock.withLock { (sentBytes, receivedBytes) } }

    func add(sent: Int = 0, received: Int = 0) {
        lock.withLock {
            sentBytes += sent
            receivedBytes += received
        }
    }
}
