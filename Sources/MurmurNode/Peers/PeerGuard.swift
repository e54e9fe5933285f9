import Foundation
import Logging
import MurmurCore
import MurmurP2P

/// Connects a node's libp2p host to its `PeerScores`: stream handlers that fail on malformed input,
/// transport-level garbage (before or after the Noise handshake) and refused peers.
/// Why: the host reports what a peer did wrong; this decides what it costs and disconnects and
/// refuses a peer whose score falls below the policy's threshold (issue 11, item 6).
public final class PeerGuard: @unchecked Sendable {
    // @unchecked: `host` is only touched under `lock`; everything else is immutable or Sendable.
    private let lock = NSLock()
    private var host: P2PHost?
    /// The scores this guard keeps.
    public let scores: PeerScores
    let logger: Logger
    let onRefusal: @Sendable (PeerScoreRecord) -> Void

    /// A guard over `scores`; `onRefusal` is called (off the event loop) with the record of each
    /// newly refused peer or address, e.g. to persist it.
    public init(scores: PeerScores, logger: Logger, onRefusal: @escaping @Sendable (PeerScoreRecord) -> Void = { _ in }) {
        self.scores = scores
        self.logger = logger
        self.onRefusal = onRefusal
    }

    /// The host whose connections this guard closes (set once the host exists).
    public func attach(_ host: P2PHost) { lock.withLock { self.host = host } }

    /// The offense an error from a stream handler of `proto` stands for, or nil when the error is
    /// not the peer's fault (a reset or closed stream, a timeout: honest peers cause those when
    /// they stop or restart).
    public static func offense(for error: any Error, protocol proto: String) -> PeerOffense? {
        switch error {
        case let e as FLWireError:
            if case .truncated = e { return .protocolPenalty(protocol: proto, weight: 10) }
            return .malformedMessage(protocol: proto)
        case let e as SecAggWireError:
            return e == .truncated ? .protocolPenalty(protocol: proto, weight: 10) : .malformedMessage(protocol: proto)
        case is FLServiceError:
            return .unauthorizedRequest(protocol: proto)
        case let e as BlockError:
            switch e {
            case .malformedMessage, .sizeLimitExceeded, .corruptManifest, .hashMismatch, .unsupportedCID: return .malformedMessage(protocol: proto)
            default: return nil
            }
        case let e as KademliaError:
            switch e {
            case .invalidRecord, .unexpectedResponse: return .malformedMessage(protocol: proto)
            default: return nil
            }
        case is PubsubSignatureError:
            return .malformedMessage(protocol: proto)
        case let e as P2PError:
            switch e {
            case .invalidMultiaddr, .invalidPeerID, .invalidProtobuf, .invalidFrame, .limitExceeded, .unsupportedKeyType:
                return .malformedMessage(protocol: proto)
            case .handshakeFailed, .decryptionFailed, .muxerProtocolError, .negotiationFailed:
                return .brokenTransport(e.description)
            case .streamReset, .closed, .timeout, .noAddress:
                return nil
            }
        default:
            return nil
        }
    }

    /// The host's `onStreamError` hook: a stream handler threw; the error is scored if it is the peer's fault.
    public func streamError(_ stream: P2PStream, _ error: any Error) {
        guard let peer = stream.connection.remotePeer, let offense = Self.offense(for: error, protocol: stream.protocolID) else { return }
        report(offense, by: peer)
    }

    /// Scores `offense` by `peer`; disconnects it when it falls below the threshold.
    /// Also the hook for a protocol's own penalties (gossipsub, Kademlia).
    public func report(_ offense: PeerOffense, by peer: PeerID) {
        let verdict = scores.record(offense, by: peer.description)
        switch verdict {
        case .scored(let s):
            logger.info("peer \(peer): \(offense.label); score \(String(format: "%.1f", s))")
        case .refuse(let until):
            logger.warning("peer \(peer): \(offense.label); disconnected and refused until \(until) (Unix time)")
            disconnect(peer)
            notifyRefusal(peer.description)
        }
    }

    /// The host's `onProtocolViolation` hook: garbage on the connection layer. After the handshake
    /// the peer is scored; before it (no peer id yet) its IP address is.
    public func protocolViolation(_ connection: P2PConnection, _ error: P2PError) {
        let offense = PeerOffense.brokenTransport(error.description)
        if let peer = connection.remotePeer {
            report(offense, by: peer)
        } else if let key = connection.remoteAddress.flatMap(Self.addressKey) {
            let verdict = scores.record(offense, by: key)
            logger.notice("\(key): \(offense.label) before the handshake")
            if case .refuse = verdict { notifyRefusal(key) }
        }
    }

    /// The host's `acceptInbound` hook: false for a refused address.
    public func admits(_ remote: Multiaddr) -> Bool {
        guard let key = Self.addressKey(remote) else { return true }
        return !scores.isRefused(key)
    }

    /// Closes a new connection of a refused peer (called on every connect).
    public func connected(_ peer: PeerID, _ connection: P2PConnection) {
        guard scores.isRefused(peer.description) else { return }
        logger.info("refusing connection of peer \(peer) (score \(String(format: "%.1f", scores.score(peer.description))))")
        Task { await connection.close(linger: .zero) }  // a refused peer gets no grace
    }

    func disconnect(_ peer: PeerID) {
        guard let host = lock.withLock({ host }) else { return }
        for c in host.connections(to: peer) { Task { await c.close(linger: .zero) } }
    }

    func notifyRefusal(_ key: String) {
        guard let record = scores.records().first(where: { $0.peer == key }) else { return }
        let onRefusal = self.onRefusal
        Task { onRefusal(record) }
    }

    /// `ip4/A.B.C.D` or `ip6/…` of a multiaddr, or nil when it has no IP.
    static func addressKey(_ address: Multiaddr) -> String? {
        let parts = address.description.split(separator: "/")
        guard parts.count >= 2, parts[0] == "ip4" || parts[0] == "ip6" else { return nil }
        return "\(parts[0])/\(parts[1])"
    }
}
