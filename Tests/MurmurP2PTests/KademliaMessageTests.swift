import MurmurCore
import Testing

@testable import MurmurP2P

/// The kad-dht `Message` codec against bytes from py-libp2p 0.8.1's generated protobuf
/// (libp2p/kad_dht/pb/kademlia_pb2.py, `Message.SerializeToString()`), plus round-trips and bounds.
struct KademliaMessageTests {
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

    // FIND_NODE, key = identity multihash prefix 00 24 + bytes 0…35, one closer peer
    // (sha2-256 multihash of 0x07 × 32, /ip4/127.0.0.1/tcp/4001, CAN_CONNECT).
    static let findNodeBytes = hex(
        "080412260024000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222342300a2212200707070707070707"
            + "0707070707070707070707070707070707070707070707071208047f000001060fa11802")
    // PUT_VALUE /murmur/k = "hello", timeReceived 2026-11-27T14:50:00.123456789Z.
    static let putValueBytes = hex(
        "12092f6d75726d75722f6b1a320a092f6d75726d75722f6b120568656c6c6f2a1e323032362d31312d32375431343a35303a30302e31"
            + "32333435363738395a")
    // GET_PROVIDERS for sha2-256(0x01 × 32) with one CONNECTED provider, clusterLevelRaw 3.
    static let getProvidersBytes = hex(
        "08031222122001010101010101010101010101010101010101010101010101010101010101014a26"
            + "0a221220020202020202020202020202020202020202020202020202020202020202020218015003")

    @Test func findNodeMatchesPyLibp2p() throws {
        let m = try KademliaMessage(decoding: Self.findNodeBytes)
        #expect(m.type == .findNode)
        #expect(m.key == [0x00, 0x24] + Array(0..<36))
        #expect(m.closerPeers.count == 1)
        #expect(m.closerPeers[0].id == [0x12, 0x20] + [UInt8](repeating: 7, count: 32))
        #expect(m.closerPeers[0].connection == .canConnect)
        #expect(m.closerPeers[0].multiaddrs == [try Multiaddr("/ip4/127.0.0.1/tcp/4001")])
        #expect(m.closerPeers[0].peerID != nil)
        #expect(m.encoded == Self.findNodeBytes)
    }

    @Test func putValueMatchesPyLibp2p() throws {
        let key = Array("/murmur/k".utf8)
        let m = KademliaMessage(
            type: .putValue, key: key,
            record: KademliaRecord(key: key, value: Array("hello".utf8), timeReceived: "2026-11-27T14:50:00.123456789Z"))
        // PUT_VALUE is type 0, which proto3 omits.
        #expect(m.encoded == Self.putValueBytes)
        #expect(try KademliaMessage(decoding: Self.putValueBytes) == m)
    }

    @Test func getProvidersMatchesPyLibp2p() throws {
        let m = try KademliaMessage(decoding: Self.getProvidersBytes)
        #expect(m.type == .getProviders)
        #expect(m.clusterLevelRaw == 3)
        #expect(m.providerPeers.map(\.connection) == [.connected])
        #expect(m.closerPeers.isEmpty)
        #expect(m.encoded == Self.getProvidersBytes)
    }

    @Test func roundTripsEveryType() throws {
        let peer = Identity().peerID
        let addr = try Multiaddr("/ip4/10.0.0.1/tcp/9")
        for type in [KademliaMessage.MessageType.putValue, .getValue, .addProvider, .getProviders, .findNode, .ping] {
            let m = KademliaMessage(
                type: type, key: [1, 2, 3], record: KademliaRecord(key: [1, 2, 3], value: [9]),
                closerPeers: [KademliaPeer(peer: peer, addresses: [addr], connection: .connected)],
                providerPeers: [KademliaPeer(peer: peer, addresses: [], connection: .cannotConnect)], clusterLevelRaw: -1)
            #expect(try KademliaMessage(decoding: m.encoded) == m)
        }
    }

    @Test func skipsSenderRecordAndSignedRecord() throws {
        // py-libp2p adds senderRecord (field 11) to requests and signedRecord (4) to peers.
        let id = [0x12, 0x20] + [UInt8](repeating: 3, count: 32)
        let peer: [UInt8] = [0x0a, 34] + id + [0x22, 2, 0xde, 0xad]
        let bytes: [UInt8] = [0x08, 4, 0x12, 1, 5, 0x42, UInt8(peer.count)] + peer + [0x5a, 2, 0xbe, 0xef]
        let m = try KademliaMessage(decoding: bytes)
        #expect(m == KademliaMessage(type: .findNode, key: [5], closerPeers: [KademliaPeer(id: id)]))
    }

    @Test func rejectsMalformedAndBoundsLists() throws {
        #expect(throws: P2PError.invalidProtobuf("unknown kad message type 9")) { try KademliaMessage(decoding: [0x08, 0x09]) }
        #expect(throws: P2PError.self) { try KademliaMessage(decoding: [0x12, 0x05, 0x01]) }  // key past the end
        #expect(throws: P2PError.self) { try KademliaMessage(decoding: [0x42, 0x02, 0x12, 0x00]) }  // peer without id
        let peer = KademliaPeer(id: [0x00, 0x01, 0x07], addrs: Array(repeating: [0x04, 1, 2], count: 100))
        let big = KademliaMessage(type: .findNode, closerPeers: Array(repeating: peer, count: 200))
        let m = try KademliaMessage(decoding: big.encoded)
        #expect(m.closerPeers.count == KademliaMessage.maxPeers)
        #expect(m.closerPeers[0].addrs.count == KademliaMessage.maxAddressesPerPeer)
        #expect(m.closerPeers[0].multiaddrs.isEmpty)  // truncated ip4: ignored, not fatal
    }
}
