import MurmurCore
import MurmurP2P

/// Well-formed inputs for each harness, so the fuzzer starts past the first length checks.
///
/// The first byte of each seed is the harness's mode/chunking byte (see `FuzzTarget.chunks`).
enum FuzzSeeds {
    static func seeds(for target: FuzzTarget) -> [[UInt8]] {
        switch target {
        case .varint:
            return [
                [0x00] + LengthPrefixedDecoder.frame([1, 2, 3]),
                [0x85] + LengthPrefixedDecoder.frame(Array(repeating: 7, count: 300)) + LengthPrefixedDecoder.frame([]),
                UnsignedVarint.encode(300) + [0x01],
                UnsignedVarint.encode(UInt64(Int64.max)),
            ]
        case .multistream:
            let header = Multistream.encode(Multistream.header)
            return [
                [0x00] + header + Multistream.encode(FuzzTarget.protocols[0]),
                [0x02] + header + Multistream.encode(Multistream.list) + Multistream.encode("/nope/1"),
                [0x01] + header + Multistream.encode(FuzzTarget.protocols[0]),
                [0x03] + header + Multistream.encode(Multistream.notAvailable) + Multistream.encode(FuzzTarget.protocols[1]),
            ]
        case .noise:
            var rng = SeededRNG(seed: 0xF0223)
            var a = NoiseSession(initiator: true, identity: Identity(deterministic: &rng))
            var b = NoiseSession(initiator: false, identity: FuzzTarget.noiseIdentity)
            var out: [[UInt8]] = []
            if let m1 = try? a.start() {
                out.append([0x00] + m1)
                if let r1 = try? b.receive(m1) { out.append([0x01] + r1.send) }
            }
            out.append([0x02] + FuzzTarget.referenceFrame)
            return out
        case .yamux:
            func header(_ type: UInt8, _ flags: UInt16, _ id: UInt32, _ length: UInt32) -> [UInt8] {
                [0, type, UInt8(flags >> 8), UInt8(flags & 0xFF)]
                    + [24, 16, 8, 0].map { UInt8((id >> UInt32($0)) & 0xFF) }
                    + [24, 16, 8, 0].map { UInt8((length >> UInt32($0)) & 0xFF) }
            }
            return [
                [0x00] + header(1, 1, 2, 0) + header(0, 0, 2, 3) + [9, 9, 9] + header(0, 4, 2, 0),
                [0x83] + header(2, 1, 0, 7) + header(3, 0, 0, 0),
                [0x01] + header(0, 1, 3, 5) + [1, 2, 3, 4, 5] + header(1, 0, 3, 1 << 20) + header(0, 8, 3, 0),
            ]
        case .kademlia:
            var rng = SeededRNG(seed: 0xF0225)
            let a = Identity(deterministic: &rng).peerID, b = Identity(deterministic: &rng).peerID
            let addr = (try? Multiaddr("/ip4/127.0.0.1/tcp/4001"))?.bytes ?? []
            let peers = [KademliaPeer(id: a.multihash.bytes, addrs: [addr]), KademliaPeer(id: b.multihash.bytes, addrs: [])]
            let find = KademliaMessage(type: .findNode, key: a.multihash.bytes, closerPeers: peers)
            let put = KademliaMessage(type: .putValue, key: Array("/murmur/x".utf8), record: KademliaRecord(key: Array("/murmur/x".utf8), value: [1, 2, 3]))
            let prov = KademliaMessage(type: .addProvider, key: [0x12, 0x20] + [UInt8](repeating: 7, count: 32), providerPeers: peers)
            return [find.encoded, put.encoded, prov.encoded, [0x00] + LengthPrefixedDecoder.frame(find.encoded)]
        case .protobuf:
            var rng = SeededRNG(seed: 0xF0224)
            let id = Identity(deterministic: &rng)
            var ident = IdentifyMessage()
            ident.agentVersion = "murmur/0.1"
            ident.protocols = FuzzTarget.protocols
            ident.publicKey = id.publicKey.libp2pProtobuf
            var out = [id.publicKey.libp2pProtobuf, ident.encoded]
            out.append(NoiseHandshakePayload(identityKey: id.publicKey.libp2pProtobuf, identitySignature: Array(repeating: 1, count: 64)).encoded)
            if let a = try? Multiaddr("/ip4/127.0.0.1/tcp/4001/p2p/\(id.peerID)") { out.append(a.bytes) }
            if let m = try? PubsubSigning.sign(data: Array("hello".utf8), topic: "murmur", seqno: 1, identity: id) {
                let control = PubsubControl(
                    ihave: [.init(topic: "murmur", messageIDs: [PubsubSigning.messageID(m)])], iwant: [[1, 2]], graft: ["murmur"],
                    prune: [.init(topic: "murmur", peers: [.init(peerID: id.peerID.multihash.bytes)], backoff: 60)])
                out.append(PubsubRPC(subscriptions: [.init(subscribe: true, topic: "murmur")], publish: [m], control: control).encoded)
            }
            return out
        }
    }
}
