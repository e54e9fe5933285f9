import Foundation
import MurmurCore
import MurmurP2P
import Testing

@testable import MurmurNode

/// `PeerScores` and `PeerGuard.offense(for:)`: what a misbehaving peer costs and when it is refused.
@Suite struct PeerScoresTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func offensesAddUpUntilThePeerIsRefusedWithADoublingBackoff() {
        let scores = PeerScores()
        let peer = "12D3KooWPeer"
        #expect(scores.record(.malformedMessage(protocol: "/murmur/fl/1"), by: peer, now: t0) == .scored(-40))
        #expect(scores.record(.malformedMessage(protocol: "/murmur/fl/1"), by: peer, now: t0) == .scored(-80))
        #expect(!scores.isRefused(peer, now: t0))
        // -140 < -100: refused for the first back-off (60 s).
        #expect(scores.record(.brokenTransport("decryption failed"), by: peer, now: t0) == .refuse(until: 1_800_000_060))
        #expect(scores.isRefused(peer, now: t0.addingTimeInterval(59)))
        #expect(!scores.isRefused(peer, now: t0.addingTimeInterval(61)))
        // After the back-off it restarts at -50; one more malformed frame pair refuses it for twice as long.
        let t1 = t0.addingTimeInterval(61)
        _ = scores.record(.malformedMessage(protocol: "/ipfs/id/push/1.0.0"), by: peer, now: t1)
        let again = scores.record(.malformedMessage(protocol: "/ipfs/id/push/1.0.0"), by: peer, now: t1)
        #expect(again == .refuse(until: Int64(t1.timeIntervalSince1970) + 120))
        let record = scores.records(now: t1).first { $0.peer == peer }
        #expect(record?.refusals == 2)
        #expect(record?.offenses == 5)
        #expect(record?.lastOffense == "malformed message on /ipfs/id/push/1.0.0")
    }

    @Test func scoresDecayWithTheHalfLife() {
        let scores = PeerScores()
        _ = scores.record(.malformedMessage(protocol: "p"), by: "a", now: t0)
        #expect(abs(scores.score("a", now: t0.addingTimeInterval(600)) - -20) < 1e-9)
        #expect(abs(scores.score("a", now: t0.addingTimeInterval(1200)) - -10) < 1e-9)
        #expect(scores.score("never-seen") == 0)
    }

    @Test func addressesAreRefusedOnlyWhenNotLoopback() {
        let scores = PeerScores()
        let remote = PeerScores.addressKey(ip: "203.0.113.9")
        let local = PeerScores.addressKey(ip: "127.0.0.1")
        #expect(remote == "ip4/203.0.113.9")
        for _ in 0..<6 {
            _ = scores.record(.brokenTransport("negotiation"), by: remote, now: t0)
            _ = scores.record(.brokenTransport("negotiation"), by: local, now: t0)
        }
        #expect(scores.isRefused(remote, now: t0))
        #expect(!scores.isRefused(local, now: t0))
        #expect(scores.score(local, now: t0) == -360)
        var strict = PeerScorePolicy()
        strict.refuseLoopbackAddresses = true
        let strictScores = PeerScores(policy: strict)
        for _ in 0..<6 { _ = strictScores.record(.brokenTransport("x"), by: local, now: t0) }
        #expect(strictScores.isRefused(local, now: t0))
    }

    @Test func persistedRecordsAreRestored() throws {
        let dir = temporaryFolder("peer-scores")
        defer { cleanup(dir) }
        let store = try NodeStore(path: dir + "/node.sqlite")
        let scores = PeerScores()
        for _ in 0..<3 { _ = scores.record(.malformedMessage(protocol: "p"), by: "bad", now: t0) }
        let record = try #require(scores.records(now: t0).first)
        try store.savePeerScore(record)
        try store.setMetadata("starts", "1")  // other metadata is not a score
        let restored = PeerScores(records: try NodeStore(path: dir + "/node.sqlite").peerScores())
        #expect(restored.isRefused("bad", now: t0))
        #expect(try store.peerScores() == [record])
    }

    @Test func onlyThePeersFaultsCount() {
        let fl = "/murmur/fl/1"
        #expect(PeerGuard.offense(for: FLWireError.invalidEncoding("x"), protocol: fl) == .malformedMessage(protocol: fl))
        #expect(PeerGuard.offense(for: FLServiceError.notAnAggregator("p"), protocol: fl) == .unauthorizedRequest(protocol: fl))
        #expect(PeerGuard.offense(for: P2PError.invalidProtobuf("x"), protocol: "/ipfs/id/push/1.0.0") == .malformedMessage(protocol: "/ipfs/id/push/1.0.0"))
        #expect(PeerGuard.offense(for: P2PError.decryptionFailed, protocol: fl) == .brokenTransport(P2PError.decryptionFailed.description))
        #expect(PeerGuard.offense(for: BlockError.malformedMessage("x"), protocol: "/murmur/blocks/1") == .malformedMessage(protocol: "/murmur/blocks/1"))
        // An honest peer that stops, restarts or is slow causes these: no penalty.
        #expect(PeerGuard.offense(for: P2PError.streamReset, protocol: fl) == nil)
        #expect(PeerGuard.offense(for: P2PError.closed("gone"), protocol: fl) == nil)
        #expect(PeerGuard.offense(for: P2PError.timeout("slow"), protocol: fl) == nil)
        #expect(PeerGuard.offense(for: CancellationError(), protocol: fl) == nil)
        // A frame cut short is what a crashing honest peer may leave: a light penalty only.
        #expect(PeerGuard.offense(for: FLWireError.truncated("cut"), protocol: fl) == .protocolPenalty(protocol: fl, weight: 10))
    }
}
