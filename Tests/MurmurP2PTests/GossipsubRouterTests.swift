import MurmurCore
import Testing

@testable import MurmurP2P

/// `GossipsubRouter` without sockets: RPCs in, actions out (gossipsub-v1.0.md, gossipsub-v1.1.md).
struct GossipsubRouterTests {
    typealias Action = GossipsubRouter.Action

    static func identities(_ n: Int, seed: UInt64 = 1) -> [Identity] {
        var rng = SeededRNG(seed: seed)
        return (0..<n).map { _ in Identity(deterministic: &rng) }
    }

    static func sends(_ actions: [Action]) -> [PeerID: PubsubRPC] {
        var out: [PeerID: PubsubRPC] = [:]
        for case .send(let p, let rpc) in actions { out[p, default: PubsubRPC()].merge(rpc) }
        return out
    }

    static func deliveries(_ actions: [Action]) -> [PubsubMessage] {
        actions.compactMap { if case .deliver(let m) = $0 { return m } else { return nil } }
    }

    /// A router `a` subscribed to "t" with `n` peers that announced "t".
    static func hub(peers n: Int, outbound: Bool = false, parameters: GossipsubParameters = .init(), scoring: PeerScoreParameters? = .init())
        -> (GossipsubRouter, [Identity])
    {
        let ids = identities(n + 1)
        var a = GossipsubRouter(identity: ids[0], parameters: parameters, scoring: scoring, seed: 7)
        for p in ids.dropFirst() {
            _ = a.addPeer(p.peerID, protocol: .meshsub11, outbound: outbound, now: 0)
            _ = a.handle(PubsubRPC(subscriptions: [.init(subscribe: true, topic: "t")]), from: p.peerID, now: 0)
        }
        _ = a.subscribe("t", now: 0)
        return (a, Array(ids.dropFirst()))
    }

    @Test func subscribeGraftsDPeersAndAnnouncesTheTopic() {
        let ids = Self.identities(11)
        var a = GossipsubRouter(identity: ids[0], seed: 1)
        for p in ids.dropFirst() {
            _ = a.addPeer(p.peerID, protocol: .meshsub11, outbound: true, now: 0)
            _ = a.handle(PubsubRPC(subscriptions: [.init(subscribe: true, topic: "t")]), from: p.peerID, now: 0)
        }
        let out = Self.sends(a.subscribe("t", now: 0))
        #expect(out.count == 10)
        #expect(out.values.allSatisfy { $0.subscriptions == [.init(subscribe: true, topic: "t")] })
        let grafted = out.filter { $0.value.control?.graft == ["t"] }.map(\.key)
        #expect(grafted.count == 6)
        #expect(Set(a.meshPeers("t")) == Set(grafted))
    }

    /// Regression: a peer first heard on its own stream (before ours to it is open) must still
    /// get our subscriptions, or it never learns we joined (seen with py-libp2p under load).
    @Test func aPeerFirstHeardOnItsStreamGetsOurSubscriptions() {
        let ids = Self.identities(2)
        var a = GossipsubRouter(identity: ids[0], seed: 1)
        _ = a.subscribe("t", now: 0)
        let out = Self.sends(a.handle(PubsubRPC(subscriptions: [.init(subscribe: true, topic: "x")]), from: ids[1].peerID, now: 0))
        #expect(out[ids[1].peerID]?.subscriptions == [.init(subscribe: true, topic: "t")])
    }

    @Test func subscriptionsAreReannouncedOnAReopenedStream() {
        var (a, peers) = Self.hub(peers: 2)
        let out = Self.sends(a.announceSubscriptions(to: peers[0].peerID))
        #expect(out[peers[0].peerID]?.subscriptions == [.init(subscribe: true, topic: "t")])
        #expect(out.count == 1)
    }

    @Test func heartbeatShrinksAnOversizedMeshToDAndPrunesWithPXAndBackoff() {
        var (a, peers) = Self.hub(peers: 20, outbound: true)
        for p in peers { _ = a.handle(PubsubRPC(control: PubsubControl(graft: ["t"])), from: p.peerID, now: 1) }
        #expect(a.meshPeers("t").count == 20)  // outbound peers may exceed D_hi until the heartbeat
        let out = Self.sends(a.heartbeat(now: 2))
        #expect(a.meshPeers("t").count == 6)
        let prunes = out.compactMap { $0.value.control?.prune.first }
        #expect(prunes.count == 14)
        #expect(prunes.allSatisfy { $0.topic == "t" && $0.backoff == 60 && !$0.peers.isEmpty })
        let pruned = out.filter { $0.value.control?.prune.isEmpty == false }.map(\.key)
        #expect(pruned.allSatisfy { a.isBackedOff($0, topic: "t", now: 30) && !a.isBackedOff($0, topic: "t", now: 63) })
    }

