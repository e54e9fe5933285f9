import Crypto
import Foundation

/// A Noise CipherState for ChaChaPoly: a key and a 64-bit counter nonce.
///
/// Noise spec rev. 34 §5.1 and §12.3: the 96-bit nonce is 32 zero bits then the counter,
/// little-endian; the AEAD tag (16 bytes) follows the ciphertext.
public struct NoiseCipherState: Sendable {
    /// The 32-byte key, or nil before the first MixKey.
    var key: SymmetricKey?
    /// The next nonce.
    public private(set) var nonce: UInt64 = 0

    /// A cipher with `key` (nil: encryption is the identity, as before the first DH).
    init(key: SymmetricKey?) { self.key = key }

    private func chachaNonce() throws -> ChaChaPoly.Nonce {
        var n = [UInt8](repeating: 0, count: 12)
        withUnsafeBytes(of: nonce.littleEndian) { n.replaceSubrange(4..<12, with: $0) }
        return try ChaChaPoly.Nonce(data: n)
    }

    /// ENCRYPT(k, n++, ad, plaintext); the plaintext itself when there is no key yet.
    public mutating func encrypt(ad: [UInt8] = [], _ plaintext: [UInt8]) throws -> [UInt8] {
        guard let key else { return plaintext }
        guard nonce < UInt64.max else { throw P2PError.limitExceeded("Noise nonce space exhausted; reconnect") }
        let box = try ChaChaPoly.seal(plaintext, using: key, nonce: try chachaNonce(), authenticating: ad)
        nonce += 1
        return Array(box.ciphertext) + Array(box.tag)
    }

    /// ENCRYPT with no associated data, appending ciphertext ‖ tag to `out` (the transport path).
    mutating func encrypt(_ plaintext: ArraySlice<UInt8>, appendingTo out: inout [UInt8]) throws {
        guard let key else {
            out += plaintext
            return
        }
        guard nonce < UInt64.max else { throw P2PError.limitExceeded("Noise nonce space exhausted; reconnect") }
        let box = try ChaChaPoly.seal(plaintext, using: key, nonce: try chachaNonce())
        nonce += 1
        out.append(contentsOf: box.ciphertext)
        out.append(contentsOf: box.tag)
    }

    /// DECRYPT(k, n++, ad, ciphertext); fails on a bad tag without advancing the nonce.
    public mutating func decrypt(ad: [UInt8] = [], _ ciphertext: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        try decrypt(ad: ad, ciphertext[...], appendingTo: &out)
        return out
    }

    /// DECRYPT, appending the plaintext to `out` (the transport path: no intermediate arrays).
    mutating func decrypt(ad: [UInt8] = [], _ ciphertext: ArraySlice<UInt8>, appendingTo out: inout [UInt8]) throws {
        guard let key else {
            out += ciphertext
            return
        }
        guard ciphertext.count >= 16 else { throw P2PError.decryptionFailed }
        do {
            let box = try ChaChaPoly.SealedBox(
                nonce: try chachaNonce(), ciphertext: ciphertext.dropLast(16), tag: ciphertext.suffix(16))
            let plain = try ChaChaPoly.open(box, using: key, authenticating: ad)
            nonce += 1
            out.append(contentsOf: plain)
        } catch {
            throw P2PError.decryptionFailed
        }
    }
}

/// Noise SymmetricState over SHA-256 (Noise spec rev. 34 §5.2): chaining key, handshake hash, cipher.
struct NoiseSymmetricState: Sendable {
    var ck: [UInt8]
    var h: [UInt8]
    var cipher = NoiseCipherState(key: nil)

    /// InitializeSymmetric: h = name (padded to 32 bytes) or SHA-256(name) if longer; ck = h.
    init(protocolName: String) {
        let name = Array(protocolName.utf8)
        h = name.count <= 32 ? name + [UInt8](repeating: 0, count: 32 - name.count) : Array(SHA256.hash(data: name))
        ck = h
    }

    mutating func mixHash(_ data: [UInt8]) { h = Array(SHA256.hash(data: h + data)) }

    /// HKDF of Noise §4.3: temp = HMAC(ck, ikm); out1 = HMAC(temp, 0x01); out2 = HMAC(temp, out1 ‖ 0x02).
    static func hkdf(_ ck: [UInt8], _ ikm: [UInt8]) -> ([UInt8], [UInt8]) {
        let temp = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: ikm, using: SymmetricKey(data: ck))))
        let o1 = Array(HMAC<SHA256>.authenticationCode(for: [0x01], using: temp))
        let o2 = Array(HMAC<SHA256>.authenticationCode(for: o1 + [0x02], using: temp))
        return (o1, o2)
    }

    mutating func mixKey(_ ikm: [UInt8]) {
        let (newCK, k) = Self.hkdf(ck, ikm)
        ck = newCK
        cipher = NoiseCipherState(key: SymmetricKey(data: k))
    }

    mutating func encryptAndHash(_ plaintext: [UInt8]) throws -> [UInt8] {
        let c = try cipher.encrypt(ad: h, plaintext)
        mixHash(c)
        return c
    }

    mutating func decryptAndHash(_ ciphertext: [UInt8]) throws -> [UInt8] {
        let p = try cipher.decrypt(ad: h, ciphertext)
        mixHash(ciphertext)
        return p
    }

    /// Split(): the two transport ciphers (initiator→responder first).
    func split() -> (NoiseCipherState, NoiseCipherState) {
        let (k1, k2) = Self.hkdf(ck, [])
        return (NoiseCipherState(key: SymmetricKey(data: k1)), NoiseCipherState(key: SymmetricKey(data: k2)))
    }
}

