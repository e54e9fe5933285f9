import Foundation

/// The pubsub `RPC` frame shared by floodsub and gossipsub.
///
/// Spec: libp2p/specs pubsub/README.md ("The RPC") and pubsub/gossipsub/gossipsub-v1.1.md
/// ("Protobuf"): RPC { repeated SubOpts subscriptions = 1; repeated Message publish = 2;
/// ControlMessage control = 3; }, generated from Proto/pubsub.proto. The frame is bounded by
/// the caller (`PubsubLimits.maxFrameLength`); every list and length by `PubsubLimits`.
public struct PubsubRPC: Equatable, Sendable {
    /// A subscription change: `subscribe` true to join `topic`, false to leave it.
    public struct SubOpts: Equatable, Sendable {
        /// Join (true) or leave (false).
        public var subscribe: Bool
        /// The topic.
        public var topic: String
        /// A subscription change.
        public init(subscribe: Bool, topic: String) {
            self.subscribe = subscribe
            self.topic = topic
        }
    }

    /// Subscription changes (field 1).
    public var subscriptions: [SubOpts] = []
    /// Published or forwarded messages (field 2).
    public var publish: [PubsubWireMessage] = []
    /// Gossipsub control messages (field 3), nil when absent.
    public var control: PubsubControl?

    /// An empty RPC.
    public init(subscriptions: [SubOpts] = [], publish: [PubsubWireMessage] = [], control: PubsubControl? = nil) {
        self.subscriptions = subscriptions
        self.publish = publish
        self.control = control
    }

    /// Whether there is nothing to send.
    public var isEmpty: Bool { subscriptions.isEmpty && publish.isEmpty && (control?.isEmpty ?? true) }

    /// Decodes an RPC; unknown fields (e.g. py-libp2p's senderRecord = 4) are skipped.
    public init(decoding bytes: [UInt8], limits: PubsubLimits = .init()) throws {
        // Unknown fields are kept so a forwarded or verified Message re-encodes as its author wrote it.
        let rpc = try Pubsub_RPC(p2pDecoding: bytes, "pubsub RPC", keepUnknownFields: true)
        guard rpc.subscriptions.count <= limits.maxSubscriptions else { throw PubsubLimits.exceeded("subscriptions", limits.maxSubscriptions) }
        guard rpc.publish.count <= limits.maxMessages else { throw PubsubLimits.exceeded("messages", limits.maxMessages) }
        subscriptions = try rpc.subscriptions.map { SubOpts(subscribe: $0.subscribe, topic: try limits.topic($0.topicid)) }
        publish = try rpc.publish.map { try PubsubWireMessage(checking: $0, limits: limits) }
        if rpc.hasControl {
            let c = try PubsubControl(checking: rpc.control, limits: limits)
            control = c.isEmpty ? nil : c
        }
    }

    /// The encoding (fields in number order).
    public var encoded: [UInt8] {
        var rpc = Pubsub_RPC()
        rpc.subscriptions = subscriptions.map {
            var s = Pubsub_RPC.SubOpts()
            s.subscribe = $0.subscribe
            s.topicid = $0.topic
            return s
        }
        rpc.publish = publish.map(\.proto)
        if let control, !control.isEmpty { rpc.control = control.proto }
        return rpc.wireBytes
    }

    /// Appends `other`'s parts (to send one frame per peer per step).
    public mutating func merge(_ other: PubsubRPC) {
        subscriptions += other.subscriptions
        publish += other.publish
        if let c = other.control {
            var mine = control ?? PubsubControl()
            mine.ihave += c.ihave
            mine.iwant += c.iwant
            mine.graft += c.graft
            mine.prune += c.prune
            control = mine
        }
    }
}

/// A pubsub `Message` as it travels: from = 1, data = 2, seqno = 3, topicIDs = 4 (repeated),
/// signature = 5, key = 6.
///
/// Spec: libp2p/specs pubsub/README.md, "The Message" (proto2, Proto/pubsub.proto). A decoded
/// message keeps the field presence and unknown fields its author sent, so `signedPart` is
/// byte-identical to what the author signed (as go-libp2p re-serializes it); a message built
/// here leaves empty fields out, and setting a property to empty clears its field.
public struct PubsubWireMessage: Equatable, Sendable {
    /// The generated message (internal: callers see only the byte fields).
    var proto: Pubsub_Message