    @Test func inboundGraftsBeyondDHighArePruned() {
        var (a, peers) = Self.hub(peers: 20)
        for p in peers { _ = a.handle(PubsubRPC(control: PubsubControl(graft: ["t"])), from: p.peerID, now: 1) }
        #expect(a.meshPeers("t").count == 12)
    }

    @Test func heartbeatRefillsAMeshBelowDLow() {
        var (a, peers) = Self.hub(peers: 10)
        #expect(a.meshPeers("t").count == 6)
        // Three mesh peers leave the topic: 3 < D_lo = 4.
        for p in a.meshPeers("t").prefix(3) {
            _ = a.handle(PubsubRPC(subscriptions: [.init(subscribe: false, topic: "t")]), from: p, now: 1)
        }
        #expect(a.meshPeers("t").count == 3)
        let out = Self.sends(a.heartbeat(now: 2))
        #expect(a.meshPeers("t").count == 6)
        #expect(out.filter { $0.value.control?.graft == ["t"] }.count == 3)
        // Peers that left the topic are not grafted.
        #expect(a.meshPeers("t").allSatisfy { a.peers(in: "t").contains($0) })
        #expect(peers.count == 10)
    }

    @Test func meshStaysWithinBoundsOverManyHeartbeats() {
        let ids = Self.identities(30, seed: 3)
        var routers = ids.enumerated().map { i, id in GossipsubRouter(identity: id, seed: UInt64(i)) }
        var queue: [(to: Int, from: PeerID, rpc: PubsubRPC)] = []
        let index = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1.peerID, $0) })
        func enqueue(_ from: Int, _ actions: [Action]) {
            for case .send(let p, let rpc) in actions { queue.append((index[p]!, ids[from].peerID, rpc)) }
        }
        func drain(_ now: Double) {
            while !queue.isEmpty {
                let (to, from, rpc) = queue.removeFirst()
                enqueue(to, routers[to].handle(rpc, from: from, now: now))
            }
        }
        // Everyone knows everyone (29 candidates each).
        for i in 0..<30 {
            for j in 0..<30 where i != j { enqueue(i, routers[i].addPeer(ids[j].peerID, protocol: .meshsub11, outbound: i < j, now: 0)) }
        }
        for i in 0..<30 { enqueue(i, routers[i].subscribe("t", now: 0)) }
        drain(0)
        for tick in 1...10 {
            for i in 0..<30 {
                enqueue(i, routers[i].heartbeat(now: Double(tick)))
                // Right after its heartbeat a router's mesh is within [D_lo, D_hi] (GRAFTs from
                // outbound peers may overshoot D_hi until the next one, as the spec allows).
                let size = routers[i].meshPeers("t").count
                #expect((4...12).contains(size), "mesh of \(size) after heartbeat \(tick)")
            }
            drain(Double(tick))
        }
        // Mesh links are symmetric once settled (GRAFT and PRUNE are acknowledged implicitly).
        for (i, r) in routers.enumerated() {
            for p in r.meshPeers("t") { #expect(routers[index[p]!].meshPeers("t").contains(ids[i].peerID)) }
        }
    }

    @Test func ihaveLeadsToIWantAndIWantIsAnsweredFromTheCache() throws {
        var (a, peers) = Self.hub(peers: 10)
        let author = Self.identities(1, seed: 99)[0]
        let m = try PubsubSigning.sign(data: [42], topic: "t", seqno: 5, identity: author)
        let id = PubsubSigning.messageID(m)
        // A stranger announces a message A has not seen: A asks for it.
        let x = peers[9].peerID
        let ask = Self.sends(a.handle(PubsubRPC(control: PubsubControl(ihave: [.init(topic: "t", messageIDs: [id])])), from: x, now: 1))
        #expect(ask[x]?.control?.iwant == [id])
        // It arrives: delivered once; the second IHAVE for it asks for nothing.
        let got = a.handle(PubsubRPC(publish: [m]), from: x, now: 1.5)
        #expect(Self.deliveries(got).map(\.data) == [[42]])
        let again = Self.sends(a.handle(PubsubRPC(control: PubsubControl(ihave: [.init(topic: "t", messageIDs: [id])])), from: peers[8].peerID, now: 2))
        #expect(again.isEmpty)
        // The heartbeat gossips the id to non-mesh peers.
        let gossip = Self.sends(a.heartbeat(now: 3))
        let announced = gossip.filter { $0.value.control?.ihave.first?.messageIDs == [id] }.map(\.key)
        #expect(!announced.isEmpty)
        #expect(announced.allSatisfy { !a.meshPeers("t").contains($0) })
        // IWANT is answered from the cache, at most gossipRetransmission (3) times per peer.
        let y = peers[0].peerID
        for round in 1...4 {
            let answer = Self.sends(a.handle(PubsubRPC(control: PubsubControl(iwant: [id])), from: y, now: 3))
            #expect(answer[y]?.publish == (round <= 3 ? [m] : nil))
        }
    }

    @Test func brokenIWantPromisesArePenalised() throws {
        var (a, peers) = Self.hub(peers: 8)
        let x = peers[7].peerID
        for i in 0..<4 {
            let ids: [[UInt8]] = [[UInt8(i), 1, 2, 3]]
            _ = a.handle(PubsubRPC(control: PubsubControl(ihave: [.init(topic: "t", messageIDs: ids)])), from: x, now: Double(i) * 10)
            _ = a.heartbeat(now: Double(i) * 10 + 5)  // 5 s > iwantFollowupTime: promise broken
        }
        // Four P7 offences, threshold 2, decayed a little: (≈3.4 − 2)² × −10 < 0.
        #expect(a.score(x, now: 36) < 0)
    }

    @Test func pruneBackoffIsHonoured() {
        var (a, peers) = Self.hub(peers: 4)
        #expect(a.meshPeers("t").count == 4)
        let x = a.meshPeers("t")[0]
        _ = a.handle(PubsubRPC(control: PubsubControl(prune: [.init(topic: "t", backoff: 30)])), from: x, now: 10)
        #expect(!a.meshPeers("t").contains(x))
        // Mesh is 3 < D_lo, but x is backed off until t = 40.
        for t in stride(from: 11.0, through: 39, by: 7) {
            let out = Self.sends(a.heartbeat(now: t))
            #expect(out[x]?.control?.graft == nil)
            #expect(!a.meshPeers("t").contains(x))
        }
        let out = Self.sends(a.heartbeat(now: 41))
        #expect(out[x]?.control?.graft == ["t"])
        #expect(a.meshPeers("t").contains(x))
        #expect(peers.count == 4)
    }

    @Test func graftDuringOurBackoffIsRefusedAndPenalised() {
        var (a, _) = Self.hub(peers: 20, outbound: true)
        for p in a.knownPeers { _ = a.handle(PubsubRPC(control: PubsubControl(graft: ["t"])), from: p, now: 1) }
        let out = Self.sends(a.heartbeat(now: 2))
        let pruned = out.filter { $0.value.control?.prune.isEmpty == false }.map(\.key)
        let x = pruned[0]
        let before = a.score(x, now: 3)
        // Each GRAFT this soon after the PRUNE counts twice in P7 (graft flood): 2 then 4 offences.
        for t in 3...4 {
            let reply = Self.sends(a.handle(PubsubRPC(control: PubsubControl(graft: ["t"])), from: x, now: Double(t)))
            #expect(reply[x]?.control?.prune.first?.topic == "t")
        }
        #expect(!a.meshPeers("t").contains(x))
        #expect(a.stats.graftsDuringBackoff == 2)
        #expect(a.score(x, now: 7) < before)
        #expect(a.score(x, now: 7) < 0)
    }

    @Test func invalidSignaturesAreRejectedAndPenalised() throws {
        var (a, peers) = Self.hub(peers: 6)
        let x = peers[0].peerID
        var forged = try PubsubSigning.sign(data: [1], topic: "t", seqno: 1, identity: peers[1])
        forged.data = [2]
        let out = a.handle(PubsubRPC(publish: [forged]), from: x, now: 1)
        #expect(Self.deliveries(out).isEmpty)
        #expect(Self.sends(out).values.allSatisfy { $0.publish.isEmpty })  // not forwarded
        #expect(a.stats.invalidSignatures == 1)
        #expect(a.score(x, now: 1) < 0)
        // The genuine message with the same id still gets through (forgeries do not poison the seen cache).
        let real = try PubsubSigning.sign(data: [1], topic: "t", seqno: 1, identity: peers[1])
        #expect(Self.deliveries(a.handle(PubsubRPC(publish: [real]), from: peers[2].peerID, now: 2)).count == 1)
    }

    @Test func validatorsDecideAndRejectionsCostScore() throws {
        var (a, peers) = Self.hub(peers: 6)
        a.setValidator("t") { m in m.data == [0] ? .reject : m.data == [1] ? .ignore : .accept }
        let x = peers[0].peerID
        let author = peers[3]
        let base = a.score(x, now: 1)  // P1 only
        let ignored = try PubsubSigning.sign(data: [1], topic: "t", seqno: 1, identity: author)
        #expect(Self.deliveries(a.handle(PubsubRPC(publish: [ignored]), from: x, now: 1)).isEmpty)
        #expect(a.score(x, now: 1) == base)
        let good = try PubsubSigning.sign(data: [2], topic: "t", seqno: 2, identity: author)
        let out = a.handle(PubsubRPC(publish: [good]), from: x, now: 1)
        #expect(Self.deliveries(out).map(\.from) == [author.peerID])
        // Forwarded to the mesh minus the sender and the author.
        let forwarded = Self.sends(out).filter { !$0.value.publish.isEmpty }.map(\.key)
        #expect(Set(forwarded) == Set(a.meshPeers("t")).subtracting([x, author.peerID]))
        let rewarded = a.score(x, now: 1)
        #expect(rewarded > base)  // P2: a first delivery
        let bad = try PubsubSigning.sign(data: [0], topic: "t", seqno: 3, identity: author)
        #expect(Self.deliveries(a.handle(PubsubRPC(publish: [bad]), from: x, now: 1)).isEmpty)
        #expect(a.score(x, now: 1) < rewarded - 9)  // P4: −10 × 1²
        #expect(a.stats.rejected == 1 && a.stats.ignored == 1)
        // Whoever forwards the rejected message again is penalised too.
        _ = a.handle(PubsubRPC(publish: [bad]), from: peers[1].peerID, now: 1.001)
        #expect(a.score(peers[1].peerID, now: 1.001) < 0)
    }

    @Test func graylistedPeersAreIgnored() throws {
        var (a, peers) = Self.hub(peers: 6)
        a.setValidator("t") { m in m.data == [0] ? .reject : .accept }
        let x = peers[0].peerID
        for s in 1...3 {
            let bad = try PubsubSigning.sign(data: [0], topic: "t", seqno: UInt64(s), identity: peers[1])
            _ = a.handle(PubsubRPC(publish: [bad]), from: x, now: 1)
        }
        // P4 = −10 × 3² = −90 < graylist (−80).
        #expect(a.score(x, now: 1) < -80)
        let good = try PubsubSigning.sign(data: [5], topic: "t", seqno: 9, identity: peers[1])
        #expect(Self.deliveries(a.handle(PubsubRPC(publish: [good]), from: x, now: 1)).isEmpty)
        #expect(a.stats.graylisted == 1)
        // Nor do we gossip with it or publish to it (below gossip and publish thresholds).
        let (_, actions) = try a.publish("t", [7], now: 1)
        #expect(Self.sends(actions)[x] == nil)
        // Scores decay: after enough heartbeats the peer is heard again.
        for t in 2...40 { _ = a.heartbeat(now: Double(t)) }
        #expect(a.score(x, now: 40) > -10)
        #expect(Self.deliveries(a.handle(PubsubRPC(publish: [good]), from: x, now: 40)).count == 1)
    }

    @Test func publishFloodsOrUsesFanout() throws {
        var (a, _) = Self.hub(peers: 10)
        let (m, actions) = try a.publish("t", [9], now: 1)
        #expect(Self.sends(actions).filter { $0.value.publish.first?.data == [9] }.count == 10)  // flood publish
        #expect(Self.deliveries(actions) == [m])  // we joined "t": delivered locally too
        var params = GossipsubParameters()
        params.floodPublish = false
        var (b, _) = Self.hub(peers: 10, parameters: params)
        _ = b.unsubscribe("t", now: 1)
        let (_, fan) = try b.publish("t", [1], now: 2)
        #expect(Self.sends(fan).filter { !$0.value.publish.isEmpty }.count == 6)
        #expect(b.fanoutPeers("t").count == 6)
        #expect(Self.deliveries(fan).isEmpty)
        // Fanout expires fanoutTTL after the last publish.
        _ = b.heartbeat(now: 50)
        #expect(b.fanoutPeers("t").count == 6)
        _ = b.heartbeat(now: 70)
        #expect(b.fanoutPeers("t").isEmpty)
    }

    @Test func pruneWithPXFromAGoodPeerAsksToConnect() throws {
        var scoring = PeerScoreParameters()
        scoring.acceptPXThreshold = 0
        var (a, peers) = Self.hub(peers: 6, scoring: scoring)
        let x = a.meshPeers("t")[0]
        let offered = Self.identities(2, seed: 55).map(\.peerID)
        let out = a.handle(PubsubRPC(control: PubsubControl(prune: [.init(topic: "t", peers: offered.map { .init(peerID: $0.multihash.bytes) }, backoff: 60)])), from: x, now: 1)
        #expect(out.contains(.connect(offered)))
        #expect(peers.count == 6)
    }

    @Test func floodsubPeersGetEveryMessageAndNoControl() throws {
        var (a, peers) = Self.hub(peers: 8)
        let f = Self.identities(1, seed: 77)[0]
        _ = a.addPeer(f.peerID, protocol: .floodsub, outbound: false, now: 0)
        _ = a.handle(PubsubRPC(subscriptions: [.init(subscribe: true, topic: "t")]), from: f.peerID, now: 0)
        // Forwarded messages reach the floodsub peer even though it is never in the mesh.
        let m = try PubsubSigning.sign(data: [3], topic: "t", seqno: 1, identity: peers[0])
        let out = Self.sends(a.handle(PubsubRPC(publish: [m]), from: peers[1].peerID, now: 1))
        #expect(out[f.peerID]?.publish == [m])
        // Heartbeats never graft it, and GRAFTs from it are ignored.
        for t in 2...4 {
            let hb = Self.sends(a.heartbeat(now: Double(t)))
            #expect(hb[f.peerID]?.control == nil)
        }
        _ = a.handle(PubsubRPC(control: PubsubControl(graft: ["t"])), from: f.peerID, now: 5)
        #expect(!a.meshPeers("t").contains(f.peerID))
    }

    @Test func unsubscribePrunesTheMeshWithTheUnsubscribeBackoff() {
        var (a, _) = Self.hub(peers: 8)
        let mesh = a.meshPeers("t")
        let out = Self.sends(a.unsubscribe("t", now: 1))
        #expect(out.count == 8)
        #expect(out.values.allSatisfy { $0.subscriptions == [.init(subscribe: false, topic: "t")] })
        for p in mesh {
            #expect(out[p]?.control?.prune.first?.backoff == 10)
            #expect(a.isBackedOff(p, topic: "t", now: 10.5) && !a.isBackedOff(p, topic: "t", now: 11.5))
        }
        #expect(a.meshPeers("t").isEmpty)
    }

    @Test func opportunisticGraftingAddsBetterPeersWhenTheMeshIsWeak() throws {
        var params = GossipsubParameters()
        params.opportunisticGraftTicks = 2
        var (a, peers) = Self.hub(peers: 10, parameters: params)
        let outside = try #require(peers.map(\.peerID).first { !a.meshPeers("t").contains($0) })
        // Only `outside` delivers messages: its P2P score rises above the mesh's median (≈ 0).
        for s in 1...6 {
            let m = try PubsubSigning.sign(data: [UInt8(s)], topic: "t", seqno: UInt64(s), identity: peers[0])
            _ = a.handle(PubsubRPC(publish: [m]), from: outside, now: 0.5)
        }
        _ = a.heartbeat(now: 1)
        #expect(!a.meshPeers("t").contains(outside))
        let out = Self.sends(a.heartbeat(now: 1.5))  // tick 2: opportunistic grafting
        #expect(out[outside]?.control?.graft == ["t"])
        #expect(a.meshPeers("t").contains(outside))
    }

    @Test func parametersAreValidated() {
        var p = GossipsubParameters()
        p.dLow = 7
        #expect(throws: P2PError.self) { try p.validate() }
        var s = PeerScoreParameters()
        s.graylistThreshold = 0
        #expect(throws: P2PError.self) { try s.validate() }
        #expect(throws: Never.self) { try GossipsubParameters().validate() }
    }
}
