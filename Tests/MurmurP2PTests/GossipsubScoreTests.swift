import MurmurCore
import Testing

@testable import MurmurP2P

/// `PeerScore`: the gossipsub v1.1 score function term by term (gossipsub-v1.1.md "The Score
/// Function"), with values computed by hand from the parameters.
struct GossipsubScoreTests {
    @Test func scoreTermsFollowTheSpec() {
        var params = PeerScoreParameters()
        var topic = TopicScoreParameters()
        topic.meshMessageDeliveriesWeight = -1
        topic.meshMessageDeliveriesThreshold = 4
        topic.meshMessageDeliveriesActivation = 2
        topic.meshFailurePenaltyWeight = -1
        params.topics["t"] = topic
        params.defaultTopic = nil
        params.appSpecificScore = { _ in 3 }
        var s = PeerScore(parameters: params)
        let p = GossipsubRouterTests.identities(1)[0].peerID
        s.addPeer(p, ip: nil)
        #expect(s.score(p, now: 0) == 3)  // P5 only
        s.graft(p, topic: "t", now: 0)
        #expect(abs(s.score(p, now: 10) - (3 + 10 * 0.01)) < 1e-9)  // + P1
        s.deliverMessage(from: p, id: [1], topic: "t", now: 1)
        // P2 = 1 (weight 1); P3 inactive before activation.
        #expect(abs(s.score(p, now: 1) - (3 + 0.01 + 1)) < 1e-9)
        s.refresh(now: 3)  // decay: P2 0.5, mesh deliveries 0.5; active (3 s in mesh > 2 s)
        let deficit = 4 - 0.5
        #expect(abs(s.score(p, now: 3) - (3 + 0.03 + 0.5 - deficit * deficit)) < 1e-9)
        s.prune(p, topic: "t")  // P3b keeps the deficit²
        #expect(abs(s.score(p, now: 3) - (3 + 0.5 - deficit * deficit)) < 1e-9)
        s.addPenalty(p, 4)
        #expect(abs(s.score(p, now: 3) - (3 + 0.5 - deficit * deficit - 10 * 4)) < 1e-9)  // P7 (4 − 2)²
        // Topics without parameters do not score.
        s.deliverMessage(from: p, id: [2], topic: "other", now: 3)
        #expect(abs(s.score(p, now: 3) - (3 + 0.5 - deficit * deficit - 40)) < 1e-9)
    }

    @Test func ipColocationPenalisesCrowdsBeyondTheThreshold() {
        var params = PeerScoreParameters()
        params.ipColocationFactorWeight = -1
        params.ipColocationFactorThreshold = 2
        var s = PeerScore(parameters: params)
        let ps = GossipsubRouterTests.identities(4).map(\.peerID)
        for p in ps { s.addPeer(p, ip: "/ip4/10.0.0.1") }
        #expect(s.score(ps[0], now: 0) == -4)  // (4 − 2)² × −1
        params.ipColocationFactorWhitelist = ["/ip4/10.0.0.1"]
        var w = PeerScore(parameters: params)
        for p in ps { w.addPeer(p, ip: "/ip4/10.0.0.1") }
        #expect(w.score(ps[0], now: 0) == 0)
    }
}