    /// The author's peer id (multihash bytes).
    public var from: [UInt8] {
        get { Array(proto.from) }
        set { if newValue.isEmpty { proto.clearFrom() } else { proto.from = Data(newValue) } }
    }
    /// The payload.
    public var data: [UInt8] {
        get { Array(proto.data) }
        set { if newValue.isEmpty { proto.clearData() } else { proto.data = Data(newValue) } }
    }
    /// The author's sequence number (8 bytes big-endian by convention).
    public var seqno: [UInt8] {
        get { Array(proto.seqno) }
        set { if newValue.isEmpty { proto.clearSeqno() } else { proto.seqno = Data(newValue) } }
    }
    /// Topics; gossipsub v1.1 peers send exactly one.
    public var topics: [String] {
        get { proto.topicIds }
        set { proto.topicIds = newValue }
    }
    /// Ed25519 signature over "libp2p-pubsub:" + the encoding without signature and key.
    public var signature: [UInt8] {
        get { Array(proto.signature) }
        set { if newValue.isEmpty { proto.clearSignature() } else { proto.signature = Data(newValue) } }
    }
    /// The author's public key protobuf, when it is not inlined in `from`.
    public var key: [UInt8] {
        get { Array(proto.key) }
        set { if newValue.isEmpty { proto.clearKey() } else { proto.key = Data(newValue) } }
    }

    /// A message with the given fields (empty ones are not written).
    public init(from: [UInt8] = [], data: [UInt8] = [], seqno: [UInt8] = [], topics: [String] = [], signature: [UInt8] = [], key: [UInt8] = []) {
        proto = Pubsub_Message()
        self.from = from
        self.data = data
        self.seqno = seqno
        self.topics = topics
        self.signature = signature
        self.key = key
    }

    init(proto: Pubsub_Message) { self.proto = proto }

    /// Decodes a message; payload and topic count are bounded by `limits`.
    public init(decoding bytes: [UInt8], limits: PubsubLimits = .init()) throws {
        try self.init(checking: Pubsub_Message(p2pDecoding: bytes, "pubsub Message", keepUnknownFields: true), limits: limits)
    }

    /// Wraps a decoded message after checking it against `limits`.
    init(checking message: Pubsub_Message, limits: PubsubLimits) throws {
        guard message.data.count <= limits.maxDataLength else { throw PubsubLimits.exceeded("message data bytes", limits.maxDataLength) }
        guard message.topicIds.count <= limits.maxTopicsPerMessage else {
            throw PubsubLimits.exceeded("topics in a message", limits.maxTopicsPerMessage)
        }
        for t in message.topicIds { _ = try limits.topic(t) }
        proto = message
    }

    /// The encoding with every present field.
    public var encoded: [UInt8] { proto.wireBytes }

    /// The bytes the author signs (after the "libp2p-pubsub:" prefix): no signature, no key.
    public var signedPart: [UInt8] {
        var m = proto
        m.clearSignature()
        m.clearKey()
        return m.wireBytes
    }
}

/// Gossipsub's `ControlMessage`: ihave = 1, iwant = 2, graft = 3, prune = 4.
///
/// Spec: gossipsub-v1.0.md "Control Messages" and gossipsub-v1.1.md "PRUNE Backoff and Peer
/// Exchange" (ControlPrune { topicID = 1; repeated PeerInfo peers = 2; uint64 backoff = 3 }).
public struct PubsubControl: Equatable, Sendable {
    /// "I have these message ids in `topic`" (topicID = 1, messageIDs = 2).
    public struct IHave: Equatable, Sendable {
        /// The topic.
        public var topic: String
        /// Message ids (opaque bytes).
        public var messageIDs: [[UInt8]]
        /// An IHAVE.
        public init(topic: String, messageIDs: [[UInt8]]) {
            self.topic = topic
            self.messageIDs = messageIDs
        }
    }
    /// A peer offered by PRUNE peer exchange (peerID = 1, signedPeerRecord = 2).
    public struct PeerInfo: Equatable, Sendable {
        /// The peer id bytes.
        public var peerID: [UInt8]
        /// A signed peer record envelope (kept opaque; we send none).
        public var signedPeerRecord: [UInt8]
        /// A peer-exchange entry.
        public init(peerID: [UInt8], signedPeerRecord: [UInt8] = []) {
            self.peerID = peerID
            self.signedPeerRecord = signedPeerRecord
        }
    }
    /// "Leave my mesh for `topic`", with peer exchange and a backoff in seconds.
    public struct Prune: Equatable, Sendable {
        /// The topic.
        public var topic: String
        /// Other peers in the topic (peer exchange).
        public var peers: [PeerInfo]
        /// Seconds the receiver must wait before grafting again; nil when absent (v1.0 peers).
        public var backoff: UInt64?
        /// A PRUNE.
        public init(topic: String, peers: [PeerInfo] = [], backoff: UInt64? = nil) {
            self.topic = topic
            self.peers = peers
            self.backoff = backoff
        }
    }

    /// IHAVE announcements.
    public var ihave: [IHave] = []
    /// IWANT requests (message ids).
    public var iwant: [[UInt8]] = []
    /// GRAFT requests (topics).
    public var graft: [String] = []
    /// PRUNE notices.
    public var prune: [Prune] = []

