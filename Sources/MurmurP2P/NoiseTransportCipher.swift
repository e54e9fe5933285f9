import COpenSSLCrypto
import Crypto

/// One direction of the Noise transport: ChaCha20-Poly1305 under the split key with the counter
/// nonce (Noise spec rev. 34 §5.1, §12.3: 32 zero bits, then n as 64-bit little-endian; no
/// associated data in the transport phase), computed by OpenSSL's libcrypto.
///
/// Sealing writes ciphertext ‖ tag straight into the caller's memory (the NIO `ByteBuffer` that
/// goes to the socket) and opening writes the plaintext straight into the caller's memory, so the
/// cipher is the only pass over the bytes: swift-crypto's `ChaChaPoly` returns a new `Data` per
/// message (nonce ‖ ciphertext ‖ tag, one more copy) and does not export BoringSSL's EVP_AEAD.
struct NoiseTransportCipher: Sendable {
    /// The AEAD tag's length (RFC 8439 §2.8).
    static let tagLength = 16

    private var context: ChaChaPolyContext
    /// The next nonce.
    private(set) var nonce: UInt64

    /// The transport cipher continuing `state` (nil when it has no key); `sealing` picks the direction.
    init?(_ state: NoiseCipherState, sealing: Bool) throws {
        guard let key = state.key else { return nil }
        context = try key.withUnsafeBytes { try ChaChaPolyContext(key: Array($0), sealing: sealing) }
        nonce = state.nonce
    }

    /// A cipher with a raw 32-byte key and a starting nonce (tests and the benchmark).
    init(key: [UInt8], nonce: UInt64 = 0, sealing: Bool) throws {
        context = try ChaChaPolyContext(key: key, sealing: sealing)
        self.nonce = nonce
    }

    /// The 12-byte ChaCha20-Poly1305 nonce for counter `n` (Noise §12.3): 4 zero bytes, n little-endian.
    /// (A tuple of three `UInt32`s has no padding: its memory is exactly those 12 bytes.)
    static func nonceBytes(_ n: UInt64) -> (UInt32, UInt32, UInt32) {
        (0, UInt32(truncatingIfNeeded: n).littleEndian, UInt32(truncatingIfNeeded: n >> 32).littleEndian)
    }

    private func checkNonce() throws {
        guard nonce < UInt64.max else { throw P2PError.limitExceeded("Noise nonce space exhausted; reconnect") }
    }

    /// Seals `plaintext` into `out` (at least `plaintext.count + 16` bytes): ciphertext ‖ tag.
    /// `out` may be `plaintext`'s own memory (sealing in place). Returns the bytes written.
    mutating func seal(_ plaintext: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) throws -> Int {
        try checkNonce()
        precondition(out.count >= plaintext.count + Self.tagLength, "seal needs room for the tag")  // programmer error
        try context.seal(nonce: Self.nonceBytes(nonce), plaintext, into: out)
        nonce += 1
        return plaintext.count + Self.tagLength
    }

    /// Opens one message body (ciphertext ‖ tag) into `out` (at least `message.count - 16` bytes;
    /// may be the message's own memory). Returns the plaintext length. The nonce advances only on
    /// success; a bad tag throws `decryptionFailed` and `out`'s bytes must not be used.
    mutating func open(_ message: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard message.count >= Self.tagLength else { throw P2PError.decryptionFailed }
        try checkNonce()
        let count = message.count - Self.tagLength
        precondition(out.count >= count, "open needs room for the plaintext")  // programmer error
        try context.open(nonce: Self.nonceBytes(nonce), message, into: out)
        nonce += 1
        return count
    }
}

/// An OpenSSL `EVP_CIPHER_CTX` keyed for ChaCha20-Poly1305 (RFC 8439) in one direction, reused
/// for every message (only the nonce changes), with value semantics: a copy that is about to be
/// used while shared gets its own context first (copy-on-write), so copies of a `NoiseSession`
/// never share mutable OpenSSL state.
struct ChaChaPolyContext: Sendable {
    private var storage: Storage
    private let key: [UInt8]
    private let sealing: Bool

    init(key: [UInt8], sealing: Bool) throws {
        guard key.count == 32 else { throw P2PError.handshakeFailed("a ChaCha20-Poly1305 key is 32 bytes, got \(key.count)") }
        self.key = key
        self.sealing = sealing
        storage = try Storage(key: key, sealing: sealing)
    }

