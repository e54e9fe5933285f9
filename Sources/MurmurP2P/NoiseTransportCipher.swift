import CMurmurOpenSSL
import Crypto

/// One direction of the Noise transport: ChaCha20-Poly1305 under the split key with the counter
/// nonce (Noise spec rev. 34 §5.1, §12.3: 32 zero bits, then n as 64-bit little-endian; no
/// associated data in the transport phase), computed by OpenSSL's libcrypto where it is installed
/// (else by swift-crypto, with one more copy each way).
///
/// Sealing writes ciphertext ‖ tag straight into the caller's memory (the NIO `ByteBuffer` that
/// goes to the socket) and opening writes the plaintext straight into the caller's memory, so the
/// cipher is the only pass over the bytes: swift-crypto's `ChaChaPoly` returns a new `Data` per
/// message (nonce ‖ ciphertext ‖ tag, one more copy) and does not export BoringSSL's EVP_AEAD.
struct NoiseTransportCipher: Sendable {
    /// The AEAD tag's length (RFC 8439 §2.8).
    static let tagLength = 16

    private var context: ChaChaPolyContext
    /// The implementation in use (OpenSSL where libcrypto.so.3 loads, else swift-crypto).
    var backend: ChaChaPolyContext.Backend { context.backend }
    /// The next nonce.
    private(set) var nonce: UInt64

    /// The transport cipher continuing `state` (nil when it has no key); `sealing` picks the direction.
    init?(_ state: NoiseCipherState, sealing: Bool) throws {
        guard let key = state.key else { return nil }
        context = try key.withUnsafeBytes { try ChaChaPolyContext(key: Array($0), sealing: sealing) }
        nonce = state.nonce
    }

    /// A cipher with a raw 32-byte key and a starting nonce (tests and the benchmark).
    init(key: [UInt8], nonce: UInt64 = 0, sealing: Bool, backend: ChaChaPolyContext.Backend = .preferred) throws {
        context = try ChaChaPolyContext(key: key, sealing: sealing, backend: backend)
        self.nonce = nonce
    }

    /// The 12-byte ChaCha20-Poly1305 nonce for counter `n` (Noise §12.3): 4 zero bytes, n little-endian.
    /// (A tuple of three `UInt32`s has no padding: its memory is exactly those 12 bytes.)
    static func nonceBytes(_ n: UInt64) -> (UInt32, UInt32, UInt32) {
        (0, UInt32(truncatingIfNeeded: n).littleEndian, UInt32(truncatingIfNeeded: n >> 32).littleEndian)
    }

    /// Runs one AEAD operation under the next nonce and advances the counter only if it succeeds
    /// (Noise §5.1: the nonce 2⁶⁴ − 1 is never used).
    private mutating func withNextNonce<T>(_ body: (inout ChaChaPolyContext, (UInt32, UInt32, UInt32)) throws -> T) throws -> T {
        guard nonce < UInt64.max else { throw P2PError.limitExceeded("Noise nonce space exhausted; reconnect") }
        let result = try body(&context, Self.nonceBytes(nonce))
        nonce += 1
        return result
    }

    /// Seals `plaintext` into `out` (at least `plaintext.count + 16` bytes): ciphertext ‖ tag.
    /// `out` may be `plaintext`'s own memory (sealing in place). Returns the bytes written.
    mutating func seal(_ plaintext: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) throws -> Int {
        precondition(out.count >= plaintext.count + Self.tagLength, "seal needs room for the tag")  // programmer error
        try withNextNonce { try $0.seal(nonce: $1, plaintext, into: out) }
        return plaintext.count + Self.tagLength
    }

