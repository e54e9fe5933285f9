import Crypto
import Foundation
import MurmurCore
import Testing

@testable import MurmurP2P

/// The Noise transport cipher (OpenSSL's ChaCha20-Poly1305 where libcrypto.so.3 loads, else
/// swift-crypto): RFC 8439's known answer, equality with swift-crypto under Noise's nonce encoding,
/// cacophony's transport messages, tampering — each for both implementations.
@Suite struct NoiseTransportCipherTests {
    static let backends: [ChaChaPolyContext.Backend] = [.openSSL, .swiftCrypto]

    /// Debian (and every Linux with the Swift toolchain, whose libcurl needs libssl3) has
    /// libcrypto.so.3, so the in-place OpenSSL path is the one the tests and the transport use.
    @Test func openSSLLoadsOnThisMachine() {
        #if os(Linux)
        #expect(ChaChaPolyContext.Backend.preferred == .openSSL, "libcrypto.so.3 did not load: the transport falls back to swift-crypto")
        #endif
    }

    /// RFC 8439 §2.8.2 "Example and Test Vector for AEAD_CHACHA20_POLY1305".
    static let rfcKey = Array(0x80...0x9F).map { UInt8($0) }
    static let rfcNonce = "070000004041424344454647"
    static let rfcAAD = "50515253c0c1c2c3c4c5c6c7"
    static let rfcPlaintext = Array(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
    static let rfcCiphertext =
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
        + "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        + "3ff4def08e4b7a9de576d26586cec64b6116"
    static let rfcTag = "1ae10b594f09e26a7e902ecbd0600691"

    /// The 12 nonce bytes as the tuple the context takes (memory order).
    static func nonceTuple(_ bytes: [UInt8]) -> (UInt32, UInt32, UInt32) {
        var t: (UInt32, UInt32, UInt32) = (0, 0, 0)
        withUnsafeMutableBytes(of: &t) { $0.copyBytes(from: bytes) }
        return t
    }

    static func seal(_ c: inout NoiseTransportCipher, _ plaintext: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        let n = try plaintext.withUnsafeBytes { p in try out.withUnsafeMutableBytes { try c.seal(p, into: $0) } }
        #expect(n == out.count)
        return out
    }

    static func open(_ c: inout NoiseTransportCipher, _ message: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(0, message.count - 16))
        let n = try message.withUnsafeBytes { m in try out.withUnsafeMutableBytes { try c.open(m, into: $0) } }
        return Array(out.prefix(n))
    }

