import Crypto

/// A device's Ed25519 identity: one key signs log records, receipts and libp2p handshakes.
public struct Identity: Sendable {
    /// The private signing key.
    public let privateKey: Curve25519.Signing.PrivateKey

    /// A fresh random identity (from the system's secure generator).
    public init() { privateKey = Curve25519.Signing.PrivateKey() }

    /// An identity from its 32-byte Ed25519 seed.
    public init(seed: [UInt8]) throws {
        do {
            privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        } catch {
            throw MurmurCoreError.invalidKey("an Ed25519 seed must be 32 bytes, got \(seed.count)")
        }
    }

    /// A deterministic identity for simulations and tests, derived from a seeded generator.
    public init(deterministic rng: inout SeededRNG) {
        var seed = [UInt8]()
        for _ in 0..<4 { withUnsafeBytes(of: rng.next().littleEndian) { seed += $0 } }
        // 32 bytes is always a valid Ed25519 seed, so this cannot fail.
        privateKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// The public half.
    public var publicKey: PublicIdentity { PublicIdentity(key: privateKey.publicKey) }

    /// The libp2p peer id of this identity.
    public var peerID: PeerID { publicKey.peerID }

    /// Signs `message` (Ed25519, RFC 8032).
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        Array(try privateKey.signature(for: message))
    }
}

/// An Ed25519 public key.
public struct PublicIdentity: Sendable, Hashable {
    public let key: Curve25519.Signing.PublicKey

    public init(key: Curve25519.Signing.PublicKey) { self.key = key }

    /// From the 32 raw key bytes.
    public init(raw: [UInt8]) throws {
        do {
            key = try Curve25519.Signing.PublicKey(rawRepresentation: raw)
        } catch {
            throw MurmurCoreError.invalidKey("an Ed25519 public key must be 32 bytes, got \(raw.count)")
        }
    }

    public var raw: [UInt8] { Array(key.rawRepresentation) }

    /// Checks an Ed25519 signature.
    public func verify(signature: [UInt8], for message: [UInt8]) -> Bool {
        key.isValidSignature(signature, for: message)
    }

    /// libp2p's protobuf `PublicKey { Type = Ed25519 (1); Data = key }`.
    public var libp2pProtobuf: [UInt8] { [0x08, 0x01, 0x12, 0x20] + raw }

    /// The peer id: identity multihash of the protobuf public key (keys ≤ 42 bytes are inlined).
    public var peerID: PeerID { PeerID(multihash: Multihash(code: Multihash.identityCode, digest: libp2pProtobuf)) }

    public static func == (a: PublicIdentity, b: PublicIdentity) -> Bool { a.raw == b.raw }
    public func hash(into h: inout Hasher) { h.combine(raw) }
}

/// A libp2p peer id, printed in base58btc (`12D3KooW…` for Ed25519 keys).
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    public let multihash: Multihash

    public init(multihash: Multihash) { self.multihash = multihash }

    /// Parses the base58btc form.
    public init(_ text: String) throws {
        let bytes = try Multibase.decodeBase58btc(text)
        var slice = bytes[...]
        let (code, n1) = try Varint.decode(slice)
        slice = slice.dropFirst(n1)
        let (length, n2) = try Varint.decode(slice)
        slice = slice.dropFirst(n2)
        guard slice.count == Int(length) else {
            throw MurmurCoreError.invalidEncoding("peer id digest length mismatch")
        }
        multihash = Multihash(code: code, digest: Array(slice))
    }

    public var description: String { Multibase.base58btc(multihash.bytes) }

    /// The Ed25519 key inlined in an identity-multihash peer id, if any.
    public var publicKey: PublicIdentity? {
        guard multihash.code == Multihash.identityCode, multihash.digest.count == 36,
            Array(multihash.digest.prefix(4)) == [0x08, 0x01, 0x12, 0x20]
        else { return nil }
        return try? PublicIdentity(raw: Array(multihash.digest.suffix(32)))
    }
}
