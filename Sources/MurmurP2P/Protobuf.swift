import Foundation
import MurmurCore
import SwiftProtobuf

// libp2p's protobuf messages go through swift-protobuf's code generated from Proto/*.proto
// (scripts/gen-proto). The public types here and in Gossipsub/ and Kademlia/ are small Swift
// values over those generated messages, so callers never see SwiftProtobuf and every decoding
// failure is a `P2PError`. Callers bound the frame before decoding (LengthPrefixedDecoder,
// readToEnd(limit:)); list limits are applied to the decoded message.

extension SwiftProtobuf.Message {
    /// Decodes a whole protobuf message, mapping swift-protobuf's errors to `P2PError.invalidProtobuf`.
    ///
    /// `partial` accepts proto2 messages whose required fields are missing (the caller checks);
    /// unknown fields are dropped unless `keepUnknownFields`.
    init(p2pDecoding bytes: [UInt8], _ what: String, partial: Bool = false, keepUnknownFields: Bool = false) throws {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = !keepUnknownFields
        do {
            try self.init(serializedBytes: bytes, partial: partial, options: options)
        } catch {
            throw P2PError.invalidProtobuf("\(what): \(error)")
        }
    }

    /// The binary encoding (fields in number order, unknown fields last).
    ///
    /// Binary encoding only fails on missing proto2 required fields, which `partial` allows, or on
    /// `google.protobuf.Any`, which no libp2p message uses; so this never returns the fallback.
    var wireBytes: [UInt8] { (try? serializedBytes(partial: true)) ?? [] }
}

/// libp2p's `PublicKey`/`PrivateKey` protobuf: `{ required KeyType Type = 1; required bytes Data = 2; }`.
///
/// Spec: libp2p/specs peer-ids/peer-ids.md, "Keys" (Proto/keys.proto); both messages share this
/// layout. Encoded deterministically (both fields, in order).
public struct KeyProtobuf: Equatable, Sendable {
    /// KeyType: RSA = 0, Ed25519 = 1, Secp256k1 = 2, ECDSA = 3.
    public var type: Int
    /// The key bytes in the type's own format (32 raw bytes for an Ed25519 public key).
    public var data: [UInt8]

    /// The Ed25519 key type number.
    public static let ed25519 = 1

    /// A key of `type` with `data`.
    public init(type: Int, data: [UInt8]) {
        self.type = type
        self.data = data
    }

    /// Decodes the protobuf; both fields are required and Type must be one of the four KeyTypes.
    public init(decoding bytes: [UInt8]) throws {
        // proto2 enums are closed: an unknown Type number is kept aside as an unknown field, which
        // leaves the required Type missing.
        let key = try Keys_PublicKey(p2pDecoding: bytes, "libp2p key", partial: true)
        guard key.hasType, key.hasData else {
            throw P2PError.invalidProtobuf("a libp2p key needs both Type (RSA, Ed25519, Secp256k1 or ECDSA) and Data")
        }
        self.init(type: key.type.rawValue, data: Array(key.data))
    }

    /// The deterministic encoding; a `type` outside KeyType is left out (so it does not decode).
    public var encoded: [UInt8] {
        var key = Keys_PublicKey()
        if let type = Keys_KeyType(rawValue: type) { key.type = type }
        key.data = Data(data)
        return key.wireBytes
    }
}

/// The payload libp2p carries inside Noise handshake messages 2 and 3.
///
/// Spec: libp2p/specs noise/README.md, "The libp2p Handshake Payload" (Proto/noise.proto):
/// identity_key = 1, identity_sig = 2, extensions = 4 (extensions are ignored here).
public struct NoiseHandshakePayload: Equatable, Sendable {
    /// The sender's libp2p public key (a `KeyProtobuf` encoding).
    public var identityKey: [UInt8]
    /// Signature by that key over "noise-libp2p-static-key:" + the Noise static public key.
    public var identitySignature: [UInt8]

    /// A payload with the given key and signature.
    public init(identityKey: [UInt8], identitySignature: [UInt8]) {
        self.identityKey = identityKey
        self.identitySignature = identitySignature
    }

    /// Decodes the payload; key and signature are required.
    public init(decoding bytes: [UInt8]) throws {
        let p = try Noise_NoiseHandshakePayload(p2pDecoding: bytes, "Noise handshake payload")
        guard p.hasIdentityKey, p.hasIdentitySig else {
            throw P2PError.invalidProtobuf("the Noise handshake payload needs identity_key and identity_sig")
        }
        self.init(identityKey: Array(p.identityKey), identitySignature: Array(p.identitySig))
    }

    /// The encoding.
    public var encoded: [UInt8] {
        var p = Noise_NoiseHandshakePayload()
        p.identityKey = Data(identityKey)
        p.identitySig = Data(identitySignature)
        return p.wireBytes
    }
}

/// The identify message (`/ipfs/id/1.0.0` and `/ipfs/id/push/1.0.0`).
///
/// Spec: libp2p/specs identify/README.md (Proto/identify.proto): publicKey = 1, listenAddrs = 2,
/// protocols = 3, observedAddr = 4, protocolVersion = 5, agentVersion = 6, signedPeerRecord = 8.
public struct IdentifyMessage: Equatable, Sendable {
    /// The sender's public key (`KeyProtobuf` encoding).
    public var publicKey: [UInt8]?
    /// Addresses the sender listens on (binary multiaddrs).
    public var listenAddrs: [[UInt8]] = []
    /// Protocols the sender serves.
    public var protocols: [String] = []
    /// The address the sender sees us at (binary multiaddr).
    public var observedAddr: [UInt8]?
    /// E.g. "ipfs/0.1.0".
    public var protocolVersion: String?
    /// E.g. "murmur/0.1".
    public var agentVersion: String?
    /// A signed peer record envelope, kept opaque.
    public var signedPeerRecord: [UInt8]?

    /// An empty message.
    public init() {}

    /// Decodes an identify message; unknown fields are skipped, strings must be UTF-8.
    public init(decoding bytes: [UInt8]) throws {
        let m = try Identify_Identify(p2pDecoding: bytes, "identify message")
        publicKey = m.hasPublicKey ? Array(m.publicKey) : nil
        listenAddrs = m.listenAddrs.map { Array($0) }
        protocols = m.protocols
        observedAddr = m.hasObservedAddr ? Array(m.observedAddr) : nil
        protocolVersion = m.hasProtocolVersion ? m.protocolVersion : nil
        agentVersion = m.hasAgentVersion ? m.agentVersion : nil
        signedPeerRecord = m.hasSignedPeerRecord ? Array(m.signedPeerRecord) : nil
    }

    /// The encoding (fields in number order).
    public var encoded: [UInt8] {
        var m = Identify_Identify()
        if let publicKey { m.publicKey = Data(publicKey) }
        m.listenAddrs = listenAddrs.map { Data($0) }
        m.protocols = protocols
        if let observedAddr { m.observedAddr = Data(observedAddr) }
        if let protocolVersion { m.protocolVersion = protocolVersion }
        if let agentVersion { m.agentVersion = agentVersion }
        if let signedPeerRecord { m.signedPeerRecord = Data(signedPeerRecord) }
        return m.wireBytes
    }
}
