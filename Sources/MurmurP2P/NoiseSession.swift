import Crypto
import MurmurCore

/// libp2p's `/noise` secure channel as a byte-level state machine: handshake, then framed transport.
///
/// Spec: libp2p/specs noise/README.md. Every message is a 2-byte big-endian length and up to
/// 65535 bytes. Message 1 has an empty payload; messages 2 (responder) and 3 (initiator) carry
/// a `NoiseHandshakePayload` whose signature by the identity key over
/// "noise-libp2p-static-key:" ‖ static key binds the Noise key to the libp2p peer id.
public struct NoiseSession: Sendable {
    /// The multistream protocol id.
    public static let protocolID = "/noise"
    /// The largest Noise message (length field is 16 bits).
    public static let maxMessageLength = 65535
    /// The largest plaintext in one transport message (tag takes 16 bytes).
    public static let maxPlaintextLength = maxMessageLength - 16
    /// The prefix of the signed static key.
    public static let signaturePrefix = Array("noise-libp2p-static-key:".utf8)

    /// What one step produced.
    public struct Output: Sendable {
        /// Bytes to write to the socket.
        public var send: [UInt8] = []
        /// Decrypted application bytes.
        public var plaintext: [UInt8] = []
        /// The verified remote peer, on the step that completed the handshake.
        public var established: PeerID?
    }

    private var handshake: NoiseXXHandshake?
    private var sendCipher: NoiseCipherState?
    private var receiveCipher: NoiseCipherState?
    private var buffer: [UInt8] = []
    private let identity: Identity
    private let staticKey: Curve25519.KeyAgreement.PrivateKey
    private let expectedPeer: PeerID?
    /// The authenticated remote peer, once the handshake completed.
    public private(set) var remotePeer: PeerID?
    /// The remote peer's Ed25519 identity key, once the handshake completed.
    public private(set) var remoteIdentity: PublicIdentity?

    /// A session for `identity`; the dialer passes the peer id it expects (from `/p2p/…`) if known.
    public init(
        initiator: Bool, identity: Identity, staticKey: Curve25519.KeyAgreement.PrivateKey = .init(),
        expectedPeer: PeerID? = nil, ephemeralKey: Curve25519.KeyAgreement.PrivateKey? = nil
    ) {
        self.identity = identity
        self.staticKey = staticKey
        self.expectedPeer = expectedPeer
        handshake = NoiseXXHandshake(initiator: initiator, staticKey: staticKey, ephemeralKey: ephemeralKey)
    }

    /// Whether the transport phase has begun.
    public var isEstablished: Bool { sendCipher != nil }

    /// The first bytes: message 1 for the initiator, nothing for the responder.
    public mutating func start() throws -> [UInt8] {
        guard var hs = handshake, hs.isInitiator, hs.messageIndex == 0 else { return [] }
        let m = try hs.writeMessage(payload: [])
        handshake = hs
        return Self.frame(m)
    }

    private func ourPayload() throws -> [UInt8] {
        let sig = try identity.sign(Self.signaturePrefix + Array(staticKey.publicKey.rawRepresentation))
        return NoiseHandshakePayload(identityKey: identity.publicKey.libp2pProtobuf, identitySignature: sig).encoded
    }

    private mutating func verify(_ payloadBytes: [UInt8], remoteStatic: [UInt8]?) throws -> PeerID {
        let payload: NoiseHandshakePayload
        do { payload = try NoiseHandshakePayload(decoding: payloadBytes) } catch {
            throw P2PError.handshakeFailed("the peer's handshake payload is not a valid protobuf: \(error)")
        }
        let key = try PublicIdentity(libp2pPublicKey: payload.identityKey)
        guard let remoteStatic, key.verify(signature: payload.identitySignature, for: Self.signaturePrefix + remoteStatic) else {
            throw P2PError.handshakeFailed("the peer's signature over its Noise static key does not verify")
        }
        let peer = PeerID(publicKeyProtobuf: payload.identityKey)
        if let expectedPeer, expectedPeer != peer {
            throw P2PError.handshakeFailed("dialed \(expectedPeer) but the peer proved to be \(peer)")
        }
        remoteIdentity = key
        return peer
    }

    /// Consumes bytes from the socket.
    public mutating func receive(_ bytes: [UInt8]) throws -> Output {
        if buffer.isEmpty { buffer = bytes } else { buffer += bytes }  // the common case shares, not copies
        var out = Output()
        var offset = 0
        defer { buffer.removeFirst(offset) }
        while buffer.count - offset >= 2 {
            let length = Int(buffer[offset]) << 8 | Int(buffer[offset + 1])
            guard buffer.count - offset - 2 >= length else { break }
            let range = (offset + 2)..<(offset + 2 + length)
            offset += 2 + length
            if var cipher = receiveCipher {
                try cipher.decrypt(buffer[range], appendingTo: &out.plaintext)
                receiveCipher = cipher
                continue
            }
            let message = Array(buffer[range])
            guard var hs = handshake else { throw P2PError.handshakeFailed("no handshake in progress") }
            let payload = try hs.readMessage(message)
            switch (hs.isInitiator, hs.messageIndex) {
            case (false, 1):  // read msg 1; answer with msg 2 carrying our payload
                out.send += Self.frame(try hs.writeMessage(payload: try ourPayload()))
            case (true, 2):  // read msg 2: verify the responder, answer with msg 3
                remotePeer = try verify(payload, remoteStatic: hs.remoteStatic)
                out.send += Self.frame(try hs.writeMessage(payload: try ourPayload()))
            case (false, 3):  // read msg 3: verify the initiator
                remotePeer = try verify(payload, remoteStatic: hs.remoteStatic)
            default:
                throw P2PError.handshakeFailed("unexpected handshake message")
            }
            if hs.isComplete {
                let (s, r) = try hs.split()
                sendCipher = s
                receiveCipher = r
                handshake = nil
                out.established = remotePeer
            } else {
                handshake = hs
            }
        }
        return out
    }

    /// Encrypts application bytes into as many transport messages as needed.
    public mutating func encrypt(_ plaintext: [UInt8]) throws -> [UInt8] {
        guard var cipher = sendCipher else { throw P2PError.closed("Noise transport used before the handshake completed") }
        var out: [UInt8] = []
        out.reserveCapacity(plaintext.count + (plaintext.count / Self.maxPlaintextLength + 1) * 18)
        var start = 0
        repeat {
            let end = min(plaintext.count, start + Self.maxPlaintextLength)
            let length = end - start + 16
            out.append(UInt8(length >> 8))
            out.append(UInt8(length & 0xFF))
            try cipher.encrypt(plaintext[start..<end], appendingTo: &out)
            start = end
        } while start < plaintext.count
        sendCipher = cipher
        return out
    }

    static func frame(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }
}
