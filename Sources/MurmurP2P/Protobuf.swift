import MurmurCore

/// A minimal protobuf (proto3 wire format) writer for the three small libp2p messages.
///
/// Hand-written instead of swift-protobuf's generated code so the package builds without the
/// protoc plugin; see https://protobuf.dev/programming-guides/encoding/ for the wire format.
public struct ProtobufWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    /// Writes a varint field (wire type 0).
    public mutating func varint(_ field: Int, _ value: UInt64) {
        bytes += Varint.encode(UInt64(field << 3))
        bytes += Varint.encode(value)
    }

    /// Writes a length-delimited field (wire type 2).
    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        bytes += Varint.encode(UInt64(field << 3 | 2))
        bytes += Varint.encode(UInt64(value.count))
        bytes += value
    }

    /// Writes a string field (wire type 2, UTF-8).
    public mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }
}

/// One decoded protobuf field: its number and either a varint or a length-delimited payload.
public enum ProtobufField: Equatable, Sendable {
    /// A varint (wire type 0).
    case varint(Int, UInt64)
    /// A length-delimited value (wire type 2).
    case bytes(Int, [UInt8])
}

/// Splits a protobuf message into fields; skips 64- and 32-bit fields, rejects groups.
///
/// Bounded by the input: a declared length past the end is an error, never an allocation.
public func decodeProtobufFields(_ data: [UInt8]) throws -> [ProtobufField] {
    var fields: [ProtobufField] = []
    var i = 0
    func readVarint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while i < data.count {
            let b = data[i]
            i += 1
            guard shift <= 63 else { throw P2PError.invalidProtobuf("varint longer than 10 bytes") }
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
        throw P2PError.invalidProtobuf("truncated varint")
    }
    while i < data.count {
        let key = try readVarint()
        guard key >> 3 > 0, key >> 3 <= 536_870_911 else { throw P2PError.invalidProtobuf("field number 0 or too large") }
        let field = Int(key >> 3)
        switch key & 7 {
        case 0: fields.append(.varint(field, try readVarint()))
        case 1:
            guard data.count - i >= 8 else { throw P2PError.invalidProtobuf("truncated 64-bit field") }
            i += 8
        case 2:
            let n = try readVarint()
            guard n <= UInt64(data.count - i) else { throw P2PError.invalidProtobuf("field \(field) runs past the message end") }
            fields.append(.bytes(field, Array(data[i..<i + Int(n)])))
            i += Int(n)
        case 5:
            guard data.count - i >= 4 else { throw P2PError.invalidProtobuf("truncated 32-bit field") }
            i += 4
        default: throw P2PError.invalidProtobuf("unsupported wire type \(key & 7)")
        }
    }
    return fields
}

/// libp2p's `PublicKey`/`PrivateKey` protobuf: `{ KeyType Type = 1; bytes Data = 2; }`.
///
/// Spec: libp2p/specs peer-ids/peer-ids.md, "Keys". Encoded deterministically (both fields, in order).
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

    /// Decodes the protobuf; both fields are required.
    public init(decoding bytes: [UInt8]) throws {
        var type: Int?
        var data: [UInt8]?
        for f in try decodeProtobufFields(bytes) {
            switch f {
            case .varint(1, let v):
                // KeyType is an enum of 4 values; anything else (e.g. a 10-byte "−1") is malformed.
                guard v <= 3 else { throw P2PError.invalidProtobuf("unknown libp2p key type \(v)") }
                type = Int(v)
            case .bytes(2, let b): data = b
            default: continue
            }
        }
        guard let type, let data else { throw P2PError.invalidProtobuf("a libp2p key needs both Type and Data") }
        self.init(type: type, data: data)
    }

    /// The deterministic encoding.
    public var encoded: [UInt8] {
        var w = ProtobufWriter()
        w.varint(1, UInt64(truncatingIfNeeded: type))  // protobuf's int32 encoding, sign-extended
        w.bytes(2, data)
        return w.bytes
    }
}

/// The payload libp2p carries inside Noise handshake messages 2 and 3.
///
/// Spec: libp2p/specs noise/README.md, "The libp2p Handshake Payload": identity_key = 1,
/// identity_sig = 2, extensions = 4 (extensions are ignored here).
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
        var key: [UInt8]?
        var sig: [UInt8]?
        for f in try decodeProtobufFields(bytes) {
            switch f {
            case .bytes(1, let b): key = b
            case .bytes(2, let b): sig = b
            default: continue
            }
        }
        guard let key, let sig else { throw P2PError.invalidProtobuf("the Noise handshake payload needs identity_key and identity_sig") }
        self.init(identityKey: key, identitySignature: sig)
    }

    /// The encoding.
    public var encoded: [UInt8] {
        var w = ProtobufWriter()
        w.bytes(1, identityKey)
        w.bytes(2, identitySignature)
        return w.bytes
    }
}

/// The identify message (`/ipfs/id/1.0.0` and `/ipfs/id/push/1.0.0`).
///
/// Spec: libp2p/specs identify/README.md: publicKey = 1, listenAddrs = 2, protocols = 3,
/// observedAddr = 4, protocolVersion = 5, agentVersion = 6, signedPeerRecord = 8.
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

    /// Decodes an identify message; unknown fields are skipped.
    public init(decoding bytes: [UInt8]) throws {
        for f in try decodeProtobufFields(bytes) {
            switch f {
            case .bytes(1, let b): publicKey = b
            case .bytes(2, let b): listenAddrs.append(b)
            case .bytes(3, let b): protocols.append(String(decoding: b, as: UTF8.self))
            case .bytes(4, let b): observedAddr = b
            case .bytes(5, let b): protocolVersion = String(decoding: b, as: UTF8.self)
            case .bytes(6, let b): agentVersion = String(decoding: b, as: UTF8.self)
            case .bytes(8, let b): signedPeerRecord = b
            default: continue
            }
        }
    }

    /// The encoding (fields in number order).
    public var encoded: [UInt8] {
        var w = ProtobufWriter()
        if let publicKey { w.bytes(1, publicKey) }
        for a in listenAddrs { w.bytes(2, a) }
        for p in protocols { w.string(3, p) }
        if let observedAddr { w.bytes(4, observedAddr) }
        if let protocolVersion { w.string(5, protocolVersion) }
        if let agentVersion { w.string(6, agentVersion) }
        if let signedPeerRecord { w.bytes(8, signedPeerRecord) }
        return w.bytes
    }
}
