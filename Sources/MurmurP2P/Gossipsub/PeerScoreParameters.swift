import MurmurCore

/// Per-topic score weights P1–P4 of gossipsub v1.1.
///
/// Spec: gossipsub-v1.1.md "Topic Parameter Calculation and Decay". Weights of penalties (P3,
/// P3b, P4) must be negative; decays are factors in (0, 1) applied every `decayInterval`.
public struct TopicScoreParameters: Sendable {
    /// The topic's weight in the total score.
    public var topicWeight = 1.0
    /// P1 weight: time in mesh (reward).
    public var timeInMeshWeight = 0.01
    /// P1 quantum in seconds: P1 = min(time in mesh / quantum, cap).
    public var timeInMeshQuantum = 1.0
    /// P1 cap.
    public var timeInMeshCap = 3600.0
    /// P2 weight: first message deliveries (reward).
    public var firstMessageDeliveriesWeight = 1.0
    /// P2 decay.
    public var firstMessageDeliveriesDecay = 0.5
    /// P2 cap.
    public var firstMessageDeliveriesCap = 100.0
    /// P3 weight: mesh message delivery deficit², negative; 0 turns P3 off.
    public var meshMessageDeliveriesWeight = 0.0
    /// P3 decay.
    public var meshMessageDeliveriesDecay = 0.5
    /// P3 counter cap.
    public var meshMessageDeliveriesCap = 100.0
    /// P3 threshold: fewer deliveries than this is a deficit.
    public var meshMessageDeliveriesThreshold = 1.0
    /// Seconds after the first delivery during which a mesh peer's duplicate still counts.
    public var meshMessageDeliveriesWindow = 0.01
    /// Seconds in the mesh before P3 applies.
    public var meshMessageDeliveriesActivation = 5.0
    /// P3b weight: deficit² carried over when a deficient peer is pruned; negative.
    public var meshFailurePenaltyWeight = 0.0
    /// P3b decay.
    public var meshFailurePenaltyDecay = 0.5
    /// P4 weight: invalid messages², negative.
    public var invalidMessageDeliveriesWeight = -10.0
    /// P4 decay.
    public var invalidMessageDeliveriesDecay = 0.9

    /// Moderate defaults: P1, P2 and P4 on, P3/P3b off (they need per-topic rate tuning).
    public init() {}
}

/// Peer score knobs and thresholds of gossipsub v1.1.
///
/// Spec: gossipsub-v1.1.md "Peer Scoring" (P5 application-specific, P6 IP colocation, P7
/// behaviour penalty) and "Score Thresholds". Thresholds: gossip ≤ 0, publish ≤ gossip,
/// graylist ≤ publish, acceptPX ≥ 0, opportunistic graft ≥ 0.
public struct PeerScoreParameters: Sendable {
    /// Parameters per topic; topics not listed use `defaultTopic` (nil: they do not score).
    public var topics: [String: TopicScoreParameters] = [:]
    /// Parameters for topics not in `topics`.
    public var defaultTopic: TopicScoreParameters? = TopicScoreParameters()
    /// Cap on the summed topic part (0: no cap).
    public var topicScoreCap = 100.0
    /// P5: the application's score for a peer.
    public var appSpecificScore: @Sendable (PeerID) -> Double = { _ in 0 }
    /// P5 weight.
    public var appSpecificWeight = 1.0
    /// P6 weight (negative; 0 = off, the default, since tests and small deployments share one IP).
    public var ipColocationFactorWeight = 0.0
    /// P6: peers from one IP beyond this are penalised (surplus²).
    public var ipColocationFactorThreshold = 2
    /// IPs exempt from P6.
    public var ipColocationFactorWhitelist: Set<String> = []
    /// P7 weight (negative).
    public var behaviourPenaltyWeight = -10.0
    /// P7: penalties above this count (excess²).
    public var behaviourPenaltyThreshold = 2.0
    /// P7 decay.
    public var behaviourPenaltyDecay = 0.9
    /// Seconds between counter decays.
    public var decayInterval = 1.0
    /// Counters below this decay to 0.
    public var decayToZero = 0.01
    /// Seconds a disconnected peer's counters are kept (so reconnecting does not reset a bad score).
    public var retainScore = 3600.0

    /// Below this, we neither gossip to nor accept gossip from the peer.
    public var gossipThreshold = -10.0
    /// Below this, we do not send our own messages to the peer.
    public var publishThreshold = -50.0
    /// Below this, we ignore everything the peer sends (graylisting).
    public var graylistThreshold = -80.0
    /// PX from a pruning peer is followed only if its score is at least this.
    public var acceptPXThreshold = 10.0
    /// Opportunistic grafting happens when the mesh's median score is below this.
    public var opportunisticGraftThreshold = 5.0

    /// Moderate defaults (see `TopicScoreParameters.init()`).
    public init() {}

    /// The parameters for `topic`, if it scores.
    func parameters(for topic: String) -> TopicScoreParameters? { topics[topic] ?? defaultTopic }

    /// Checks the sign and order rules of the spec.
    public func validate() throws {
        guard gossipThreshold <= 0, publishThreshold <= gossipThreshold, graylistThreshold <= publishThreshold,
            acceptPXThreshold >= 0, opportunisticGraftThreshold >= 0
        else { throw P2PError.limitExceeded("score thresholds need graylist ≤ publish ≤ gossip ≤ 0 ≤ acceptPX, opportunisticGraft") }
        guard ipColocationFactorWeight <= 0, behaviourPenaltyWeight <= 0, decayInterval > 0 else {
            throw P2PError.limitExceeded("P6/P7 weights must be ≤ 0 and the decay interval positive")
        }
        for t in Array(topics.values) + (defaultTopic.map { [$0] } ?? []) {
            guard t.meshMessageDeliveriesWeight <= 0, t.meshFailurePenaltyWeight <= 0, t.invalidMessageDeliveriesWeight <= 0,
                t.timeInMeshWeight >= 0, t.firstMessageDeliveriesWeight >= 0, t.timeInMeshQuantum > 0
            else { throw P2PError.limitExceeded("topic score weights: P1, P2 ≥ 0; P3, P3b, P4 ≤ 0; quantum > 0") }
        }
    }
}
