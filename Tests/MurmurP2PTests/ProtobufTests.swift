import MurmurCore
import Testing

@testable import MurmurP2P

/// Wire format per https://protobuf.dev/programming-guides/encoding/; message layouts per
/// libp2p/specs (peer-ids "Keys", noise "The libp2p Handshake Payload", identify).
@Suite struct ProtobufTests {
    @Test func keyProtobufMatchesTheSpecLayout() throws {
        let key = KeyProtobuf(type: 1, data: [UInt8](repeating: 0xAB, count: 32))
        #expect(Array(key.encoded.prefix(4)) == [0x08, 0x01, 0x12, 0x20])
        #expect(try KeyProtobuf(decoding: key.encoded) == key)
        #expect(throws: P2PError.self) { try KeyProtobuf(decoding: [0x08, 0x01]) }  // Data missing
    }

    @Test func noisePayloadRoundTripsAndSkipsExtensions() throws {
        let p = NoiseHandshakePayload(identityKey: [1, 2, 3], identitySignature: [4, 5])
        #expect(p.encoded == [0x0a, 3, 1, 2, 3, 0x12, 2, 4, 5])
        // Field 4 (extensions, a nested message) is skipped.
        #expect(try NoiseHandshakePayload(decoding: p.encoded + [0x22, 2, 0x12, 0]) == p)
    }

    @Test func identifyRoundTrips() throws {
        var m = IdentifyMessage()
        m.publicKey = Identity().publicKey.libp2pProtobuf
        m.listenAddrs = [try Multiaddr("/ip4/127.0.0.1/tcp/1").bytes]
        m.protocols = ["/ipfs/ping/1.0.0", "/ipfs/id/1.0.0"]
        m.observedAddr = try Multiaddr("/ip4/127.0.0.1/tcp/2").bytes
        m.protocolVersion = "ipfs/0.1.0"
        m.agentVersion = "murmur/0.1"
        #expect(try IdentifyMessage(decoding: m.encoded) == m)
    }

    @Test func malformedInputIsAnErrorNotACrash() throws {
        #expect(throws: P2PError.self) { try IdentifyMessage(decoding: [0x0a, 0x05, 1]) }  // length past end
        #expect(throws: P2PError.self) { try IdentifyMessage(decoding: [0x0a]) }  // truncated
        #expect(throws: P2PError.self) { try IdentifyMessage(decoding: [0x0b]) }  // group start on a bytes field
        #expect(throws: P2PError.self) { try IdentifyMessage(decoding: [0x00, 0x01]) }  // field 0
        #expect(throws: P2PError.self) { try IdentifyMessage(decoding: [0x0a] + [UInt8](repeating: 0xff, count: 11)) }
        #expect(throws: P2PError.self) { try IdentifyMessage(decoding: [0x1a, 0x02, 0xc3, 0x28]) }  // protocols: not UTF-8
        // Unknown fixed 64/32-bit fields are skipped.
        var expected = IdentifyMessage()
        expected.protocolVersion = "A"
        #expect(try IdentifyMessage(decoding: [0x49, 1, 2, 3, 4, 5, 6, 7, 8, 0x55, 1, 2, 3, 4, 0x2a, 1, 0x41]) == expected)
    }

    /// Found by `scripts/fuzz protobuf`: a key Type of 2^64 − 1 decoded to −1 and trapped when
    /// re-encoded. KeyType is a closed proto2 enum: an unknown number leaves the required Type missing.
    @Test func outOfRangeKeyTypeIsRejected() throws {
        let input: [UInt8] = [0x08] + [UInt8](repeating: 0xff, count: 9) + [0x01, 0x12, 0x01, 0x00]
        #expect(throws: P2PError.invalidProtobuf("a libp2p key needs both Type (RSA, Ed25519, Secp256k1 or ECDSA) and Data")) {
            try KeyProtobuf(decoding: input)
        }
        #expect(try KeyProtobuf(decoding: [0x08, 0x03, 0x12, 0x01, 0x07]) == KeyProtobuf(type: 3, data: [7]))
        // A type outside KeyType is not written, so the encoding does not decode (and nothing traps).
        #expect(KeyProtobuf(type: -1, data: [7]).encoded == [0x12, 0x01, 0x07])
        #expect(throws: P2PError.self) { try KeyProtobuf(decoding: KeyProtobuf(type: -1, data: []).encoded) }
    }
}
