import MurmurCore
import Testing

@testable import MurmurP2P

/// XOR distance, bucket index and the k-bucket routing table (Maymounkov & Mazières 2002, §2).
struct KademliaRoutingTableTests {
    static func peers(_ n: Int, seed: UInt64) -> [PeerID] {
        var rng = SeededRNG(seed: seed)
        return (0..<n).map { _ in Identity(deterministic: &rng).peerID }
    }

    @Test func distanceIsXorOfSha256() {
        // SHA-256("") = e3b0c442…b855 (FIPS 180-4 test vector); d(x, x) = 0, d symmetric.
        let empty = KademliaKey([])
        #expect(empty.description == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let abc = KademliaKey(Array("abc".utf8))
        #expect(abc.description == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(empty.distance(to: empty) == KademliaKey(digest: [UInt8](repeating: 0, count: 32)))
        #expect(empty.distance(to: abc) == abc.distance(to: empty))
        let d = empty.distance(to: abc)
        #expect(d.bytes == zip(empty.bytes, abc.bytes).map { $0 ^ $1 })
        // e3 ^ ba = 0x59 = 0101 1001: one leading zero bit.
        #expect(empty.commonPrefixLength(with: abc) == 1)
        #expect(abc.commonPrefixLength(with: abc) == 256)
    }

    @Test func distanceOrderIsNumeric() {
        var a = [UInt8](repeating: 0, count: 32)
        var b = a
        a[31] = 0xff  // small
        b[0] = 0x01  // large
        #expect(KademliaKey(digest: a) < KademliaKey(digest: b))
        var c = a
        c[8] = 1  // second word decides
        #expect(KademliaKey(digest: a) < KademliaKey(digest: c))
        #expect(KademliaKey(digest: c) < KademliaKey(digest: b))
    }

    @Test func bucketIndexIsCommonPrefixLength() {
        let local = Identity().peerID
        let table = RoutingTable(local: local)
        #expect(table.bucketIndex(of: local) == nil)
        for p in Self.peers(50, seed: 1) {
            let cpl = KademliaKey(peer: local).commonPrefixLength(with: KademliaKey(peer: p))
            #expect(table.bucketIndex(of: p) == cpl)
        }
    }

    @Test func bucketsHoldAtMostKAndKeepOldPeers() {
        let local = Self.peers(1, seed: 99)[0]
        var table = RoutingTable(local: local, bucketSize: 4, replacementCacheSize: 2)
        // About half of random peers fall in bucket 0: enough to overflow it.
        let all = Self.peers(40, seed: 2)
        let bucket0 = all.filter { table.bucketIndex(of: $0) == 0 }
        #expect(bucket0.count > 7)
        var results: [RoutingTable.Insertion] = []
        for p in bucket0 { results.append(table.insert(p)) }
        #expect(Array(results.prefix(4)) == Array(repeating: .added, count: 4))
        #expect(results[4] == .bucketFull(leastRecentlySeen: bucket0[0]))
        #expect(table.bucket(0) == Array(bucket0.prefix(4)))
        // The replacement cache keeps the 2 most recent newcomers.
        #expect(table.replacementCache(0) == Array(bucket0.suffix(2)))
        // Seeing an old peer again makes it the most recently seen.
        #expect(table.insert(bucket0[0]) == .refreshed)
        #expect(table.bucket(0) == Array(bucket0[1..<4]) + [bucket0[0]])
        #expect(table.insert(local) == .isLocal)
        #expect(table.count == 4)
    }

    @Test func removedPeerIsReplacedByNewestWaiting() {
        let local = Self.peers(1, seed: 98)[0]
        var table = RoutingTable(local: local, bucketSize: 3, replacementCacheSize: 5)
        let bucket0 = Self.peers(60, seed: 3).filter { table.bucketIndex(of: $0) == 0 }
        for p in bucket0.prefix(6) { _ = table.insert(p) }
        #expect(table.remove(bucket0[1]) == bucket0[5])
        #expect(table.bucket(0) == [bucket0[0], bucket0[2], bucket0[5]])
        #expect(!table.contains(bucket0[1]))
        #expect(table.remove(bucket0[1]) == nil)
        #expect(table.replacementCache(0) == [bucket0[3], bucket0[4]])
    }

    @Test func closestIsSortedByDistance() {
        let local = Identity().peerID
        var table = RoutingTable(local: local)
        let all = Self.peers(200, seed: 4)
        for p in all { _ = table.insert(p) }
        let target = KademliaKey(Array("target".utf8))
        let got = table.closest(to: target, count: 20)
        #expect(got.count == 20)
        let expected = table.peers.sortedByDistance(to: target).prefix(20)
        #expect(got == Array(expected))
        let distances = got.map { KademliaKey(peer: $0).distance(to: target) }
        #expect(distances == distances.sorted())
        // Far buckets are full (k = 20), so fewer than 200 peers have slots.
        #expect(table.count < 200 && table.count >= 20)
    }
}
