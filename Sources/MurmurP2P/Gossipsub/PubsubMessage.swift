import Foundation
import MurmurCore

/// A validated pub/sub message as subscribers and validators see it.
///
/// Built from a `PubsubWireMessage` whose signature checked out (StrictSign), so `from` is the
/// proven author; `id` is the default gossipsub message id, from ‖ seqno (pubsub/README.md).
public struct PubsubMessage: Equatable, Sendable {
    /// The author.
    public var from: PeerID
    /// The payload.
    public var data: [UInt8]
    /// The author's sequence number (8 bytes big-endian from libp2p implementations).
    public var seqno: [UInt8]
    /// The topic.
    public var topic: String
    /// The message id: from (multihash bytes) ‖ seqno.
    public var id: [UInt8]
    /// The peer we received it from (the author for our own messages).
    public var receivedFrom: PeerID

    /// The seqno as a number when it is 8 bytes, as libp2p implementations send it.
    public var sequenceNumber: UInt64? {
        guard seqno.count == 8 else { return nil }
        return seqno.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// What a validator decides about a message (gossipsub v1.1 "Extended Validators").
///
/// Spec: gossipsub-v1.1.md: accept delivers and forwards; reject drops and penalises the sender
/// (P4); ignore drops without penalty.
public enum PubsubValidation: Sendable, Equatable {
    /// Deliver and forward.
    case accept
    /// Drop; the forwarding peer is penalised for an invalid message.
    case reject
    /// Drop quietly (e.g. stale or duplicate at the application level).
    case ignore
}

/// A topic validator: runs synchronously under the router's lock, so keep it cheap.
public typealias PubsubValidator = @Sendable (PubsubMessage) -> PubsubValidation

/// Why a received message was refused before validators ran (for logs and tests).
public enum PubsubSignatureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// StrictSign requires from, seqno, signature.
    case missingField(String)
    /// `from` is not a peer id we can take an Ed25519 key from, and no usable `key` is attached.
    case unknownKey
    /// The attached key does not hash to `from`.
    case keyMismatch
    /// The signature does not verify.
    case badSignature

    /// The message shown in logs.
    public var description: String {
        switch self {
        case .missingField(let f): return "pubsub message without \(f) (StrictSign requires it)"
        case .unknownKey: return "pubsub message author key unknown (not inlined in the peer id and no Ed25519 key attached)"
        case .keyMismatch: return "pubsub message key does not match its author peer id"
        case .badSignature: return "pubsub message signature does not verify"
        }
    }
}

/// StrictSign: sign and verify messages as gossipsub-v1.1 and pubsub/README.md ("Message Signing") say.
///
/// The signature is Ed25519 over "libp2p-pubsub:" ‖ the message encoded without signature and
/// key; Ed25519 keys are inlined in the peer id, so `key` is only read, never required.
public enum PubsubSigning {
    /// The domain-separation prefix.
    public static let prefix = Array("libp2p-pubsub:".utf8)

    /// A signed message from `identity` with `seqno` on `topic`.
    public static func sign(data: [UInt8], topic: String, seqno: UInt64, identity: Identity) throws -> PubsubWireMessage {
        var m = PubsubWireMessage(
            from: identity.peerID.multihash.bytes,
            seqno: (0..<8).map { UInt8(truncatingIfNeeded: seqno >> (56 - 8 * UInt64($0))) }, topics: [topic])
        // data is present even when empty: go- and py-libp2p publish it so, and py-libp2p
        // re-creates from, data, seqno and topicIDs as present fields when it verifies.
        m.proto.data = Data(data)
        m.signature = try identity.sign(prefix + m.signedPart)
        return m
    }

    /// The verified author of `message`, or why it is refused.
    public static func verify(_ message: PubsubWireMessage) throws(PubsubSignatureError) -> PeerID {
        guard !message.from.isEmpty else { throw .missingField("from") }
        guard !message.seqno.isEmpty else { throw .missingField("seqno") }
        guard !message.signature.isEmpty else { throw .missingField("signature") }
        guard let author = try? PeerID(multihashBytes: message.from) else { throw .unknownKey }
        var key = author.publicKey
        if key == nil, !message.key.isEmpty {
            guard PeerID(publicKeyProtobuf: message.key) == author else { throw .keyMismatch }
            guard let k = try? KeyProtobuf(decoding: message.key), k.type == KeyProtobuf.ed25519 else { throw .unknownKey }
            key = try? PublicIdentity(raw: k.data)
        }
        guard let key else { throw .unknownKey }
        if !message.key.isEmpty, PeerID(publicKeyProtobuf: message.key) != author { throw .keyMismatch }
        guard key.verify(signature: message.signature, for: prefix + message.signedPart) else { throw .badSignature }
        return author
    }

    /// The default message id: from ‖ seqno (pubsub/README.md, "Message Identification").
    public static func messageID(_ message: PubsubWireMessage) -> [UInt8] { message.from + message.seqno }
}
