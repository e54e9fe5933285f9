import Dispatch
import MurmurCore
import MurmurP2P
import MurmurSecAgg

/// Serves `/murmur/secagg/1`: runs `SecAggClient`'s state machine for one round per stream,
/// with this node's libp2p identity as the participant identity.
///
/// The aggregator opens the stream and sends a `SecAggSetup`; the service asks `input` for the
/// round's quantized vector, advertises keys and answers each server message until it has sent
/// its unmask response (Bonawitz et al. CCS 2017 with Bell et al. CCS 2020, docs/secagg.md).
public struct SecAggClientService: Sendable {
    /// The quantized input for a round (length `setup.config.dimension`, values in Z_{2^b}).
    public typealias InputProvider = @Sendable (SecAggSetup) async throws -> [UInt32]

    /// This node's identity: its Ed25519 key is its participant key.
    public let identity: Identity
    /// Largest round dimension accepted (the model's parameter count).
    public let maxDimension: Int
    /// Peers allowed to start rounds (nil = any).
    public let aggregators: Set<PeerID>?
    let input: InputProvider
    let onMessage: (@Sendable (SecAggMessage) async -> Void)?
    let onError: FLClientService.ErrorHandler?

    /// A service answering as `identity`; `onMessage` sees every server message before it is
    /// handled (logging, metrics, fault injection in tests).
    public init(identity: Identity, maxDimension: Int, aggregators: Set<PeerID>? = nil,
                input: @escaping InputProvider,
                onMessage: (@Sendable (SecAggMessage) async -> Void)? = nil,
                onError: FLClientService.ErrorHandler? = nil) {
        self.identity = identity
        self.maxDimension = maxDimension
        self.aggregators = aggregators
        self.input = input
        self.onMessage = onMessage
        self.onError = onError
    }

    /// The stream handler to register under `SecAggWire.protocolID`.
    public var handler: StreamHandler { { stream in try await self.serve(stream) } }

    /// Runs one round on `stream`.
    public func serve(_ stream: P2PStream) async throws {
        let peer = stream.connection.remotePeer
        do {
            if let aggregators, !aggregators.contains(where: { $0 == peer }) {
                throw FLServiceError.notAnAggregator(peer?.description ?? "unknown peer")
            }
            var reader = FrameReader(stream, limit: 32 * SecAggWire.maxParticipants + SecAggWire.setupAllowance)
            guard let setupBytes = try await reader.next() else { throw SecAggWireError.truncated }
            let setup = try SecAggWire.decodeSetup(setupBytes, maxDimension: maxDimension)
            let config = setup.config
            guard config.participants[setup.index] == identity.publicKey else { throw SecAggWireError.notAParticipant(setup.index) }
            let vector = try await input(setup)
            var client = try SecAggClient(index: setup.index, identity: identity, config: config, input: vector)
            try await send(try client.start(), on: stream)
            // Frames after the setup are bounded by the round's own size.
            reader.limit = SecAggWire.maxFrameLength(participants: config.participants.count, dimension: config.dimension)
            while let frame = try await reader.next() {
                let message = try SecAggMessage(decoding: frame)
                await onMessage?(message)
                let out = try await Self.offload { [client] in
                    var c = client
                    let actions = try c.receive(message)
                    return (c, actions)
                }
                client = out.0
                try await send(out.1, on: stream)
                if case .unmaskResponse = out.1.lazy.compactMap(Self.message).first { break }
            }
            try await stream.closeWrite()
        } catch {
            onError?(peer, error)
            await stream.reset()
            throw error
        }
    }

    private static func message(_ action: SecAggAction) -> SecAggMessage? {
        if case .send(let m) = action { return m }
        return nil
    }

    private func send(_ actions: [SecAggAction], on stream: P2PStream) async throws {
        for case .send(let m) in actions { try await stream.write(Self.frame(m.encoded())) }
    }

    static func frame(_ body: [UInt8]) -> [UInt8] { Varint.encode(UInt64(body.count)) + body }

    /// Client-side crypto (key agreement, Shamir, mask expansion) off the cooperative pool.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