    private mutating func unique() throws -> OpaquePointer {
        if !isKnownUniquelyReferenced(&storage) { storage = try Storage(key: key, sealing: sealing) }
        return storage.context
    }

    /// RFC 8439 §2.8 AEAD encryption (`nonce`: the 12 bytes in memory order; Noise's transport
    /// has no associated data): ciphertext, then the 16-byte tag, into `out`.
    mutating func seal(
        nonce: (UInt32, UInt32, UInt32), aad: UnsafeRawBufferPointer = .init(start: nil, count: 0),
        _ plaintext: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer
    ) throws {
        let ctx = try unique()
        var nonce = nonce
        var written: Int32 = 0
        let ok = withUnsafeBytes(of: &nonce) { n -> Bool in
            guard EVP_CipherInit_ex(ctx, nil, nil, nil, n.baseAddress?.assumingMemoryBound(to: UInt8.self), 1) == 1,
                Self.authenticate(ctx, aad)
            else { return false }
            if plaintext.count > 0 {
                guard EVP_EncryptUpdate(ctx, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &written,
                                        plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(plaintext.count)) == 1,
                    Int(written) == plaintext.count
                else { return false }
            }
            var tail: Int32 = 0
            guard EVP_EncryptFinal_ex(ctx, out.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + plaintext.count }, &tail) == 1 else { return false }
            return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, Int32(NoiseTransportCipher.tagLength), out.baseAddress.map { $0 + plaintext.count }) == 1
        }
        guard ok else { throw P2PError.closed("OpenSSL failed to seal a ChaCha20-Poly1305 message; reconnect") }
    }

    /// RFC 8439 §2.8 AEAD decryption of ciphertext ‖ tag into `out`; throws `decryptionFailed`
    /// when the tag does not verify (then `out` holds unauthenticated bytes: discard them).
    mutating func open(
        nonce: (UInt32, UInt32, UInt32), aad: UnsafeRawBufferPointer = .init(start: nil, count: 0),
        _ message: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer
    ) throws {
        let ctx = try unique()
        let count = message.count - NoiseTransportCipher.tagLength
        var nonce = nonce
        // OpenSSL's SET_TAG takes a mutable pointer: give it a copy of the tag.
        var tag: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &tag) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: message[count...])) }
        var written: Int32 = 0
        let ok = withUnsafeBytes(of: &nonce) { n -> Bool in
            guard EVP_CipherInit_ex(ctx, nil, nil, nil, n.baseAddress?.assumingMemoryBound(to: UInt8.self), 0) == 1,
                withUnsafeMutableBytes(of: &tag, { EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, Int32(NoiseTransportCipher.tagLength), $0.baseAddress) }) == 1,
                Self.authenticate(ctx, aad)
            else { return false }
            if count > 0 {
                guard EVP_DecryptUpdate(ctx, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &written,
                                        message.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count)) == 1,
                    Int(written) == count
                else { return false }
            }
            var tail: Int32 = 0
            return EVP_DecryptFinal_ex(ctx, out.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + count }, &tail) == 1
        }
        guard ok else { throw P2PError.decryptionFailed }
    }

    /// Feeds associated data (authenticated, not encrypted) before the message.
    private static func authenticate(_ ctx: OpaquePointer, _ aad: UnsafeRawBufferPointer) -> Bool {
        guard aad.count > 0 else { return true }
        var written: Int32 = 0
        return EVP_CipherUpdate(ctx, nil, &written, aad.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1
    }

    /// Owns the OpenSSL context (freed with the last copy).
    private final class Storage: @unchecked Sendable {
        // Sound: `context` is only used through `ChaChaPolyContext.unique()`, which gives every
        // mutating user its own Storage when the reference is shared, so no two values (and hence
        // no two threads) ever drive one EVP_CIPHER_CTX at once; `deinit` runs after the last use.
        let context: OpaquePointer

        init(key: [UInt8], sealing: Bool) throws {
            guard let ctx = EVP_CIPHER_CTX_new() else {
                throw P2PError.handshakeFailed("OpenSSL could not allocate a cipher context (out of memory?)")
            }
            guard EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), nil, key, nil, sealing ? 1 : 0) == 1 else {
                EVP_CIPHER_CTX_free(ctx)
                throw P2PError.handshakeFailed("OpenSSL's libcrypto has no ChaCha20-Poly1305 (EVP_chacha20_poly1305)")
            }
            context = ctx
        }

        deinit { EVP_CIPHER_CTX_free(context) }
    }
}
