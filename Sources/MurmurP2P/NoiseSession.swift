import Crypto
import Foundation
import MurmurCore
import NIOCore

/// libp2p's `/noise` secure channel as a byte-level state machine: handshake, then framed transport.
///
/// Spec: libp2p/specs noise/README.md. Every message is a 2-byte big-endian length and up to
/// 65535 bytes. Message 1 has an empty payload; messages 2 (responder) and 3 (initiator) carry
/// a `NoiseHandshakePayload` whose signature by the identity key over
/// "noise-libp2p-static-key:" ‖ static key binds the Noise key to the libp2p peer id.
/// The transport phase seals into and opens from NIO `ByteBuffer`s (`encrypt(_:into:)`,
/// `receiveTransport(_:_:)`) with OpenSSL's ChaCha20-Poly1305 (`NoiseTransportCipher`), so the
/// cipher is the data path's only pass over each byte here; the `[UInt8]` methods wrap the same
/// code. The handshake uses swift-crypto.
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
    private var sendCipher: NoiseTransportCipher?
    private var receiveCipher: NoiseTransportCipher?
    /// Handshake bytes not yet forming a whole message.
    private var buffer: [UInt8] = []
    /// Transport bytes of a message split across reads (length prefix included), else empty.
    private var partial: [UInt8] = []
    /// Where transport messages are opened (65535 bytes once the transport phase began).
    private var plaintext: [UInt8] = []
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
        var out = Output()
        if receiveCipher != nil {
            var incoming = ByteBuffer(bytes: bytes)
            try receiveTransport(&incoming) { out.plaintext.append(contentsOf: $0) }
            return out
        }
        buffer += bytes
        var offset = 0
        defer { buffer.removeFirst(offset) }
        while buffer.count - offset >= 2 {
            let length = Int(buffer[offset]) << 8 | Int(buffer[offset + 1])
            guard buffer.count - offset - 2 >= length else { break }
            let message = Array(buffer[(offset + 2)..<(offset + 2 + length)])
            offset += 2 + length
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
            guard hs.isComplete else {
                handshake = hs
                continue
            }
            let (s, r) = try hs.split()
            guard let send = try NoiseTransportCipher(s, sealing: true), let receive = try NoiseTransportCipher(r, sealing: false) else {
                throw P2PError.handshakeFailed("the handshake ended without transport keys")
            }
            sendCipher = send
            receiveCipher = receive
            handshake = nil
            out.established = remotePeer
            // Bytes after the last handshake message are already transport messages.
            var rest = ByteBuffer(bytes: buffer[offset...])
            offset = buffer.count
            try receiveTransport(&rest) { out.plaintext.append(contentsOf: $0) }
        }
        return out
    }

    /// Opens every whole transport message in `incoming` (consuming it; a message split across
    /// reads is kept until its end arrives) and hands each plaintext, in order, to `body`.
    ///
    /// The cipher reads the ciphertext where NIO put it and writes the plaintext into a reused
    /// 64 KiB buffer (NIO's read buffers are shared with its buffer pool, so opening in the read
    /// buffer itself would first copy it); `body` must not keep the pointer. A message is copied
    /// only when it straddles two reads. A bad tag throws `decryptionFailed`: the connection must close.
    mutating func receiveTransport(_ incoming: inout ByteBuffer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try receiveTransport(&incoming, prefix: 0, route: { _, _ in nil }) { plain, _ in try body(plain) }
    }

    /// `receiveTransport` where a whole message's first `prefix` plaintext bytes (a yamux
    /// header) choose where the rest is opened: `route` gets them and the rest's length and
    /// returns memory for the rest, or nil for the scratch buffer. It runs before the tag is
    /// checked, so it must only choose. `body` then gets the plaintext and nil, or, when `route`
    /// took the rest, just the prefix and the rest's length.
    mutating func receiveTransport(
        _ incoming: inout ByteBuffer, prefix: Int, route: (UnsafeRawBufferPointer, Int) -> UnsafeMutableRawPointer?,
        _ body: (UnsafeRawBufferPointer, Int?) throws -> Void
    ) throws {
        guard var cipher = receiveCipher else { throw P2PError.closed("Noise transport used before the handshake completed") }
        receiveCipher = nil  // the local copy is then the only one: its OpenSSL context is reused, not cloned
        defer { receiveCipher = cipher }
        if plaintext.count < Self.maxMessageLength { plaintext = [UInt8](repeating: 0, count: Self.maxMessageLength) }
        try plaintext.withUnsafeMutableBytes { scratch in
            while incoming.readableBytes > 0 {
                if partial.isEmpty, let length = incoming.getInteger(at: incoming.readerIndex, as: UInt16.self),
                    incoming.readableBytes >= 2 + Int(length)
                {
                    // The whole message is in this read: open it where it lies.
                    let (n, routed) = try incoming.withUnsafeReadableBytes { bytes in
                        let message = UnsafeRawBufferPointer(rebasing: bytes[2..<(2 + Int(length))])
                        guard prefix > 0, message.count >= prefix + NoiseTransportCipher.tagLength else {
                            return (try cipher.open(message, into: scratch), false)
                        }
                        return try cipher.open(message, prefix: prefix, scratch: scratch, route: route)
                    }
                    incoming.moveReaderIndex(forwardBy: 2 + Int(length))
                    if routed {
                        try body(UnsafeRawBufferPointer(rebasing: scratch[..<prefix]), n - prefix)
                    } else {
                        try body(UnsafeRawBufferPointer(rebasing: scratch[..<n]), nil)
                    }
                    continue
                }
                // A message split across reads: gather its length, then its body.
                let need = partial.count < 2 ? 2 - partial.count : 2 + (Int(partial[0]) << 8 | Int(partial[1])) - partial.count
                let take = min(need, incoming.readableBytes)
                incoming.withUnsafeReadableBytes { partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[..<take])) }
                incoming.moveReaderIndex(forwardBy: take)
                guard partial.count >= 2, partial.count == 2 + (Int(partial[0]) << 8 | Int(partial[1])) else { continue }
                let n = try partial.withUnsafeBytes { try cipher.open(UnsafeRawBufferPointer(rebasing: $0[2...]), into: scratch) }
                partial.removeAll(keepingCapacity: true)
                try body(UnsafeRawBufferPointer(rebasing: scratch[..<n]), nil)
            }
        }
    }

    /// Encrypts application bytes into as many transport messages as needed.
    public mutating func encrypt(_ plaintext: [UInt8]) throws -> [UInt8] {
        var out = ByteBuffer()
        try plaintext.withUnsafeBytes { try encrypt($0, into: &out) }
        return Array(out.readableBytesView)
    }

    /// Seals `plaintext` as length-prefixed transport messages of at most 65535 bytes,
    /// appended to `out` (an empty plaintext is one empty message): the cipher writes each
    /// message's ciphertext and tag straight into `out`'s memory.
    mutating func encrypt(_ plaintext: UnsafeRawBufferPointer, into out: inout ByteBuffer) throws {
        guard var cipher = sendCipher else { throw P2PError.closed("Noise transport used before the handshake completed") }
        sendCipher = nil  // the local copy is then the only one: its OpenSSL context is reused, not cloned
        defer { sendCipher = cipher }
        out.reserveCapacity(minimumWritableBytes: plaintext.count + (plaintext.count / Self.maxPlaintextLength + 1) * 18)
        var start = 0
        repeat {
            let end = min(plaintext.count, start + Self.maxPlaintextLength)
            let sealed = end - start + NoiseTransportCipher.tagLength
            out.writeInteger(UInt16(sealed))
            try out.writeWithUnsafeMutableBytes(minimumWritableBytes: sealed) { room in
                try cipher.seal(UnsafeRawBufferPointer(rebasing: plaintext[start..<end]), into: room)
            }
            start = end
        } while start < plaintext.count
    }

    /// Seals yamux's outgoing pieces as length-prefixed transport messages of at most 65535
    /// bytes appended to `out` (nothing when there are none): each message's plaintext is read
    /// piece by piece where it lies (headers on the stack, data in the streams' queues).
    mutating func encrypt(_ outgoing: YamuxOutgoing, into out: inout ByteBuffer) throws {
        guard !outgoing.isEmpty else { return }
        guard var cipher = sendCipher else { throw P2PError.closed("Noise transport used before the handshake completed") }
        sendCipher = nil  // the local copy is then the only one: its OpenSSL context is reused, not cloned
        defer { sendCipher = cipher }
        out.reserveCapacity(minimumWritableBytes: outgoing.count + (outgoing.count / Self.maxPlaintextLength + 1) * 18)
        var left = outgoing.count
        var index = 0  // the piece the next message starts in
        var offset = 0  // and where in it
        while left > 0 {
            let count = min(left, Self.maxPlaintextLength)
            out.writeInteger(UInt16(count + NoiseTransportCipher.tagLength))
            try out.writeWithUnsafeMutableBytes(minimumWritableBytes: count + NoiseTransportCipher.tagLength) { room in
                try cipher.seal(count: count, into: room) { emit in
                    var need = count
                    while need > 0 {
                        let length = outgoing.pieces[index].count
                        let take = min(need, length - offset)
                        try outgoing.withBytes(of: index, offset..<(offset + take), emit)
                        need -= take
                        offset += take
                        if offset == length {
                            index += 1
                            offset = 0
                        }
                    }
                }
            }
            left -= count
        }
    }

    static func frame(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }
}
