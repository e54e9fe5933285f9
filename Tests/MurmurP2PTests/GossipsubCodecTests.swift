import MurmurCore
import Testing

@testable import MurmurP2P

/// The pubsub RPC codec and StrictSign, against bytes from py-libp2p 0.8.1's generated
/// `rpc_pb2` (SerializeToString) and its Ed25519 signer, for the key with seed 00 01 … 1f.
struct GossipsubCodecTests {
    static let seed = (0..<32).map { UInt8($0) }
    static let peer = "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB"
    /// rpc_pb2.Message(from_id, data=b"hello", seqno=1 (8 bytes BE), topicIDs=["murmur"]) signed by py-libp2p.
    static let signedMessage = hex(
        "0a2600240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8120568656c6c6f1a0800000000000000012206"
            + "6d75726d75722a406200b56a1a46714481bbc104e9c0152395ff082d385b5d7bf2511eca6b7cddbcb8ed9f14ef4cc0b7e0d33626b77208ad73e8"
            + "1ff63cbd835ea4fe8d5529b1ab0e")
    /// rpc_pb2.RPC(subscriptions=[SubOpts(subscribe=True, topicid="murmur")], publish=[signedMessage]).
    static let rpc = hex("0a0a080112066d75726d75721283010a") + Array(signedMessage.dropFirst())
    /// rpc_pb2.RPC(control=ControlMessage(ihave=[("t", [0102, 03])], iwant=[[0102]], graft=["t"],
    /// prune=[("t", peers=[PeerInfo(peerID)], backoff=60)])).
    static let control = hex(
        "1a480a0a0a01741202010212010312040a0201021a030a0174222f0a017412280a2600240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309b"
            + "a50d5f1ddc8664125531b8183c")

    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    @Test func signingMatchesPyLibp2pByteForByte() throws {
        let identity = try Identity(seed: Self.seed)
        #expect(identity.peerID.description == Self.peer)
        let m = try PubsubSigning.sign(data: Array("hello".utf8), topic: "murmur", seqno: 1, identity: identity)
        #expect(m.encoded == Self.signedMessage)
        #expect(try PubsubSigning.verify(PubsubWireMessage(decoding: Self.signedMessage)) == identity.peerID)
    }

    /// rpc_pb2.Message(from_id, data=b"", seqno=2, topicIDs=["murmur"]) signed by py-libp2p: proto2
    /// presence keeps the empty data field (12 00) in what is signed.
    static let emptySignedMessage = hex(
        "0a2600240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b812001a08000000000000000222066d75726d"
            + "75722a402c1d6fa3455da20c634bf641f4d19f9a79dde71e1fdacc2c4f3763e2c1f071561c7d4f50427c5d7b56ef73c46ec5f4f4f8e084b8f4"
            + "4ee251f049c3d691249d07")

    @Test func emptyPayloadIsSignedWithItsFieldPresentLikePyLibp2p() throws {
        let identity = try Identity(seed: Self.seed)
        let m = try PubsubSigning.sign(data: [], topic: "murmur", seqno: 2, identity: identity)
        #expect(m.encoded == Self.emptySignedMessage)
        let decoded = try PubsubWireMessage(decoding: Self.emptySignedMessage)
        #expect(decoded == m)
        #expect(try PubsubSigning.verify(decoded) == identity.peerID)
        // Built field by field, empty data is left out: a different message, and not what was signed.
        var rebuilt = PubsubWireMessage(from: decoded.from, data: [], seqno: decoded.seqno, topics: decoded.topics, signature: decoded.signature)
        #expect(rebuilt != decoded)
        #expect(throws: PubsubSignatureError.badSignature) { try PubsubSigning.verify(rebuilt) }
        rebuilt.data = [0]
        #expect(throws: PubsubSignatureError.badSignature) { try PubsubSigning.verify(rebuilt) }
    }

    /// Fields this codec does not know travel on unchanged, as go-libp2p-pubsub keeps them.
    @Test func unknownMessageFieldsAreKeptWhenForwarded() throws {
        let withExtra = Self.signedMessage + [0x3a, 0x01, 0x07]  // field 7, bytes [7]
        let m = try PubsubWireMessage(decoding: withExtra)
        #expect(m.encoded == withExtra)
        #expect(try PubsubRPC(decoding: PubsubRPC(publish: [m]).encoded).publish == [m])
    }

    @Test func rpcDecodesAndReencodes() throws {
        let rpc = try PubsubRPC(decoding: Self.rpc)
        #expect(rpc.subscriptions == [.init(subscribe: true, topic: "murmur")])
        #expect(rpc.publish.count == 1)
        #expect(rpc.publish[0].data == Array("hello".utf8))
        #expect(rpc.publish[0].topics == ["murmur"])
        #expect(rpc.publish[0].seqno == [0, 0, 0, 0, 0, 0, 0, 1])
        #expect(rpc.control == nil)
        #expect(rpc.encoded == Self.rpc)
    }

