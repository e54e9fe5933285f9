import Crypto
import MurmurCore
import NIOCore
import Testing

@testable import MurmurP2P

/// Noise XX known answers from haskell-cryptography/cacophony vectors/cacophony.txt
/// (commit 8ee9d41, protocol_name "Noise_XX_25519_ChaChaPoly_SHA256"), plus libp2p's payload.
@Suite struct NoiseTests {
    static let prologue = "4a6f686e2047616c74"
    static let initStatic = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1"
    static let initEphemeral = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a"
    static let respStatic = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893"
    static let respEphemeral = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b"
    static let handshakeHash = "c8e5f64e846193be2a834104c2a009868d6c9f3bd3c186299888b488b2f1f58e"
    static let messages: [(payload: String, ciphertext: String)] = [
        ("4c756477696720766f6e204d69736573",
         "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573"),
        ("4d757272617920526f746862617264",
         "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c48378ffce2b65285e08d6b68aaa3629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19b7815528f8982ffe09be9b5c412f8a0db50f8814c7194e83f23dbd8d162c9326ad"),
        ("462e20412e20486179656b",
         "c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae475b9df0f169ae80a89be0865b57f58c9fea0d4ec82a286427402f113e4b6ae769a1d95941d49b25030"),
        ("4361726c204d656e676572", "96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df"),
        ("4a65616e2d426170746973746520536179", "3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5"),
        ("457567656e2042f6686d20766f6e2042617765726b",
         "eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f"),
    ]

