import Crypto

/// A multihash (multiformats): `varint(code) ‖ varint(length) ‖ digest`.
public struct Multihash: Hashable, Sendable {
    /// sha2-256's multicodec code.
    public static let sha256Code: UInt64 = 0x12
    /// The identity "hash" (the bytes themselves), used for small public keys in peer ids.
    public static let identityCode: UInt64 = 0x00

    public let code: UInt64
    public let digest: [UInt8]

    public init(code: UInt64, digest: [UInt8]) {
        self.code = code
        self.digest = digest
    }

    /// The SHA-256 multihash of `data`.
    public static func sha256<D: Sequence>(_ data: D) -> Multihash where D.Element == UInt8 {
        let bytes = Array(data)
        return Multihash(code: sha256Code, digest: Array(SHA256.hash(data: bytes)))
    }

    /// The encoded bytes.
    public var bytes: [UInt8] { Varint.encode(code) + Varint.encode(UInt64(digest.count)) + digest }
}

/// A CIDv1: `varint(1) ‖ varint(codec) ‖ multihash`, printed in multibase base32 (`b…`), the
/// form `ipfs cid format -b base32` prints.
public struct CID: Hashable, Sendable, CustomStringConvertible, Codable {
    /// Multicodec for raw bytes (blobs such as a safetensors file).
    public static let rawCodec: UInt64 = 0x55
    /// Multicodec for JSON (manifests).
    public static let jsonCodec: UInt64 = 0x0200

    public let codec: UInt64
    public let multihash: Multihash

    public init(codec: UInt64, multihash: Multihash) {
        self.codec = codec
        self.multihash = multihash
    }

    /// The CID of raw bytes (codec raw, sha2-256).
    public static func raw<D: Sequence>(_ data: D) -> CID where D.Element == UInt8 {
        CID(codec: rawCodec, multihash: .sha256(data))
    }

    /// The CID of a JSON document (codec json, sha2-256).
    public static func json<D: Sequence>(_ data: D) -> CID where D.Element == UInt8 {
        CID(codec: jsonCodec, multihash: .sha256(data))
    }

    /// The binary CID.
    public var bytes: [UInt8] { Varint.encode(1) + Varint.encode(codec) + multihash.bytes }

    /// The base32 multibase text, e.g. `bafkrei…` for raw blobs.
    public var description: String { "b" + Multibase.base32(bytes) }

    /// Parses a base32 CIDv1 string.
    public init(_ text: String) throws {
        guard text.first == "b" else {
            throw MurmurCoreError.invalidCID("expected a base32 CIDv1 starting with 'b', got '\(text.prefix(12))'")
        }
        let raw = try Multibase.decodeBase32(String(text.dropFirst()))
        var slice = raw[...]
        let (version, n1) = try Varint.decode(slice)
        guard version == 1 else { throw MurmurCoreError.invalidCID("CID version \(version) is not 1") }
        slice = slice.dropFirst(n1)
        let (codec, n2) = try Varint.decode(slice)
        slice = slice.dropFirst(n2)
        let (code, n3) = try Varint.decode(slice)
        slice = slice.dropFirst(n3)
        let (length, n4) = try Varint.decode(slice)
        slice = slice.dropFirst(n4)
        guard slice.count == Int(length) else {
            throw MurmurCoreError.invalidCID("digest length \(slice.count) does not match the declared \(length)")
        }
        self.init(codec: codec, multihash: Multihash(code: code, digest: Array(slice)))
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