    @Test func controlMessageMatchesPyLibp2p() throws {
        let pid = try PeerID(parsing: Self.peer)
        let control = PubsubControl(
            ihave: [.init(topic: "t", messageIDs: [[1, 2], [3]])], iwant: [[1, 2]], graft: ["t"],
            prune: [.init(topic: "t", peers: [.init(peerID: pid.multihash.bytes)], backoff: 60)])
        #expect(PubsubRPC(control: control).encoded == Self.control)
        let decoded = try PubsubRPC(decoding: Self.control)
        #expect(decoded.control == control)
    }

    @Test func pruneWithoutBackoffIsAV10Prune() throws {
        let rpc = PubsubRPC(control: PubsubControl(prune: [.init(topic: "x")]))
        let back = try PubsubRPC(decoding: rpc.encoded)
        #expect(back.control?.prune == [.init(topic: "x", peers: [], backoff: nil)])
    }

    @Test func tamperedMessagesAreRefused() throws {
        var m = try PubsubWireMessage(decoding: Self.signedMessage)
        m.data = Array("hellO".utf8)
        #expect(throws: PubsubSignatureError.badSignature) { try PubsubSigning.verify(m) }
        var unsigned = try PubsubWireMessage(decoding: Self.signedMessage)
        unsigned.signature = []
        #expect(throws: PubsubSignatureError.missingField("signature")) { try PubsubSigning.verify(unsigned) }
        var wrongKey = try PubsubWireMessage(decoding: Self.signedMessage)
        wrongKey.key = Identity().publicKey.libp2pProtobuf
        #expect(throws: PubsubSignatureError.keyMismatch) { try PubsubSigning.verify(wrongKey) }
        var otherAuthor = try PubsubWireMessage(decoding: Self.signedMessage)
        otherAuthor.from = Identity().peerID.multihash.bytes
        #expect(throws: PubsubSignatureError.badSignature) { try PubsubSigning.verify(otherAuthor) }
    }

    @Test func limitsBoundTheDecoder() throws {
        var limits = PubsubLimits()
        limits.maxControlIDs = 3
        let big = PubsubRPC(control: PubsubControl(iwant: [[1], [2], [3], [4]]))
        #expect(throws: P2PError.self) { try PubsubRPC(decoding: big.encoded, limits: limits) }
        limits.maxTopicLength = 4
        let long = PubsubRPC(subscriptions: [.init(subscribe: true, topic: "toolong")])
        #expect(throws: P2PError.self) { try PubsubRPC(decoding: long.encoded, limits: limits) }
        limits.maxDataLength = 2
        let m = PubsubRPC(publish: [PubsubWireMessage(data: [1, 2, 3], topics: ["t"])])
        #expect(throws: P2PError.self) { try PubsubRPC(decoding: m.encoded, limits: limits) }
        // Truncated input is an error, never a crash.
        for n in 0..<Self.rpc.count {
            _ = try? PubsubRPC(decoding: Array(Self.rpc.prefix(n)))
        }
    }

    /// Random RPCs round-trip; random bytes decode to something that round-trips, or throw.
    @Test func roundTripsAndRandomBytes() throws {
        var rng = SeededRNG(seed: 2026)
        func bytes(_ max: Int) -> [UInt8] { (0..<Int(rng.next() % UInt64(max + 1))).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        func topic() -> String { "t\(rng.next() % 5)" }
        for _ in 0..<200 {
            var rpc = PubsubRPC()
            for _ in 0..<rng.next() % 3 { rpc.subscriptions.append(.init(subscribe: rng.next() % 2 == 0, topic: topic())) }
            for _ in 0..<rng.next() % 3 {
                rpc.publish.append(PubsubWireMessage(from: bytes(38), data: bytes(100), seqno: bytes(8), topics: [topic()], signature: bytes(64), key: bytes(36)))
            }
            if rng.next() % 2 == 0 {
                rpc.control = PubsubControl(
                    ihave: [.init(topic: topic(), messageIDs: [bytes(40), bytes(40)])], iwant: [bytes(40)], graft: [topic()],
                    prune: [.init(topic: topic(), peers: [.init(peerID: bytes(38), signedPeerRecord: bytes(10))], backoff: rng.next() % 2 == 0 ? nil : rng.next() % 100)])
            }
            #expect(try PubsubRPC(decoding: rpc.encoded) == rpc)
        }
        var decoded = 0
        for _ in 0..<20_000 {
            let junk = bytes(64)
            guard let rpc = try? PubsubRPC(decoding: junk) else { continue }
            decoded += 1
            #expect(try PubsubRPC(decoding: rpc.encoded) == rpc)
        }
        #expect(decoded > 0)
    }
}