    /// Seals one message of `count` plaintext bytes given in pieces: `gather` passes each piece,
    /// in order, to the function it gets; ciphertext ‖ tag go to `out` (at least `count + 16`
    /// bytes). Returns the bytes written. The pieces are read where they lie (OpenSSL), so a
    /// message made of a yamux header and a slice of a stream's queue is never assembled first.
    mutating func seal(
        count: Int, into out: UnsafeMutableRawBufferPointer,
        gather: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> Int {
        precondition(out.count >= count + Self.tagLength, "seal needs room for the tag")  // programmer error
        try withNextNonce { try $0.seal(nonce: $1, count: count, into: out, gather: gather) }
        return count + Self.tagLength
    }

    /// Opens one message body (ciphertext ‖ tag) whose first `prefix` plaintext bytes say where
    /// the rest belongs: they go to `scratch`, `route` sees them and returns where to put the
    /// remaining bytes (nil: `scratch` right after the prefix). Returns the plaintext length and
    /// whether the rest went to `route`'s memory. With OpenSSL the rest is decrypted there
    /// directly (a yamux data frame's payload straight into the reader's chunk). A bad tag throws
    /// `decryptionFailed` after the bytes were written: the caller must then discard them.
    mutating func open(
        _ message: UnsafeRawBufferPointer, prefix: Int, scratch: UnsafeMutableRawBufferPointer,
        route: (UnsafeRawBufferPointer, Int) -> UnsafeMutableRawPointer?
    ) throws -> (count: Int, routed: Bool) {
        guard message.count >= Self.tagLength + prefix else { throw P2PError.decryptionFailed }
        let count = message.count - Self.tagLength
        precondition(scratch.count >= count, "open needs room for the plaintext")  // programmer error
        let routed = try withNextNonce { try $0.open(nonce: $1, message, prefix: prefix, scratch: scratch, route: route) }
        return (count, routed)
    }

    /// Opens one message body (ciphertext ‖ tag) into `out` (at least `message.count - 16` bytes;
    /// may be the message's own memory). Returns the plaintext length. The nonce advances only on
    /// success; a bad tag throws `decryptionFailed` and `out`'s bytes must not be used.
    mutating func open(_ message: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard message.count >= Self.tagLength else { throw P2PError.decryptionFailed }
        let count = message.count - Self.tagLength
        precondition(out.count >= count, "open needs room for the plaintext")  // programmer error
        try withNextNonce { try $0.open(nonce: $1, message, into: out) }
        return count
    }
}

/// ChaCha20-Poly1305 (RFC 8439) keyed for one direction, reused for every message (only the nonce
/// changes). With OpenSSL 3's libcrypto present (loaded at run time, `CMurmurOpenSSL`) it seals
/// and opens in the caller's memory through one `EVP_CIPHER_CTX`; without it swift-crypto's
/// `ChaChaPoly` does the same work with a copy in and out. Value semantics: a copy that is about to
/// be used while shared gets its own context first (copy-on-write), so copies of a `NoiseSession`
/// never share mutable OpenSSL state.
struct ChaChaPolyContext: Sendable {
    /// Which implementation seals and opens.
    enum Backend: Sendable, Equatable {
        /// OpenSSL's libcrypto, in place.
        case openSSL
        /// swift-crypto (BoringSSL), through its `Data`-returning API.
        case swiftCrypto

        /// OpenSSL when libcrypto.so.3 loads, else swift-crypto.
        static var preferred: Backend { murmur_ossl_available() == 1 ? .openSSL : .swiftCrypto }
    }

    private var storage: Storage?
    private let key: [UInt8]
    /// The key for swift-crypto (built once, not per message).
    private let symmetricKey: SymmetricKey
    private let sealing: Bool
    /// The implementation in use.
    let backend: Backend

    init(key: [UInt8], sealing: Bool, backend: Backend = .preferred) throws {
        guard key.count == 32 else { throw P2PError.handshakeFailed("a ChaCha20-Poly1305 key is 32 bytes, got \(key.count)") }
        self.key = key
        symmetricKey = SymmetricKey(data: key)
        self.sealing = sealing
        self.backend = backend
        storage = backend == .openSSL ? try Storage(key: key, sealing: sealing) : nil
    }

    private mutating func unique() throws -> UnsafeMutableRawPointer {
        if isKnownUniquelyReferenced(&storage), let s = storage { return s.context }
        let fresh = try Storage(key: key, sealing: sealing)
        storage = fresh
        return fresh.context
    }

    /// RFC 8439 §2.8 AEAD encryption (`nonce`: the 12 bytes in memory order; Noise's transport
    /// has no associated data): ciphertext, then the 16-byte tag, into `out`.
    mutating func seal(
        nonce: (UInt32, UInt32, UInt32), aad: UnsafeRawBufferPointer = .init(start: nil, count: 0),
        _ plaintext: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer
    ) throws {
        var nonce = nonce
        guard backend == .openSSL else {
            let box = try withUnsafeBytes(of: &nonce) { n in
                try ChaChaPoly.seal(plaintext, using: symmetricKey, nonce: ChaChaPoly.Nonce(data: n), authenticating: aad)
            }
            box.ciphertext.copyBytes(to: out)
            box.tag.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: out[plaintext.count...]))
            return
        }
        let ctx = try unique()
        let ok = withUnsafeBytes(of: &nonce) { n in
            murmur_ossl_chacha_seal(ctx, n.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                    aad.baseAddress?.assumingMemoryBound(to: UInt8.self), aad.count,
                                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), plaintext.count,
                                    out.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
        guard ok == 1 else { throw P2PError.closed("OpenSSL failed to seal a ChaCha20-Poly1305 message; reconnect") }
    }

