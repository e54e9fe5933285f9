import MurmurCore
import NIOConcurrencyHelpers

/// One kad-dht request/response exchange on its own stream, as go- and py-libp2p do.
///
/// Spec: libp2p/specs kad-dht/README.md, "RPC messages": messages are unsigned-varint
/// length-prefixed protobufs. We write the request, half-close, and read one framed response
/// (ADD_PROVIDER has none: go-libp2p never answers it); a timer resets the stream after `timeout`.
enum KademliaRPC {
    /// Reads one length-prefixed message, or nil if the stream ends first (before any byte).
    static func readMessage(_ stream: P2PStream, decoder: inout LengthPrefixedDecoder) async throws -> KademliaMessage? {
        while true {
            if let frame = try decoder.next() { return try KademliaMessage(decoding: frame) }
            guard let chunk = try await stream.read() else {
                guard decoder.buffered.isEmpty else { throw P2PError.closed("kad stream ended inside a message") }
                return nil
            }
            decoder.feed(chunk)
        }
    }

    /// Sends `request` to `peer` and returns its response (nil when `expectResponse` is false).
    static func exchange(
        host: P2PHost, peer: PeerID, _ request: KademliaMessage, expectResponse: Bool, timeout: Duration
    ) async throws -> KademliaMessage? {
        let stream = try await host.newStream(to: peer, [Kademlia.protocolID])
        let timedOut = NIOLockedValueBox(false)
        let timer = Task {
            try await Task.sleep(for: timeout)
            timedOut.withLockedValue { $0 = true }
            await stream.reset()
        }
        defer { timer.cancel() }
        // A cancelled lookup (quorum reached) resets the stream instead of waiting for the answer.
        return try await withTaskCancellationHandler {
            try await run(stream, peer: peer, request, expectResponse: expectResponse, timeout: timeout, timedOut: timedOut)
        } onCancel: {
            Task { await stream.reset() }
        }
    }

    private static func run(
        _ stream: P2PStream, peer: PeerID, _ request: KademliaMessage, expectResponse: Bool, timeout: Duration,
        timedOut: NIOLockedValueBox<Bool>
    ) async throws -> KademliaMessage? {
        do {
            try await stream.write(LengthPrefixedDecoder.frame(request.encoded))
            try await stream.closeWrite()
            guard expectResponse else {
                // Wait for the peer to close its side (go closes at once, py after an echo).
                _ = try await stream.readToEnd(limit: KademliaMessage.maxFrameLength)
                return nil
            }
            var decoder = LengthPrefixedDecoder(maxLength: KademliaMessage.maxFrameLength)
            guard let response = try await readMessage(stream, decoder: &decoder) else {
                throw KademliaError.unexpectedResponse("\(peer) closed the stream without answering \(request.type)")
            }
            guard response.type == request.type else {
                throw KademliaError.unexpectedResponse("\(peer) answered \(request.type) with \(response.type)")
            }
            return response
        } catch {
            if timedOut.withLockedValue({ $0 }) { throw P2PError.timeout("kad \(request.type) to \(peer) took longer than \(timeout)") }
            await stream.reset()
            throw error
        }
    }
}
