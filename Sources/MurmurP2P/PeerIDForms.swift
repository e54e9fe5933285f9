import Crypto
import MurmurCore

/// Peer id forms and key encodings from libp2p/specs peer-ids/peer-ids.md.
///
/// MurmurCore's `PeerID` prints base58btc; libp2p also needs the CIDv1 form (`libp2p-key`,
/// base32), parsing from bytes, and ids of keys larger than 42 bytes (sha256 multihash).
extension PeerID {
    /// The `libp2p-key` multicodec used in CIDv1 peer ids.
    public static let libp2pKeyCodec: UInt64 = 0x72

    /// A peer id from its multihash bytes (identity or sha2-256 only).
    public init(multihashBytes bytes: [UInt8]) throws {
        guard let (code, n1) = try? UnsignedVarint.decode(bytes),
            let (length, n2) = try? UnsignedVarint.decode(bytes[n1...])
        else { throw P2PError.invalidPeerID("truncated multihash") }
        guard code == Multihash.identityCode || code == Multihash.sha256Code else {
            throw P2PError.invalidPeerID("multihash code \(code) is neither identity (0x00) nor sha2-256 (0x12)")
        }
        guard bytes.count - n1 - n2 == Int(length), code != Multihash.sha256Code || length == 32 else {
            throw P2PError.invalidPeerID("multihash digest length does not match")
        }
        self.init(multihash: Multihash(code: code, digest: Array(bytes[(n1 + n2)...])))
    }

    /// Parses either text form: base58btc (`12D3KooW…`, `Qm…`) or a CIDv1 (`bafz…`).
    public init(parsing text: String) throws {
        if text.hasPrefix("1") || text.hasPrefix("Qm") {
            guard let bytes = try? Multibase.decodeBase58btc(text) else {
                throw P2PError.invalidPeerID("'\(text)' is not valid base58btc")
            }
            try self.init(multihashBytes: bytes)
        } else if text.hasPrefix("b") {
            guard let raw = try? Multibase.decodeBase32(String(text.dropFirst())) else {
                throw P2PError.invalidPeerID("'\(text)' is not valid base32")
            }
            guard let (version, n1) = try UnsignedVarint.decode(raw), version == 1,
                let (codec, n2) = try UnsignedVarint.decode(raw[n1...])
            else { throw P2PError.invalidPeerID("'\(text)' is not a CIDv1") }
            guard codec == Self.libp2pKeyCodec else {
                throw P2PError.invalidPeerID("CID codec 0x\(String(codec, radix: 16)) is not libp2p-key (0x72)")
            }
            try self.init(multihashBytes: Array(raw[(n1 + n2)...]))
        } else {
            throw P2PError.invalidPeerID("'\(text)' is neither base58btc (1…/Qm…) nor a base32 CIDv1 (b…)")
        }
    }

    /// The peer id of a serialized public key: identity multihash up to 42 bytes, sha2-256 above.
    public init(publicKeyProtobuf key: [UInt8]) {
        if key.count <= 42 {
            self.init(multihash: Multihash(code: Multihash.identityCode, digest: key))
        } else {
            self.init(multihash: Multihash.sha256(key))
        }
    }

    /// The CIDv1 text form: multibase base32 of `0x01 0x72 <multihash>` (`bafz…`).
    public var cidString: String {
        "b" + Multibase.base32(UnsignedVarint.encode(1) + UnsignedVarint.encode(Self.libp2pKeyCodec) + multihash.bytes)
    }
}

extension Identity {
    /// An identity from libp2p's `PrivateKey` protobuf for Ed25519 (Data = 32-byte seed ‖ 32-byte public key).
    ///
    /// Checks that the embedded public key belongs to the seed, as the spec asks implementations to.
    public init(libp2pPrivateKey bytes: [UInt8]) throws {
        let key = try KeyProtobuf(decoding: bytes)
        guard key.type == KeyProtobuf.ed25519 else { throw P2PError.unsupportedKeyType(key.type) }
        guard key.data.count == 64 || key.data.count == 32 else {
            throw P2PError.invalidProtobuf("an Ed25519 private key is 64 bytes (seed ‖ public key), got \(key.data.count)")
        }
        try self.init(seed: Array(key.data.prefix(32)))
        if key.data.count == 64, publicKey.raw != Array(key.data.suffix(32)) {
            throw P2PError.invalidProtobuf("the Ed25519 private key's public half does not match its seed")
        }
    }

    /// libp2p's `PrivateKey` protobuf (Ed25519: seed ‖ public key).
    public var libp2pPrivateKey: [UInt8] {
        KeyProtobuf(type: KeyProtobuf.ed25519, data: Array(privateKey.rawRepresentation) + publicKey.raw).encoded
    }
}

extension PublicIdentity {
    /// The key from libp2p's `PublicKey` protobuf; only Ed25519 is accepted.
    public init(libp2pPublicKey bytes: [UInt8]) throws {
        let key = try KeyProtobuf(decoding: bytes)
        guard key.type == KeyProtobuf.ed25519 else { throw P2PError.unsupportedKeyType(key.type) }
        try self.init(raw: key.data)
    }
}