    static func key(_ hex: String) throws -> Curve25519.KeyAgreement.PrivateKey {
        try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: try Multibase.decodeHex(hex))
    }

    @Test func cacophonyXXVector() throws {
        let prologue = try Multibase.decodeHex(Self.prologue)
        var i = NoiseXXHandshake(initiator: true, staticKey: try Self.key(Self.initStatic),
                                 ephemeralKey: try Self.key(Self.initEphemeral), prologue: prologue)
        var r = NoiseXXHandshake(initiator: false, staticKey: try Self.key(Self.respStatic),
                                 ephemeralKey: try Self.key(Self.respEphemeral), prologue: prologue)
        for (k, m) in Self.messages.prefix(3).enumerated() {
            let payload = try Multibase.decodeHex(m.payload)
            let ct = k % 2 == 0 ? try i.writeMessage(payload: payload) : try r.writeMessage(payload: payload)
            #expect(Multibase.hex(ct) == m.ciphertext, "handshake message \(k + 1)")
            let back = k % 2 == 0 ? try r.readMessage(ct) : try i.readMessage(ct)
            #expect(back == payload)
        }
        #expect(i.isComplete && r.isComplete)
        #expect(Multibase.hex(i.handshakeHash) == Self.handshakeHash)
        #expect(r.handshakeHash == i.handshakeHash)
        var (iSend, iReceive) = try i.split()
        var (rSend, rReceive) = try r.split()
        // Transport messages keep alternating: responder, initiator, responder.
        for (k, m) in Self.messages.dropFirst(3).enumerated() {
            let payload = try Multibase.decodeHex(m.payload)
            let fromResponder = k % 2 == 0
            let ct = fromResponder ? try rSend.encrypt(payload) : try iSend.encrypt(payload)
            #expect(Multibase.hex(ct) == m.ciphertext, "transport message \(k + 4)")
            let back = fromResponder ? try iReceive.decrypt(ct) : try rReceive.decrypt(ct)
            #expect(back == payload)
        }
    }

    @Test func tamperedTransportFrameFailsWithoutAdvancingTheNonce() throws {
        var i = NoiseXXHandshake(initiator: true, staticKey: .init())
        var r = NoiseXXHandshake(initiator: false, staticKey: .init())
        _ = try r.readMessage(try i.writeMessage(payload: []))
        _ = try i.readMessage(try r.writeMessage(payload: []))
        _ = try r.readMessage(try i.writeMessage(payload: []))
        var (send, _) = try i.split()
        var (_, receive) = try r.split()
        var ct = try send.encrypt([1, 2, 3])
        ct[0] ^= 1
        #expect(throws: P2PError.decryptionFailed) { try receive.decrypt(ct) }
        ct[0] ^= 1
        #expect(try receive.decrypt(ct) == [1, 2, 3])
    }

    /// Runs two libp2p Noise sessions against each other, `chunk` bytes at a time.
    static func pair(_ a: inout NoiseSession, _ b: inout NoiseSession, chunk: Int) throws -> (PeerID?, PeerID?) {
        var toB = try a.start()
        var toA = try b.start()
        var idA: PeerID?
        var idB: PeerID?
        for _ in 0..<100_000 where !(a.isEstablished && b.isEstablished) || !toA.isEmpty || !toB.isEmpty {
            if !toB.isEmpty {
                let n = min(chunk, toB.count)
                let o = try b.receive(Array(toB.prefix(n)))
                toB.removeFirst(n)
                toA += o.send
                if let p = o.established { idB = p }
            }
            if !toA.isEmpty {
                let n = min(chunk, toA.count)
                let o = try a.receive(Array(toA.prefix(n)))
                toA.removeFirst(n)
                toB += o.send
                if let p = o.established { idA = p }
            }
        }
        return (idA, idB)
    }

    @Test func libp2pHandshakeAuthenticatesBothPeers() throws {
        for chunk in [1, 7, 100_000] {
            let alice = Identity()
            let bob = Identity()
            var a = NoiseSession(initiator: true, identity: alice, expectedPeer: bob.peerID)
            var b = NoiseSession(initiator: false, identity: bob)
            let (seenByA, seenByB) = try Self.pair(&a, &b, chunk: chunk)
            #expect(seenByA == bob.peerID)
            #expect(seenByB == alice.peerID)
            // A 200 KB message crosses several 65535-byte Noise frames.
            let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 31) }
            let wire = try a.encrypt(big)
            #expect(wire.count == big.count + 4 * 18)  // 4 frames, 2-byte length + 16-byte tag each
            #expect(try b.receive(wire).plaintext == big)
        }
    }

    @Test func dialingTheWrongPeerFails() throws {
        var a = NoiseSession(initiator: true, identity: Identity(), expectedPeer: Identity().peerID)
        var b = NoiseSession(initiator: false, identity: Identity())
        #expect(throws: P2PError.self) { try Self.pair(&a, &b, chunk: 1000) }
    }

    @Test func aTamperedHandshakeMessageFails() throws {
        var a = NoiseSession(initiator: true, identity: Identity())
        var b = NoiseSession(initiator: false, identity: Identity())
        let m1 = try a.start()
        var m2 = try b.receive(m1).send
        m2[m2.count - 20] ^= 0x40  // inside the encrypted payload: the AEAD tag check fails
        #expect(throws: P2PError.self) { try a.receive(m2) }
    }

    /// yamux's outgoing pieces (headers, slices of queues) seal into exactly the messages their
    /// bytes in one array would: the same 65519-byte cuts, the same ciphertext.
    @Test func piecesSealLikeTheirBytes() throws {
        var a = NoiseSession(initiator: true, identity: Identity())
        var b = NoiseSession(initiator: false, identity: Identity())
        _ = try Self.pair(&a, &b, chunk: 100_000)
        let queue = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var pieces = YamuxOutgoing()
        pieces.append(YamuxHeader(type: .data, streamID: 3, length: 65507))
        pieces.append(queue, 0..<65507)
        pieces.append(YamuxHeader(type: .windowUpdate, streamID: 5, length: 9))
        pieces.append(YamuxHeader(type: .data, flags: .fin, streamID: 3, length: 100_000))
        pieces.append(queue, 65507..<165_507)
        pieces.append(queue, 7..<7)  // empty: dropped
        #expect(pieces.count == 3 * 12 + 165_507 && pieces.pieces.count == 5)
        var flat = a
        let expected = try flat.encrypt(pieces.bytes)
        var buffer = ByteBuffer()
        try a.encrypt(pieces, into: &buffer)
        #expect(Array(buffer.readableBytesView) == expected)
        #expect(try b.receive(expected).plaintext == pieces.bytes)
        var empty = ByteBuffer()
        try a.encrypt(YamuxOutgoing(), into: &empty)
        #expect(empty.readableBytes == 0)
    }

    @Test func transportMessagesSplitAtAnyPointDecryptTheSame() throws {
        var a = NoiseSession(initiator: true, identity: Identity())
        var b = NoiseSession(initiator: false, identity: Identity())
        _ = try Self.pair(&a, &b, chunk: 100_000)
        // Two full messages and a short one; cut the wire into reads of awkward sizes.
        let big = (0..<140_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        for read in [1, 2, 3, 1000, 65536, 65537, 65538, 131_075] {
            var a2 = a
            var b2 = b
            let again = try a2.encrypt(big)
            var plain: [UInt8] = []
            var offset = 0
            while offset < again.count {
                let end = min(again.count, offset + read)
                plain += try b2.receive(Array(again[offset..<end])).plaintext
                offset = end
            }
            #expect(plain == big, "reads of \(read) bytes")
        }
        #expect(try b.receive(try a.encrypt(big)).plaintext == big)
    }
}