    /// `seal` of a plaintext given in pieces (`count` bytes in all, no associated data): with
    /// OpenSSL each piece goes through the cipher where it lies; swift-crypto gathers them into
    /// `out` first and seals there.
    mutating func seal(
        nonce: (UInt32, UInt32, UInt32), count: Int, into out: UnsafeMutableRawBufferPointer,
        gather: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        var offset = 0
        guard backend == .openSSL else {
            try gather { piece in
                precondition(offset + piece.count <= count, "pieces longer than the message")  // programmer error
                UnsafeMutableRawBufferPointer(rebasing: out[offset..<(offset + piece.count)]).copyMemory(from: piece)
                offset += piece.count
            }
            precondition(offset == count, "pieces shorter than the message")  // programmer error
            try seal(nonce: nonce, UnsafeRawBufferPointer(rebasing: out[..<count]), into: out)
            return
        }
        let ctx = try unique()
        var nonce = nonce
        let failure = P2PError.closed("OpenSSL failed to seal a ChaCha20-Poly1305 message; reconnect")
        let begun = withUnsafeBytes(of: &nonce) { murmur_ossl_chacha_begin(ctx, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), nil) }
        guard begun == 1 else { throw failure }
        let base = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
        try gather { piece in
            precondition(offset + piece.count <= count, "pieces longer than the message")  // programmer error
            guard !piece.isEmpty else { return }
            guard murmur_ossl_chacha_update(ctx, piece.baseAddress?.assumingMemoryBound(to: UInt8.self), piece.count, base?.advanced(by: offset)) == 1
            else { throw failure }
            offset += piece.count
        }
        precondition(offset == count, "pieces shorter than the message")  // programmer error
        guard murmur_ossl_chacha_seal_final(ctx, base?.advanced(by: count)) == 1 else { throw failure }
    }

    /// RFC 8439 §2.8 AEAD decryption of ciphertext ‖ tag into `out`; throws `decryptionFailed`
    /// when the tag does not verify (then `out` holds unauthenticated bytes: discard them).
    mutating func open(
        nonce: (UInt32, UInt32, UInt32), aad: UnsafeRawBufferPointer = .init(start: nil, count: 0),
        _ message: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer
    ) throws {
        let count = message.count - NoiseTransportCipher.tagLength
        var nonce = nonce
        guard backend == .openSSL else {
            do {
                let plain = try withUnsafeBytes(of: &nonce) { n in
                    let box = try ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: n),
                                                       ciphertext: UnsafeRawBufferPointer(rebasing: message[..<count]),
                                                       tag: UnsafeRawBufferPointer(rebasing: message[count...]))
                    return try ChaChaPoly.open(box, using: symmetricKey, authenticating: aad)
                }
                plain.copyBytes(to: out)
            } catch { throw P2PError.decryptionFailed }
            return
        }
        let ctx = try unique()
        let ok = withUnsafeBytes(of: &nonce) { n in
            murmur_ossl_chacha_open(ctx, n.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                    aad.baseAddress?.assumingMemoryBound(to: UInt8.self), aad.count,
                                    message.baseAddress?.assumingMemoryBound(to: UInt8.self), count,
                                    out.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
        guard ok == 1 else { throw P2PError.decryptionFailed }
    }

    /// `open` in two parts: the first `prefix` plaintext bytes to `scratch`, the rest where
    /// `route` says (given the prefix and the rest's length; nil: `scratch` after the prefix).
    /// Returns whether `route` took the rest. Throws `decryptionFailed` on a bad tag. `route`
    /// sees the prefix before the tag is checked: it may only choose, not act on it.
    mutating func open(
        nonce: (UInt32, UInt32, UInt32), _ message: UnsafeRawBufferPointer, prefix: Int, scratch: UnsafeMutableRawBufferPointer,
        route: (UnsafeRawBufferPointer, Int) -> UnsafeMutableRawPointer?
    ) throws -> Bool {
        let count = message.count - NoiseTransportCipher.tagLength
        let rest = count - prefix
        guard backend == .openSSL else {
            try open(nonce: nonce, message, into: scratch)
            guard let target = route(UnsafeRawBufferPointer(rebasing: scratch[..<prefix]), rest) else { return false }
            if let base = scratch.baseAddress { target.copyMemory(from: base + prefix, byteCount: rest) }
            return true
        }
        let ctx = try unique()
        var nonce = nonce
        let input = message.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let output = scratch.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let begun = withUnsafeBytes(of: &nonce) {
            murmur_ossl_chacha_begin(ctx, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), input?.advanced(by: count))
        }
        guard begun == 1, murmur_ossl_chacha_update(ctx, input, prefix, output) == 1 else { throw P2PError.decryptionFailed }
        let target = route(UnsafeRawBufferPointer(rebasing: scratch[..<prefix]), rest)
        let destination = target?.assumingMemoryBound(to: UInt8.self) ?? output?.advanced(by: prefix)
        guard murmur_ossl_chacha_update(ctx, input?.advanced(by: prefix), rest, destination) == 1, murmur_ossl_chacha_open_final(ctx) == 1 else {
            throw P2PError.decryptionFailed
        }
        return target != nil
    }

    /// Owns the OpenSSL context (freed with the last copy).
    private final class Storage: @unchecked Sendable {
        // Sound: `context` is only used through `ChaChaPolyContext.unique()`, which gives every
        // mutating user its own Storage when the reference is shared, so no two values (and hence
        // no two threads) ever drive one EVP_CIPHER_CTX at once; `deinit` runs after the last use.
        let context: UnsafeMutableRawPointer

        init(key: [UInt8], sealing: Bool) throws {
            guard let ctx = murmur_ossl_chacha_new(key, sealing ? 1 : 0) else {
                throw P2PError.handshakeFailed("OpenSSL's libcrypto could not make a ChaCha20-Poly1305 context")
            }
            context = ctx
        }

        deinit { murmur_ossl_chacha_free(context) }
    }
}