    @Test(arguments: backends) func rfc8439AEADVector(backend: ChaChaPolyContext.Backend) throws {
        let nonce = Self.nonceTuple(try Multibase.decodeHex(Self.rfcNonce))
        let aad = try Multibase.decodeHex(Self.rfcAAD)
        var sealer = try ChaChaPolyContext(key: Self.rfcKey, sealing: true, backend: backend)
        var sealed = [UInt8](repeating: 0, count: Self.rfcPlaintext.count + 16)
        try aad.withUnsafeBytes { a in
            try Self.rfcPlaintext.withUnsafeBytes { p in
                try sealed.withUnsafeMutableBytes { try sealer.seal(nonce: nonce, aad: a, p, into: $0) }
            }
        }
        #expect(Multibase.hex(Array(sealed.prefix(Self.rfcPlaintext.count))) == Self.rfcCiphertext)
        #expect(Multibase.hex(Array(sealed.suffix(16))) == Self.rfcTag)

        var opener = try ChaChaPolyContext(key: Self.rfcKey, sealing: false, backend: backend)
        var plain = [UInt8](repeating: 0, count: Self.rfcPlaintext.count)
        try aad.withUnsafeBytes { a in
            try sealed.withUnsafeBytes { s in
                try plain.withUnsafeMutableBytes { try opener.open(nonce: nonce, aad: a, s, into: $0) }
            }
        }
        #expect(plain == Self.rfcPlaintext)
        // The same message under different associated data must not open.
        #expect(throws: P2PError.decryptionFailed) {
            try sealed.withUnsafeBytes { s in try plain.withUnsafeMutableBytes { try opener.open(nonce: nonce, s, into: $0) } }
        }
    }

    /// Noise §12.3 nonce (4 zero bytes, counter little-endian) against swift-crypto, on random keys,
    /// lengths (empty, around the 64-byte ChaCha block, a full Noise message) and counters past 2³².
    @Test(arguments: backends) func equalsSwiftCryptoUnderTheNoiseNonce(backend: ChaChaPolyContext.Backend) throws {
        var rng = SeededRNG(seed: 8439)
        for length in [0, 1, 15, 16, 63, 64, 65, 127, 1000, 4096, NoiseSession.maxPlaintextLength] {
            let key = (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let start = length % 2 == 0 ? rng.next() >> 1 : UInt64(length)
            let plaintext = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var sealer = try NoiseTransportCipher(key: key, nonce: start, sealing: true, backend: backend)
            var opener = try NoiseTransportCipher(key: key, nonce: start, sealing: false, backend: backend)
            for k in 0..<3 {
                let n = start + UInt64(k)
                var nonce = [UInt8](repeating: 0, count: 4)
                withUnsafeBytes(of: n.littleEndian) { nonce += $0 }
                let box = try ChaChaPoly.seal(plaintext, using: SymmetricKey(data: key), nonce: try ChaChaPoly.Nonce(data: nonce))
                let sealed = try Self.seal(&sealer, plaintext)
                #expect(sealed == Array(box.ciphertext) + Array(box.tag), "length \(length), nonce \(n)")
                #expect(try Self.open(&opener, sealed) == plaintext)
            }
            #expect(sealer.nonce == start + 3 && opener.nonce == start + 3)
        }
    }

    /// The transport messages of haskell-cryptography/cacophony's XX vector (see NoiseTests),
    /// sealed and opened by the OpenSSL cipher continuing the split states.
    @Test func cacophonyTransportMessages() throws {
        let prologue = try Multibase.decodeHex(NoiseTests.prologue)
        var i = NoiseXXHandshake(initiator: true, staticKey: try NoiseTests.key(NoiseTests.initStatic),
                                 ephemeralKey: try NoiseTests.key(NoiseTests.initEphemeral), prologue: prologue)
        var r = NoiseXXHandshake(initiator: false, staticKey: try NoiseTests.key(NoiseTests.respStatic),
                                 ephemeralKey: try NoiseTests.key(NoiseTests.respEphemeral), prologue: prologue)
        for (k, m) in NoiseTests.messages.prefix(3).enumerated() {
            let payload = try Multibase.decodeHex(m.payload)
            if k % 2 == 0 { _ = try r.readMessage(try i.writeMessage(payload: payload)) } else { _ = try i.readMessage(try r.writeMessage(payload: payload)) }
        }
        let (iS, iR) = try i.split()
        let (rS, rR) = try r.split()
        var iSend = try #require(try NoiseTransportCipher(iS, sealing: true))
        var iReceive = try #require(try NoiseTransportCipher(iR, sealing: false))
        var rSend = try #require(try NoiseTransportCipher(rS, sealing: true))
        var rReceive = try #require(try NoiseTransportCipher(rR, sealing: false))
        for (k, m) in NoiseTests.messages.dropFirst(3).enumerated() {
            let payload = try Multibase.decodeHex(m.payload)
            let fromResponder = k % 2 == 0
            let ct = fromResponder ? try Self.seal(&rSend, payload) : try Self.seal(&iSend, payload)
            #expect(Multibase.hex(ct) == m.ciphertext, "transport message \(k + 4)")
            #expect(try (fromResponder ? Self.open(&iReceive, ct) : Self.open(&rReceive, ct)) == payload)
        }
    }

    @Test(arguments: backends) func tamperedCiphertextOrTagFailsWithoutAdvancingTheNonce(backend: ChaChaPolyContext.Backend) throws {
        let key = (0..<32).map { UInt8($0 * 7) }
        var sealer = try NoiseTransportCipher(key: key, sealing: true, backend: backend)
        var opener = try NoiseTransportCipher(key: key, sealing: false, backend: backend)
        let plaintext = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 13) }
        let sealed = try Self.seal(&sealer, plaintext)
        for position in [0, 500, 999, 1000, 1015] {  // ciphertext, then the tag
            var bad = sealed
            bad[position] ^= 0x01
            #expect(throws: P2PError.decryptionFailed) { try Self.open(&opener, bad) }
            #expect(opener.nonce == 0)
        }
        #expect(throws: P2PError.decryptionFailed) { try Self.open(&opener, Array(sealed.prefix(15))) }
        #expect(try Self.open(&opener, sealed) == plaintext)
        #expect(opener.nonce == 1)
        // Replaying the same message under the next nonce fails too.
        #expect(throws: P2PError.decryptionFailed) { try Self.open(&opener, sealed) }
    }

    @Test(arguments: backends) func sealsAndOpensInPlace(backend: ChaChaPolyContext.Backend) throws {
        let key = (0..<32).map { UInt8(255 - $0) }
        var sealer = try NoiseTransportCipher(key: key, sealing: true, backend: backend)
        var opener = try NoiseTransportCipher(key: key, sealing: false, backend: backend)
        let plaintext = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var reference = try NoiseTransportCipher(key: key, sealing: true, backend: backend)
        let expected = try Self.seal(&reference, plaintext)
        var buffer = plaintext + [UInt8](repeating: 0, count: 16)
        try buffer.withUnsafeMutableBytes { b in
            _ = try sealer.seal(UnsafeRawBufferPointer(rebasing: b[..<plaintext.count]), into: b)
        }
        #expect(buffer == expected)
        let n = try buffer.withUnsafeMutableBytes { b in try opener.open(UnsafeRawBufferPointer(b), into: b) }
        #expect(Array(buffer.prefix(n)) == plaintext)
    }

    /// A message sealed from pieces (how yamux headers and queue slices are sealed) is the message
    /// sealed in one piece, for any cut points, including pieces that cross 64-byte blocks.
    @Test(arguments: backends) func sealsAMessageGivenInPieces(backend: ChaChaPolyContext.Backend) throws {
        let key = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 11) }
        let plaintext = (0..<NoiseSession.maxPlaintextLength).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) }
        let cases: [(length: Int, cuts: [Int])] = [
            (0, []), (1, [0, 1]), (12, [12]), (100, [12, 13, 64, 99]), (65519, [12]), (65519, [1, 12, 63, 64, 65, 1000, 65518]),
        ]
        for (length, cuts) in cases {
            let message = Array(plaintext.prefix(length))
            var reference = try NoiseTransportCipher(key: key, nonce: 5, sealing: true, backend: backend)
            let expected = try Self.seal(&reference, message)
            var sealer = try NoiseTransportCipher(key: key, nonce: 5, sealing: true, backend: backend)
            var out = [UInt8](repeating: 0, count: length + 16)
            let bounds = [0] + cuts + [length]
            let n = try message.withUnsafeBytes { m in
                try out.withUnsafeMutableBytes { o in
                    try sealer.seal(count: length, into: o) { emit in
                        for (a, b) in zip(bounds, bounds.dropFirst()) { try emit(UnsafeRawBufferPointer(rebasing: m[a..<b])) }
                    }
                }
            }
            #expect(n == length + 16)
            #expect(out == expected, "length \(length), cuts \(cuts)")
            #expect(sealer.nonce == 6)
        }
    }

    /// Opening with a routed rest (a yamux header to scratch, the payload to the reader's chunk)
    /// gives the same plaintext as opening in one piece; a tampered message still fails.
    @Test(arguments: backends) func opensTheRestWhereTheRouteSays(backend: ChaChaPolyContext.Backend) throws {
        let key = (0..<32).map { UInt8($0 &+ 100) }
        let plaintext = (0..<65519).map { UInt8(truncatingIfNeeded: $0 &* 17) }
        var sealer = try NoiseTransportCipher(key: key, sealing: true, backend: backend)
        let sealed = try Self.seal(&sealer, plaintext)
        for routeIt in [true, false] {
            var opener = try NoiseTransportCipher(key: key, sealing: false, backend: backend)
            var scratch = [UInt8](repeating: 0, count: 65535)
            var target = [UInt8](repeating: 0, count: 65519 - 12)
            var seen: [UInt8] = []
            let (n, routed) = try sealed.withUnsafeBytes { m in
                try scratch.withUnsafeMutableBytes { s in
                    try target.withUnsafeMutableBytes { t in
                        try opener.open(m, prefix: 12, scratch: s) { prefix, rest in
                            seen = Array(prefix)
                            #expect(rest == 65519 - 12)
                            return routeIt ? t.baseAddress : nil
                        }
                    }
                }
            }
            #expect(n == 65519 && routed == routeIt && opener.nonce == 1)
            #expect(seen == Array(plaintext.prefix(12)))
            #expect(Array(scratch.prefix(12)) == Array(plaintext.prefix(12)))
            #expect((routeIt ? target : Array(scratch[12..<65519])) == Array(plaintext[12...]))
        }
        for position in [3, 40_000, sealed.count - 1] {
            var bad = sealed
            bad[position] ^= 0x80
            var opener = try NoiseTransportCipher(key: key, sealing: false, backend: backend)
            var scratch = [UInt8](repeating: 0, count: 65535)
            var target = [UInt8](repeating: 0, count: 65519)
            #expect(throws: P2PError.decryptionFailed) {
                try bad.withUnsafeBytes { m in
                    try scratch.withUnsafeMutableBytes { s in
                        try target.withUnsafeMutableBytes { t in _ = try opener.open(m, prefix: 12, scratch: s) { _, _ in t.baseAddress } }
                    }
                }
            }
            #expect(opener.nonce == 0)
        }
    }

    /// Copies are values: a copy used after the original goes on from the same nonce with the same
    /// result, and neither disturbs the other's OpenSSL context.
    @Test(arguments: backends) func copiesAreIndependentValues(backend: ChaChaPolyContext.Backend) throws {
        let key = (0..<32).map { UInt8($0) }
        var a = try NoiseTransportCipher(key: key, sealing: true, backend: backend)
        _ = try Self.seal(&a, [1, 2, 3])
        var b = a
        let fromA = try Self.seal(&a, Array(repeating: 9, count: 100))
        let fromB = try Self.seal(&b, Array(repeating: 9, count: 100))
        #expect(fromA == fromB)
        #expect(a.nonce == 2 && b.nonce == 2)
    }
}
