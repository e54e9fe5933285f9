import Crypto
import MurmurCore

/// A block: a byte string and the CIDv1 that names it, checked to match when built.
///
/// Content addressing (multiformats CIDv1, sha2-256): whoever holds a `Block` knows its bytes
/// hash to its CID, so blocks from untrusted peers are only ever used as `Block`s.
public struct Block: Sendable, Hashable {
    /// The largest block exchanged or stored (1 MiB, the chunk size of `BlockManifest`).
    public static let maxSize = 1 << 20

    /// The name.
    public let cid: CID
    /// The content; its sha2-256 digest is `cid`'s multihash digest.
    public let bytes: [UInt8]

    /// A raw block (codec raw, sha2-256) for `bytes`.
    public init(raw bytes: [UInt8]) {
        self.cid = CID(codec: CID.rawCodec, multihash: Multihash(code: Multihash.sha256Code, digest: Self.sha256(bytes)))
        self.bytes = bytes
    }

    /// `bytes` as the block named `cid`; throws `hashMismatch` unless they hash to it.
    ///
    /// Call this on every block that comes from a peer or a disk before storing or using it.
    public init(verifying bytes: [UInt8], as cid: CID) throws(BlockError) {
        guard cid.multihash.code == Multihash.sha256Code, cid.multihash.digest.count == 32 else {
            throw .unsupportedCID("\(cid) is not hashed with sha2-256 (multihash code \(cid.multihash.code))")
        }
        guard bytes.count <= Self.maxSize else {
            throw .sizeLimitExceeded("block \(cid) has \(bytes.count) bytes, above the \(Self.maxSize)-byte block limit")
        }
        guard Self.sha256(bytes) == cid.multihash.digest else { throw .hashMismatch(cid) }
        self.cid = cid
        self.bytes = bytes
    }

    /// Wraps bytes already known to hash to `cid` (built here, or read from a verified store).
    init(trusted bytes: [UInt8], cid: CID) {
        self.cid = cid
        self.bytes = bytes
    }

    /// SHA-256 of `bytes` (BoringSSL through swift-crypto; one pass, no copy).
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { Array(SHA256.hash(data: $0)) }
    }
}

extension CID {
    /// The largest binary CID accepted on the wire (version, codec, sha2-256 multihash fit in 40).
    static let maxBinaryLength = 64

    /// Parses a binary CIDv1 (`varint(1) ‖ varint(codec) ‖ varint(code) ‖ varint(length) ‖ digest`).
    ///
    /// Spec: multiformats/cid, "CIDv1". Used for the CIDs in `/murmur/blocks/1` requests.
    init(binary bytes: [UInt8]) throws(BlockError) {
        guard bytes.count <= Self.maxBinaryLength else {
            throw .malformedMessage("a CID of \(bytes.count) bytes is longer than \(Self.maxBinaryLength)")
        }
        var at = 0
        func field(_ name: String) throws(BlockError) -> UInt64 {
            let decoded: (value: UInt64, size: Int)?
            do { decoded = try UnsignedVarint.decode(bytes[at...]) } catch { throw .malformedMessage("CID \(name): \(error)") }
            guard let decoded else { throw .malformedMessage("CID ends inside its \(name)") }
            at += decoded.size
            return decoded.value
        }
        guard try field("version") == 1 else { throw .malformedMessage("only CIDv1 is accepted") }
        let codec = try field("codec")
        let code = try field("multihash code")
        let length = try field("digest length")
        guard UInt64(bytes.count - at) == length else {
            throw .malformedMessage("CID digest has \(bytes.count - at) bytes, declared \(length)")
        }
        self.init(codec: codec, multihash: Multihash(code: code, digest: Array(bytes[at...])))
    }
}

/// Why storing, serving or fetching blocks failed, with what to check next.
public enum BlockError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No peer announced the content (the DHT returned no providers).
    case noProviders(CID)
    /// Every provider failed; one reason per provider, as `peer: reason`.
    case allProvidersFailed(CID, [String])
    /// Bytes do not hash to the CID that names them.
    case hashMismatch(CID)
    /// A manifest block is not a valid canonical `murmur-blocks-manifest/1` document.
    case corruptManifest(String)
    /// A block, frame, want-list or object is larger than allowed.
    case sizeLimitExceeded(String)
    /// A CID uses a hash or codec this protocol does not handle.
    case unsupportedCID(String)
    /// A `/murmur/blocks/1` frame could not be decoded.
    case malformedMessage(String)
    /// The local block store failed (disk full, permissions, a corrupt file).
    case storeFailed(String)
    /// A provider did not answer in time.
    case timeout(String)

    /// The message shown to users.
    public var description: String {
        switch self {
        case .noProviders(let c): return "no providers for \(c): no peer announced it (is the publisher online and in the DHT?)"
        case .allProvidersFailed(let c, let why): return "every provider of \(c) failed: \(why.joined(separator: "; "))"
        case .hashMismatch(let c): return "bytes received as \(c) do not hash to it (corrupt or lying provider)"
        case .corruptManifest(let m): return "corrupt block manifest: \(m)"
        case .sizeLimitExceeded(let m): return "size limit exceeded: \(m)"
        case .unsupportedCID(let m): return "unsupported CID: \(m)"
        case .malformedMessage(let m): return "malformed /murmur/blocks/1 message: \(m)"
        case .storeFailed(let m): return "block store failed: \(m)"
        case .timeout(let m): return "timed out: \(m)"
        }
    }
}