/// The Noise XX handshake with X25519, ChaCha20-Poly1305 and SHA-256.
///
/// Pattern (Noise spec rev. 34 §7.5): `-> e`, `<- e, ee, s, es`, `-> s, se`. Byte-level: write
/// and read whole handshake messages; framing belongs to the caller. Ephemeral keys can be
/// injected for known-answer tests (cacophony vectors).
public struct NoiseXXHandshake: Sendable {
    /// The full protocol name hashed into the state.
    public static let protocolName = "Noise_XX_25519_ChaChaPoly_SHA256"

    /// Whether we sent the first message.
    public let isInitiator: Bool
    private let s: Curve25519.KeyAgreement.PrivateKey
    private var e: Curve25519.KeyAgreement.PrivateKey
    private var re: Curve25519.KeyAgreement.PublicKey?
    /// The peer's static X25519 key, known after message 2 (initiator) or 3 (responder).
    public private(set) var remoteStatic: [UInt8]?
    private var symmetric: NoiseSymmetricState
    /// Messages processed so far (0…3).
    public private(set) var messageIndex = 0

    /// A handshake with our static key `s`, an optional fixed ephemeral key (tests), and a prologue.
    public init(
        initiator: Bool, staticKey: Curve25519.KeyAgreement.PrivateKey,
        ephemeralKey: Curve25519.KeyAgreement.PrivateKey? = nil, prologue: [UInt8] = []
    ) {
        isInitiator = initiator
        s = staticKey
        e = ephemeralKey ?? Curve25519.KeyAgreement.PrivateKey()
        symmetric = NoiseSymmetricState(protocolName: Self.protocolName)
        symmetric.mixHash(prologue)
    }

    /// True after all three messages.
    public var isComplete: Bool { messageIndex == 3 }

    /// Whether the next message is ours to write.
    public var isOurTurn: Bool { (messageIndex % 2 == 0) == isInitiator && !isComplete }

    /// The handshake hash h (a channel binding, equal on both sides when complete).
    public var handshakeHash: [UInt8] { symmetric.h }

    private func dh(_ priv: Curve25519.KeyAgreement.PrivateKey, _ pub: Curve25519.KeyAgreement.PublicKey?) throws -> [UInt8] {
        guard let pub else { throw P2PError.handshakeFailed("missing remote key for DH") }
        do {
            return try priv.sharedSecretFromKeyAgreement(with: pub).withUnsafeBytes { Array($0) }
        } catch {
            throw P2PError.handshakeFailed("X25519 with the peer's key failed (low-order point?)")
        }
    }

    private static func publicKey(_ bytes: [UInt8]) throws -> Curve25519.KeyAgreement.PublicKey {
        do { return try Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes) } catch {
            throw P2PError.handshakeFailed("an X25519 public key must be 32 bytes")
        }
    }

    /// Writes the next handshake message carrying `payload`.
    public mutating func writeMessage(payload: [UInt8]) throws -> [UInt8] {
        guard isOurTurn else { throw P2PError.handshakeFailed("not our turn to write (message \(messageIndex + 1))") }
        var out: [UInt8] = []
        let ePub = Array(e.publicKey.rawRepresentation)
        let sPub = Array(s.publicKey.rawRepresentation)
        switch messageIndex {
        case 0:  // -> e
            out += ePub
            symmetric.mixHash(ePub)
        case 1:  // <- e, ee, s, es
            out += ePub
            symmetric.mixHash(ePub)
            symmetric.mixKey(try dh(e, re))
            out += try symmetric.encryptAndHash(sPub)
            symmetric.mixKey(try dh(s, re))
        default:  // -> s, se
            out += try symmetric.encryptAndHash(sPub)
            symmetric.mixKey(try dh(s, re))
        }
        out += try symmetric.encryptAndHash(payload)
        messageIndex += 1
        return out
    }

    /// Reads the peer's next handshake message; returns its payload.
    public mutating func readMessage(_ message: [UInt8]) throws -> [UInt8] {
        guard !isOurTurn, !isComplete else { throw P2PError.handshakeFailed("unexpected handshake message \(messageIndex + 1)") }
        var rest = message[...]
        func take(_ n: Int) throws -> [UInt8] {
            guard rest.count >= n else { throw P2PError.handshakeFailed("handshake message \(messageIndex + 1) is too short") }
            defer { rest = rest.dropFirst(n) }
            return Array(rest.prefix(n))
        }
        do {
            switch messageIndex {
            case 0:  // -> e
                let reBytes = try take(32)
                re = try Self.publicKey(reBytes)
                symmetric.mixHash(reBytes)
            case 1:  // <- e, ee, s, es
                let reBytes = try take(32)
                re = try Self.publicKey(reBytes)
                symmetric.mixHash(reBytes)
                symmetric.mixKey(try dh(e, re))
                let rs = try symmetric.decryptAndHash(try take(48))
                remoteStatic = rs
                symmetric.mixKey(try dh(e, try Self.publicKey(rs)))
            default:  // -> s, se
                let rs = try symmetric.decryptAndHash(try take(48))
                remoteStatic = rs
                symmetric.mixKey(try dh(e, try Self.publicKey(rs)))
            }
            let payload = try symmetric.decryptAndHash(Array(rest))
            messageIndex += 1
            return payload
        } catch P2PError.decryptionFailed {
            throw P2PError.handshakeFailed("handshake message \(messageIndex + 1) failed to decrypt")
        }
    }

    /// The transport ciphers once complete: (send, receive) from our point of view.
    public func split() throws -> (send: NoiseCipherState, receive: NoiseCipherState) {
        guard isComplete else { throw P2PError.handshakeFailed("split before the handshake completed") }
        let (c1, c2) = symmetric.split()
        return isInitiator ? (c1, c2) : (c2, c1)
    }
}
