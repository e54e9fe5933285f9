/// Gossipsub router knobs, with the defaults of the gossipsub v1.0/v1.1 specs.
///
/// Spec: libp2p/specs pubsub/gossipsub/gossipsub-v1.0.md "Parameters" and gossipsub-v1.1.md
/// "Overview of New Parameters". Times are in seconds.
public struct GossipsubParameters: Sendable {
    /// D: the target mesh degree.
    public var d = 6
    /// D_lo: below this the heartbeat grafts up to D.
    public var dLow = 4
    /// D_hi: above this the heartbeat prunes down to D.
    public var dHigh = 12
    /// D_lazy: peers (at least) that receive IHAVE gossip per topic per heartbeat.
    public var dLazy = 6
    /// D_score: peers kept by score when pruning an oversized mesh.
    public var dScore = 4
    /// D_out: outbound peers the mesh keeps (v1.1, resists sybil inbound floods).
    public var dOut = 2
    /// Seconds between heartbeats.
    public var heartbeatInterval = 1.0
    /// Seconds a fanout topic (published to, not joined) is kept without publishing.
    public var fanoutTTL = 60.0
    /// mcache_len: heartbeats of history in the message cache.
    public var historyLength = 5
    /// mcache_gossip: heartbeats of history announced in IHAVE.
    public var historyGossip = 3
    /// Seconds a message id is remembered as seen.
    public var seenTTL = 120.0
    /// Share of eligible peers that get gossip (v1.1 gossip_factor), with D_lazy as the floor.
    public var gossipFactor = 0.25
    /// Backoff in seconds after a PRUNE (v1.1 prune_backoff).
    public var pruneBackoff = 60.0
    /// Backoff in seconds after leaving a topic (unsubscribe_backoff).
    public var unsubscribeBackoff = 10.0
    /// Whether our PRUNEs carry peer exchange.
    public var doPX = true
    /// Peers offered per PRUNE.
    public var prunePeers = 16
    /// Heartbeats between opportunistic grafting rounds (v1.1).
    public var opportunisticGraftTicks = 60
    /// Peers grafted per opportunistic round.
    public var opportunisticGraftPeers = 2
    /// IHAVE messages accepted per peer per heartbeat.
    public var maxIHaveMessages = 10
    /// Message ids we ask for per peer per heartbeat (IWANT).
    public var maxIHaveLength = 5000
    /// Times we answer IWANT for the same message to the same peer.
    public var gossipRetransmission = 3
    /// Seconds a peer has to deliver a message it announced and we asked for (else P7).
    public var iwantFollowupTime = 3.0
    /// Seconds within which a GRAFT after our PRUNE is a flood (counted double in P7).
    public var graftFloodThreshold = 10.0
    /// v1.1 flood publishing: our own messages go to every topic peer above the publish
    /// threshold, not only the mesh (faster first hop, resists eclipse).
    public var floodPublish = true
    /// Decoding bounds.
    public var limits = PubsubLimits()

    /// The spec defaults (heartbeat 1 s).
    public init() {}

    /// Checks D_lo ≤ D ≤ D_hi, D_out < D_lo, D_out ≤ D/2 and positive times.
    public func validate() throws {
        guard dLow >= 1, dLow <= d, d <= dHigh else {
            throw P2PError.limitExceeded("gossipsub needs 1 ≤ D_lo ≤ D ≤ D_hi (got \(dLow), \(d), \(dHigh))")
        }
        guard dOut >= 0, dOut < dLow, dOut <= d / 2, dScore >= 0, dScore <= d else {
            throw P2PError.limitExceeded("gossipsub needs D_out < D_lo, D_out ≤ D/2 and D_score ≤ D")
        }
        guard heartbeatInterval > 0, historyGossip >= 1, historyGossip <= historyLength else {
            throw P2PError.limitExceeded("gossipsub needs a positive heartbeat and 1 ≤ history_gossip ≤ history_length")
        }
    }
}