    /// A control message.
    public init(ihave: [IHave] = [], iwant: [[UInt8]] = [], graft: [String] = [], prune: [Prune] = []) {
        self.ihave = ihave
        self.iwant = iwant
        self.graft = graft
        self.prune = prune
    }

    /// Whether it carries nothing.
    public var isEmpty: Bool { ihave.isEmpty && iwant.isEmpty && graft.isEmpty && prune.isEmpty }

    /// Decodes a control message; the number of entries and message ids is bounded.
    public init(decoding bytes: [UInt8], limits: PubsubLimits = .init()) throws {
        try self.init(checking: Pubsub_ControlMessage(p2pDecoding: bytes, "gossipsub ControlMessage"), limits: limits)
    }

    /// Converts a decoded control message after checking it against `limits`.
    init(checking c: Pubsub_ControlMessage, limits: PubsubLimits) throws {
        let entries = c.ihave.count + c.iwant.count + c.graft.count + c.prune.count
        guard entries <= limits.maxControlEntries else { throw PubsubLimits.exceeded("control entries", limits.maxControlEntries) }
        let ids = c.ihave.reduce(0) { $0 + $1.messageIds.count } + c.iwant.reduce(0) { $0 + $1.messageIds.count }
        guard ids <= limits.maxControlIDs else { throw PubsubLimits.exceeded("message ids in a control message", limits.maxControlIDs) }
        for p in c.prune where p.peers.count > limits.maxPeerExchange { throw PubsubLimits.exceeded("PRUNE peers", limits.maxPeerExchange) }
        ihave = try c.ihave.map { IHave(topic: try limits.topic($0.topicID), messageIDs: $0.messageIds.map { Array($0) }) }
        iwant = c.iwant.flatMap { $0.messageIds.map { Array($0) } }
        graft = try c.graft.map { try limits.topic($0.topicID) }
        prune = try c.prune.map {
            Prune(
                topic: try limits.topic($0.topicID),
                peers: $0.peers.map { PeerInfo(peerID: Array($0.peerID), signedPeerRecord: Array($0.signedPeerRecord)) },
                backoff: $0.hasBackoff ? $0.backoff : nil)
        }
    }

    /// The generated message: all IHAVEs, then IWANT (one entry), GRAFTs, PRUNEs.
    var proto: Pubsub_ControlMessage {
        var c = Pubsub_ControlMessage()
        c.ihave = ihave.map {
            var h = Pubsub_ControlIHave()
            h.topicID = $0.topic
            h.messageIds = $0.messageIDs.map { Data($0) }
            return h
        }
        if !iwant.isEmpty {
            var w = Pubsub_ControlIWant()
            w.messageIds = iwant.map { Data($0) }
            c.iwant = [w]
        }
        c.graft = graft.map {
            var g = Pubsub_ControlGraft()
            g.topicID = $0
            return g
        }
        c.prune = prune.map { p in
            var m = Pubsub_ControlPrune()
            m.topicID = p.topic
            m.peers = p.peers.map {
                var info = Pubsub_PeerInfo()
                info.peerID = Data($0.peerID)
                if !$0.signedPeerRecord.isEmpty { info.signedPeerRecord = Data($0.signedPeerRecord) }
                return info
            }
            if let b = p.backoff { m.backoff = b }
            return m
        }
        return c
    }

    /// The encoding of `proto`.
    public var encoded: [UInt8] { proto.wireBytes }
}

/// Bounds applied while decoding pubsub frames, so a peer cannot make us allocate without limit.
///
/// Defaults follow go-libp2p-pubsub (1 MiB frames, 5000 ids per IHAVE) with a margin.
public struct PubsubLimits: Sendable {
    /// Largest RPC frame, in bytes (also the length-prefix limit).
    public var maxFrameLength = 1 << 20
    /// Largest message payload.
    public var maxDataLength = 1 << 20
    /// Largest topic name, in bytes.
    public var maxTopicLength = 256
    /// Subscription entries per RPC.
    public var maxSubscriptions = 1024
    /// Messages per RPC.
    public var maxMessages = 1024
    /// Topics per message.
    public var maxTopicsPerMessage = 16
    /// IHAVE/IWANT/GRAFT/PRUNE entries per control message.
    public var maxControlEntries = 4096
    /// Message ids across one control message.
    public var maxControlIDs = 10_000
    /// Peer-exchange entries per PRUNE.
    public var maxPeerExchange = 64

    /// The defaults.
    public init() {}

    func topic(_ topic: String) throws -> String {
        guard topic.utf8.count <= maxTopicLength else { throw Self.exceeded("topic bytes", maxTopicLength) }
        return topic
    }

    static func exceeded(_ what: String, _ limit: Int) -> P2PError {
        .limitExceeded("pubsub RPC has more than \(limit) \(what)")
    }
}
