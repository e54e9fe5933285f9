import MurmurCore
import Testing

@testable import MurmurP2P

/// Record store (validators, size limits, latest wins, age) and provider store (expiry, bounds).
struct KademliaStoreTests {
    @Test func publicKeyNamespaceChecksThePeerID() throws {
        let id = Identity()
        let pk = id.publicKey.libp2pProtobuf
        let v = PublicKeyValidator()
        // go-libp2p form: "/pk/" + multihash bytes; py-libp2p 0.8.1 form: "/pk/" + hex.
        try v.validate(key: Array("/pk/".utf8) + id.peerID.multihash.bytes, value: pk)
        let hex = id.peerID.multihash.bytes.map { String(format: "%02x", $0) }.joined()
        try v.validate(key: Array("/pk/\(hex)".utf8), value: pk)
        let other = Identity().publicKey.libp2pProtobuf
        #expect(throws: KademliaError.self) { try v.validate(key: Array("/pk/".utf8) + id.peerID.multihash.bytes, value: other) }
        #expect(throws: KademliaError.self) { try v.validate(key: Array("/pk/".utf8) + id.peerID.multihash.bytes, value: [1, 2, 3]) }
        #expect(throws: KademliaError.self) { try v.validate(key: Array("/ipns/x".utf8), value: pk) }
    }

    @Test func namespacesRouteToValidators() throws {
        #expect(NamespacedValidator.namespace(of: Array("/pk/abc".utf8)) == "pk")
        #expect(NamespacedValidator.namespace(of: Array("/murmur/model/1".utf8)) == "murmur")
        #expect(NamespacedValidator.namespace(of: Array("plain".utf8)) == nil)
        #expect(NamespacedValidator.namespace(of: Array("//x".utf8)) == nil)
        let lenient = NamespacedValidator()
        try lenient.validate(key: Array("plain".utf8), value: [1])
        #expect(throws: KademliaError.self) { try lenient.validate(key: Array("/pk/zz".utf8), value: [1]) }
        let strict = NamespacedValidator(fallback: nil)
        #expect(throws: KademliaError.self) { try strict.validate(key: Array("/murmur/x".utf8), value: [1]) }
    }

    @Test func latestWinsAndLimits() throws {
        var store = RecordStore(maxValueSize: 8, maxRecords: 2)
        let key = Array("/murmur/a".utf8)
        #expect(try store.put(key: key, value: [1]) == .stored)
        #expect(try store.put(key: key, value: [2]) == .stored)
        #expect(store.get(key)?.value == [2])
        #expect(store.get(key)?.timeReceived.hasSuffix("Z") == true)
        #expect(throws: KademliaError.self) { try store.put(key: key, value: [UInt8](repeating: 0, count: 9)) }
        #expect(throws: KademliaError.self) { try store.put(key: [], value: [1]) }
        #expect(throws: KademliaError.self) { try store.put(key: [UInt8](repeating: 0x61, count: 129), value: [1]) }
        try store.put(key: Array("/murmur/b".utf8), value: [1])
        #expect(throws: KademliaError.self) { try store.put(key: Array("/murmur/c".utf8), value: [1]) }
        #expect(store.count == 2)
        // /pk/ select keeps the first (equal) value.
        var pkStore = RecordStore()
        let id = Identity()
        let pkKey = Array("/pk/".utf8) + id.peerID.multihash.bytes
        #expect(try pkStore.put(key: pkKey, value: id.publicKey.libp2pProtobuf) == .stored)
    }

    @Test func recordsAgeOut() throws {
        var store = RecordStore(maxAge: .seconds(60))
        let t0 = ContinuousClock.now
        let key = Array("k".utf8)
        try store.put(key: key, value: [7], now: t0)
        #expect(store.get(key, now: t0 + .seconds(59))?.value == [7])
        #expect(store.get(key, now: t0 + .seconds(61)) == nil)
        store.expire(now: t0 + .seconds(61))
        #expect(store.count == 0)
    }

    @Test func providersExpireAndAreBounded() throws {
        var store = ProviderStore(validity: .seconds(100), maxProvidersPerKey: 3, maxKeys: 2)
        let t0 = ContinuousClock.now
        let peers = (0..<5).map { _ in Identity().peerID }
        let addr = try Multiaddr("/ip4/127.0.0.1/tcp/1")
        for (i, p) in peers.enumerated() { try store.add(key: [1], peer: p, addresses: [addr], now: t0 + .seconds(i)) }
        #expect(store.providers(for: [1], now: t0 + .seconds(5)).map(\.peer) == Array(peers.suffix(3)))
        // Re-announcing refreshes and moves to the end.
        try store.add(key: [1], peer: peers[2], addresses: [], now: t0 + .seconds(50))
        #expect(store.providers(for: [1], now: t0 + .seconds(105)).map(\.peer) == [peers[2]])
        #expect(store.providers(for: [1], now: t0 + .seconds(151)).isEmpty)
        try store.add(key: [2], peer: peers[0], addresses: [], now: t0)
        #expect(throws: KademliaError.self) { try store.add(key: [3], peer: peers[0], addresses: [], now: t0 + .seconds(1)) }
        // Once old announcements expire there is room again.
        try store.add(key: [3], peer: peers[0], addresses: [], now: t0 + .seconds(200))
        #expect(store.keyCount == 1)
    }

    @Test func receivedTimesOrderAcrossFractionLengths() {
        let a = Kademlia.receivedOrder("2026-11-27T14:50:00.123Z")
        let b = Kademlia.receivedOrder("2026-11-27T14:50:00.123456789Z")
        let c = Kademlia.receivedOrder("2026-11-27T14:50:01Z")
        #expect(a < b && b < c)
    }
}
