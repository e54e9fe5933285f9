import MurmurCore
import NIOConcurrencyHelpers
import Testing

@testable import MurmurP2P

/// The iterative lookup over an in-memory network: every node's routing table is a real
/// `RoutingTable`, a query answers with the node's k closest, and some nodes never answer.
struct KademliaLookupTests {
    struct FakeNetwork: Sendable {
        var tables: [PeerID: RoutingTable] = [:]
        var dead: Set<PeerID> = []
        /// The nodes in creation order.
        let ids: [PeerID]

        /// Every node has seen every other in a random order, so its near buckets are complete
        /// and its far ones hold the first k it saw (a converged Kademlia network).
        init(size: Int, k: Int, seed: UInt64, deadFraction: Double = 0) {
            var rng = SeededRNG(seed: seed)
            let ids = (0..<size).map { _ in Identity(deterministic: &rng).peerID }
            self.ids = ids
            for id in ids {
                var t = RoutingTable(local: id, bucketSize: k)
                var order = ids
                for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                for p in order { _ = t.insert(p) }
                tables[id] = t
            }
            for id in ids.dropFirst() where rng.nextDouble() < deadFraction { dead.insert(id) }
        }

        func query(_ peer: PeerID, target: KademliaKey, k: Int) throws -> KademliaLookup.Reply {
            guard !dead.contains(peer), let t = tables[peer] else { throw P2PError.timeout("dead") }
            return KademliaLookup.Reply(closer: t.closest(to: target, count: k))
        }
    }

    @Test func convergesToTheTrueKClosest() async {
        let net = FakeNetwork(size: 300, k: 20, seed: 11)
        let asked = NIOLockedValueBox(0)
        for (n, start) in net.ids.prefix(10).enumerated() {
            let target = KademliaKey(Array("key \(n)".utf8))
            let seeds = net.tables[start]!.closest(to: target, count: 20)
            let lookup = KademliaLookup(target: target, seeds: seeds, local: start, k: 20, alpha: 3)
            let done = await lookup.run { peer in
                asked.withLockedValue { $0 += 1 }
                return try net.query(peer, target: target, k: 20)
            }
            let truth = Array(net.ids.filter { $0 != start }.sortedByDistance(to: target).prefix(20))
            #expect(done.isFinished)
            #expect(done.closest == truth)
            // Far fewer queries than nodes.
            #expect(done.queried < 150)
        }
        #expect(asked.withLockedValue { $0 } > 0)
    }

    @Test func terminatesAndRoutesAroundDeadPeers() async {
        let net = FakeNetwork(size: 200, k: 20, seed: 12, deadFraction: 0.3)
        let start = net.ids.first { !net.dead.contains($0) }!
        let target = KademliaKey(Array("dead peers".utf8))
        let lookup = KademliaLookup(target: target, seeds: net.tables[start]!.closest(to: target, count: 20), local: start)
        let done = await lookup.run { try net.query($0, target: target, k: 20) }
        let alive = net.ids.filter { $0 != start && !net.dead.contains($0) }
        #expect(done.isFinished)
        let truth = Array(alive.sortedByDistance(to: target).prefix(20))
        // Live peers still list dead ones among their 20 closest, which can push the 20th live
        // peer out of every answer: the nearest half must be exact, at most two of 20 may differ.
        #expect(Array(done.closest.prefix(10)) == Array(truth.prefix(10)))
        #expect(Set(done.closest).intersection(truth).count >= 18)
        #expect(done.closest.allSatisfy { !net.dead.contains($0) })
    }

    @Test func stateMachineKeepsAlphaInFlightAndStops() {
        var rng = SeededRNG(seed: 13)
        let ids = (0..<10).map { _ in Identity(deterministic: &rng).peerID }
        let target = KademliaKey([1])
        var l = KademliaLookup(target: target, seeds: ids, local: ids[0], k: 4, alpha: 2)
        let order = Array(ids.dropFirst()).sortedByDistance(to: target)
        #expect(l.state(of: ids[0]) == nil)  // the local peer is never asked
        let first = l.next()
        #expect(first == Array(order.prefix(2)))
        #expect(l.next().isEmpty)  // α = 2 already in flight
        l.fail(first[0])
        #expect(l.next() == [order[2]])
        l.receive(from: first[1], .init(closer: []))
        l.receive(from: order[2], .init(closer: []))
        #expect(!l.isFinished)
        #expect(l.next() == [order[3], order[4]])  // the window slid past the failed peer
        l.receive(from: order[3], .init(closer: []))
        l.receive(from: order[4], .init(closer: []))
        #expect(l.isFinished)
        #expect(l.closest == [order[1], order[2], order[3], order[4]])
        #expect(l.next().isEmpty)
        // A reply asking to stop ends the lookup at once.
        var s = KademliaLookup(target: target, seeds: ids, local: nil, k: 4, alpha: 2)
        let p = s.next()[0]
        s.receive(from: p, .init(closer: [], stop: true))
        #expect(s.isFinished && s.next().isEmpty)
    }

    @Test func emptyLookupIsFinished() async {
        let l = KademliaLookup(target: KademliaKey([]), seeds: [], local: nil)
        #expect(l.isFinished)
        let done = await l.run { _ in .init(closer: []) }
        #expect(done.closest.isEmpty && done.queried == 0)
    }
}
