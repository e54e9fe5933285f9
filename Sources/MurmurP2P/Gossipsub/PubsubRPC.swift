/// The pubsub `RPC` frame shared by floodsub and gossipsub, hand-encoded like Protobuf.swift.
///
/// Spec: libp2p/specs pubsub/README.md ("The RPC") and pubsub/gossipsub/gossipsub-v1.1.md
/// ("Protobuf"): RPC { repeated SubOpts subscriptions = 1; repeated Message publish = 2;
/// ControlMessage control = 3; }. Every repeated field and length is bounded by `PubsubLimits`.
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
        for f in try decodeProtobufFields(bytes) {
            switch f {
            case .bytes(1, let b):
                guard subscriptions.count < limits.maxSubscriptions else { throw PubsubLimits.exceeded("subscriptions", limits.maxSubscriptions) }
                var sub = SubOpts(subscribe: false, topic: "")
                for g in try decodeProtobufFields(b) {
                    switch g {
                    case .varint(1, let v): sub.subscribe = v != 0
                    case .bytes(2, let t): sub.topic = try limits.topic(t)
                    default: continue
                    }
                }
                subscriptions.append(sub)
            case .bytes(2, let b):
                guard publish.count < limits.maxMessages else { throw PubsubLimits.exceeded("messages", limits.maxMessages) }
                publish.append(try PubsubWireMessage(decoding: b, limits: limits))
            case .bytes(3, let b):
                let c = try PubsubControl(decoding: b, limits: limits)
                control = c.isEmpty ? nil : c
            default: continue
            }
        }
    }

    /// The encoding (fields in number order).
    public var encoded: [UInt8] {
        var w = ProtobufWriter()
        for s in subscriptions {
            var sw = ProtobufWriter()
            sw.varint(1, s.subscribe ? 1 : 0)
            sw.string(2, s.topic)
            w.bytes(1, sw.bytes)
        }
        for m in publish { w.bytes(2, m.encoded) }
        if let control, !control.isEmpty { w.bytes(3, control.encoded) }
        return w.bytes
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
/// Spec: libp2p/specs pubsub/README.md, "The Message". Empty fields are not written, so the bytes
/// we sign are what go-, js- and py-libp2p re-serialize when they verify.
public struct PubsubWireMessage: Equatable, Sendable {
    /// The author's peer id (multihash bytes).
    public var from: [UInt8] = []
    /// The payload.
    public var data: [UInt8] = []
    /// The author's sequence number (8 bytes big-endian by convention).
    public var seqno: [UInt8] = []
    /// Topics; gossipsub v1.1 peers send exactly one.
    public var topics: [String] = []
    /// Ed25519 signature over "libp2p-pubsub:" + the encoding without signature and key.
    public var signature: [UInt8] = []
    /// The author's public key protobuf, when it is not inlined in `from`.
    public var key: [UInt8] = []

    /// A message with the given fields.
    public init(from: [UInt8] = [], data: [UInt8] = [], seqno: [UInt8] = [], topics: [String] = [], signature: [UInt8] = [], key: [UInt8] = []) {
        self.from = from
        self.data = data
        self.seqno = seqno
        self.topics = topics
        self.signature = signature
        self.key = key
    }

    /// Decodes a message; payload and topic count are bounded by `limits`.
    public init(decoding bytes: [UInt8], limits: PubsubLimits = .init()) throws {
        for f in try decodeProtobufFields(bytes) {
            switch f {
            case .bytes(1, let b): from = b
            case .bytes(2, let b):
                guard b.count <= limits.maxDataLength else { throw PubsubLimits.exceeded("message data bytes", limits.maxDataLength) }
                data = b
            case .bytes(3, let b): seqno = b
            case .bytes(4, let b):
                guard topics.count < limits.maxTopicsPerMessage else { throw PubsubLimits.exceeded("topics in a message", limits.maxTopicsPerMessage) }
                topics.append(try limits.topic(b))
            case .bytes(5, let b): signature = b
            case .bytes(6, let b): key = b
            default: continue
            }
        }
    }

    /// The encoding with every non-empty field.
    public var encoded: [UInt8] { encode(withSignature: true) }

    /// The bytes the author signs (after the "libp2p-pubsub:" prefix): no signature, no key.
    public var signedPart: [UInt8] { encode(withSignature: false) }

    private func encode(withSignature: Bool) -> [UInt8] {
        var w = ProtobufWriter()
        if !from.isEmpty { w.bytes(1, from) }
        if !data.isEmpty { w.bytes(2, data) }
        if !seqno.isEmpty { w.bytes(3, seqno) }
        for t in topics { w.string(4, t) }
        if withSignature {
            if !signature.isEmpty { w.bytes(5, signature) }
            if !key.isEmpty { w.bytes(6, key) }
        }
        return w.bytes
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
        var ids = 0
        func countID() throws {
            ids += 1
            guard ids <= limits.maxControlIDs else { throw PubsubLimits.exceeded("message ids in a control message", limits.maxControlIDs) }
        }
        var entries = 0
        for f in try decodeProtobufFields(bytes) {
            entries += 1
            guard entries <= limits.maxControlEntries else { throw PubsubLimits.exceeded("control entries", limits.maxControlEntries) }
            switch f {
            case .bytes(1, let b):
                var h = IHave(topic: "", messageIDs: [])
                for g in try decodeProtobufFields(b) {
                    switch g {
                    case .bytes(1, let t): h.topic = try limits.topic(t)
                    case .bytes(2, let id): try countID(); h.messageIDs.append(id)
                    default: continue
                    }
                }
                ihave.append(h)
            case .bytes(2, let b):
                for g in try decodeProtobufFields(b) {
                    if case .bytes(1, let id) = g { try countID(); iwant.append(id) }
                }
            case .bytes(3, let b):
                for g in try decodeProtobufFields(b) {
                    if case .bytes(1, let t) = g { graft.append(try limits.topic(t)) }
                }
            case .bytes(4, let b):
                var p = Prune(topic: "")
                for g in try decodeProtobufFields(b) {
                    switch g {
                    case .bytes(1, let t): p.topic = try limits.topic(t)
                    case .bytes(2, let info):
                        guard p.peers.count < limits.maxPeerExchange else { throw PubsubLimits.exceeded("PRUNE peers", limits.maxPeerExchange) }
                        var pi = PeerInfo(peerID: [])
                        for h in try decodeProtobufFields(info) {
                            switch h {
                            case .bytes(1, let id): pi.peerID = id
                            case .bytes(2, let rec): pi.signedPeerRecord = rec
                            default: continue
                            }
                        }
                        p.peers.append(pi)
                    case .varint(3, let v): p.backoff = v
                    default: continue
                    }
                }
                prune.append(p)
            default: continue
            }
        }
    }

    /// The encoding: all IHAVEs, then IWANT (one entry), GRAFTs, PRUNEs.
    public var encoded: [UInt8] {
        var w = ProtobufWriter()
        for h in ihave {
            var hw = ProtobufWriter()
            hw.string(1, h.topic)
            for id in h.messageIDs { hw.bytes(2, id) }
            w.bytes(1, hw.bytes)
        }
        if !iwant.isEmpty {
            var iw = ProtobufWriter()
            for id in iwant { iw.bytes(1, id) }
            w.bytes(2, iw.bytes)
        }
        for t in graft {
            var gw = ProtobufWriter()
            gw.string(1, t)
            w.bytes(3, gw.bytes)
        }
        for p in prune {
            var pw = ProtobufWriter()
            pw.string(1, p.topic)
            for info in p.peers {
                var iw = ProtobufWriter()
                iw.bytes(1, info.peerID)
                if !info.signedPeerRecord.isEmpty { iw.bytes(2, info.signedPeerRecord) }
                pw.bytes(2, iw.bytes)
            }
            if let b = p.backoff { pw.varint(3, b) }
            w.bytes(4, pw.bytes)
        }
        return w.bytes
    }
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

    func topic(_ bytes: [UInt8]) throws -> String {
        guard bytes.count <= maxTopicLength else { throw Self.exceeded("topic bytes", maxTopicLength) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func exceeded(_ what: String, _ limit: Int) -> P2PError {
        .limitExceeded("pubsub RPC has more than \(limit) \(what)")
    }
}
