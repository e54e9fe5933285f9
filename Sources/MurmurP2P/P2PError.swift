/// Errors raised by MurmurP2P, each naming the protocol step that failed and what to check.
///
/// One enum for the whole stack so a connection failure reports where it broke (multiaddr,
/// multistream, Noise, yamux, identify, ping) without the caller unwrapping layers.
public enum P2PError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A multiaddr string or byte form could not be parsed.
    case invalidMultiaddr(String)
    /// A peer id string (base58btc or CIDv1) could not be parsed.
    case invalidPeerID(String)
    /// A protobuf message was malformed or lacks a required field.
    case invalidProtobuf(String)
    /// A length-prefixed frame was malformed or longer than allowed.
    case invalidFrame(String)
    /// multistream-select failed: bad header, or the peer does not speak the protocol.
    case negotiationFailed(String)
    /// The Noise handshake failed: bad message, bad signature, or a peer id mismatch.
    case handshakeFailed(String)
    /// A Noise transport frame did not decrypt (tampering, or a desynchronised nonce).
    case decryptionFailed
    /// The peer broke the yamux protocol (bad header, window overrun, unknown stream).
    case muxerProtocolError(String)
    /// A stream was reset by the peer or by us.
    case streamReset
    /// A stream or connection is closed and can no longer be used this way.
    case closed(String)
    /// A limit was hit (streams, frame size, buffered bytes).
    case limitExceeded(String)
    /// An operation did not finish in time.
    case timeout(String)
    /// No live connection to the peer and no known address to dial it.
    case noAddress(String)
    /// The key type is not Ed25519 (the only one Murmur verifies).
    case unsupportedKeyType(Int)

    /// The message shown to users.
    public var description: String {
        switch self {
        case .invalidMultiaddr(let m): return "invalid multiaddr: \(m)"
        case .invalidPeerID(let m): return "invalid peer id: \(m)"
        case .invalidProtobuf(let m): return "invalid protobuf: \(m)"
        case .invalidFrame(let m): return "invalid frame: \(m)"
        case .negotiationFailed(let m): return "protocol negotiation failed: \(m)"
        case .handshakeFailed(let m): return "Noise handshake failed: \(m)"
        case .decryptionFailed: return "a Noise frame failed to decrypt (corrupted or tampered connection)"
        case .muxerProtocolError(let m): return "yamux protocol error: \(m)"
        case .streamReset: return "the stream was reset"
        case .closed(let m): return "closed: \(m)"
        case .limitExceeded(let m): return "limit exceeded: \(m)"
        case .timeout(let m): return "timed out: \(m)"
        case .noAddress(let p): return "no connection to \(p) and no known address (add one with its multiaddr)"
        case .unsupportedKeyType(let t): return "unsupported libp2p key type \(t) (only Ed25519 = 1 is supported)"
        }
    }
}
