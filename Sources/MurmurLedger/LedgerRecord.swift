import Foundation
import MurmurCore
import MurmurLog

/// The nine record types of the ledger, each with a versioned schema name `murmur.ledger.<kind>/1`.
/// Why: a replaying node must reject what it does not understand instead of guessing (docs/ledger.md).
public enum RecordKind: String, Sendable, CaseIterable, Codable {
    /// The constitution (entry 0).
    case genesis
    /// A round's new model.
    case modelVersion = "model-version"
    /// One participant's score for a round.
    case contribution
    /// A round's payouts.
    case reward
    /// A parameter change put to a vote.
    case proposal
    /// One member's vote.
    case vote
    /// The request to tally a proposal.
    case enactment
    /// A verifier's spot-check summary for a device.
    case reputation
    /// The digest of a batch of inference receipts.
    case receiptDigest = "receipt-digest"

    /// The schema version this build reads and writes.
    public static let version = 1

    /// `murmur.ledger.<kind>/<version>`.
    public var schema: String { "murmur.ledger.\(rawValue)/\(Self.version)" }

    /// The kind of a schema name this build understands, or nil (unknown type or version).
    public init?(schema: String) {
        guard let kind = RecordKind.allCases.first(where: { $0.schema == schema }) else { return nil }
        self = kind
    }
}

/// The typed content of a record; each conforming type is one schema.
/// Why: the state machine decodes a body once and checks it with the compiler's help.
public protocol RecordBody: Codable, Sendable, Equatable {
    /// The record type this body belongs to.
    static var kind: RecordKind { get }
}

/// A record as its author signed it: the canonical JSON (RFC 8785 style) of
/// `{"author":…,"body":…,"schema":…}` and an Ed25519 signature (RFC 8032) over exactly those bytes.
/// The author is a libp2p peer id whose Ed25519 key is inlined, so the record verifies on its own,
/// wherever it lands in the log. The bytes are kept verbatim: replay checks the signature over what
/// was stored, never over a re-encoding.
public struct LedgerRecord: Sendable, Equatable {
    /// `murmur.ledger.<kind>/<version>`.
    public let schema: String
    /// The author's peer id (`12D3KooW…`).
    public let author: String
    /// The signed canonical JSON.
    public let bytes: [UInt8]
    /// The 64-byte Ed25519 signature over `bytes`.
    public var signature: [UInt8]

    /// Signs `body` with `identity`.
    public static func sign<B: RecordBody>(_ body: B, by identity: Identity) throws -> LedgerRecord {
        var r = try unsigned(body, author: identity.peerID.description)
        r.signature = try identity.sign(r.bytes)
        return r
    }

    /// The record for `body` by `author`, with an empty signature (sign `bytes` and set `signature`).
    public static func unsigned<B: RecordBody>(_ body: B, author: String) throws -> LedgerRecord {
        let bytes = try LedgerJSON.encode(SignedPart(author: author, body: body, schema: B.kind.schema))
        return LedgerRecord(schema: B.kind.schema, author: author, bytes: bytes, signature: [])
    }

    struct SignedPart<B: Encodable>: Encodable { var author: String; var body: B; var schema: String }

    /// A record with any schema and body (for tools and tests that write unusual records), unsigned.
    public static func unsigned(schema: String, author: String, body: JSONValue) -> LedgerRecord {
        let json = JSONValue.object(["schema": .string(schema), "author": .string(author), "body": body])
        return LedgerRecord(schema: schema, author: author, bytes: CanonicalJSON.encode(json), signature: [])
    }

    /// Parses signed bytes; throws `.malformed` unless they are `{"author":string,"body":…,"schema":string}`.
    public init(bytes: [UInt8], signature: [UInt8]) throws(RejectionReason) {
        guard let header = try? Self.decoder.decode(RecordHeader.self, from: Data(bytes)) else {
            throw .malformed("a record is {\"author\":…,\"body\":…,\"schema\":…}")
        }
        self.init(schema: header.schema, author: header.author, bytes: bytes, signature: signature)
    }

    init(schema: String, author: String, bytes: [UInt8], signature: [UInt8]) {
        self.schema = schema; self.author = author; self.bytes = bytes; self.signature = signature
    }

    /// The record's type, or nil for an unknown schema or version.
    public var kind: RecordKind? { RecordKind(schema: schema) }

    /// The author's Ed25519 key, or nil when `author` is not an Ed25519 peer id.
    public var authorKey: PublicIdentity? { (try? PeerID(author))?.publicKey }

    /// True when the signature verifies under the key inlined in `author`.
    public func hasValidSignature() -> Bool {
        guard let key = authorKey else { return false }
        return SignatureCheck.ed25519.isValid(key: key, message: bytes, signature: signature)
    }

    /// Decodes the body as `B` (nil when the JSON does not have B's shape).
    public func decode<B: RecordBody>(_ type: B.Type) -> B? {
        try? Self.decoder.decode(Envelope<B>.self, from: Data(bytes)).body
    }

    /// The body as a JSON value (nil if the bytes do not parse).
    public var body: JSONValue? {
        guard case .object(let o)? = try? CanonicalJSON.parse(bytes) else { return nil }
        return o["body"]
    }

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    struct RecordHeader: Decodable { var schema: String; var author: String }
    struct Envelope<B: Decodable>: Decodable { var body: B }
}

/// One log entry: a header line `murmur.ledger.entry/1 <seq> <prev> <sig>` (decimal, 64 hex, 128 hex),
/// a newline, then the signed record bytes verbatim. `prev` is the SHA-256 of the previous entry's
/// bytes (all zeros for entry 0).
/// Why: a dropped or reordered entry breaks `seq`, an edited one breaks the next entry's `prev`,
/// before any Merkle proof is checked. The log writer adds `seq`/`prev`; the author signs the record.
public struct LedgerEntry: Sendable, Equatable {
    /// The header line's first word.
    public static let format = "murmur.ledger.entry/1"
    /// The entry's index in the log (0 for genesis).
    public var sequence: UInt64
    /// SHA-256 of the previous entry's bytes; all zeros for entry 0.
    public var previous: LogHash
    /// The signed record.
    public var record: LedgerRecord

    /// An entry from its parts.
    public init(sequence: UInt64, previous: LogHash, record: LedgerRecord) {
        self.sequence = sequence; self.previous = previous; self.record = record
    }

    /// The bytes stored in the log.
    public var encoded: [UInt8] {
        Array("\(Self.format) \(sequence) \(previous.hex) \(Multibase.hex(record.signature))\n".utf8) + record.bytes
    }

    /// Splits an entry's bytes into its header fields and the record bytes; throws `.malformedEntry`
    /// when they are not a ledger entry at all. The record itself is parsed by the state machine.
    public static func split(_ bytes: [UInt8]) throws(LedgerError) -> (sequence: UInt64, previous: LogHash, signature: [UInt8], record: [UInt8]) {
        let magic = Array((format + " ").utf8)
        guard bytes.count > magic.count, bytes[..<magic.count].elementsEqual(magic) else {
            throw .malformedEntry("the header must be '\(format) <seq> <prev> <sig>'")
        }
        var i = magic.count
        var seq: UInt64 = 0
        let digitsStart = i
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39, i - digitsStart < 19 {
            seq = seq * 10 + UInt64(bytes[i] - 0x30)
            i += 1
        }
        guard i > digitsStart, bytes[digitsStart] != 0x30 || i == digitsStart + 1, i < bytes.count, bytes[i] == 0x20 else {
            throw .malformedEntry("no decimal sequence number without leading zeros")
        }
        guard let prevBytes = hex(bytes, from: i + 1, count: 32), let prev = LogHash(bytes: prevBytes) else {
            throw .malformedEntry("'prev' is not 64 lowercase hex digits")
        }
        i += 1 + 64
        guard i < bytes.count, bytes[i] == 0x20, let nl = bytes[i...].firstIndex(of: 0x0A) else { throw .malformedEntry("no signature") }
        guard (nl - i - 1) % 2 == 0, let sig = hex(bytes, from: i + 1, count: (nl - i - 1) / 2) else {
            throw .malformedEntry("the signature is not lowercase hex")
        }
        return (seq, prev, sig, Array(bytes[(nl + 1)...]))
    }

    /// `count` bytes from lowercase hex at `from`, or nil.
    static func hex(_ b: [UInt8], from: Int, count: Int) -> [UInt8]? {
        guard from + 2 * count <= b.count else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        var out = [UInt8](repeating: 0, count: count)
        for k in 0..<count {
            guard let hi = nibble(b[from + 2 * k]), let lo = nibble(b[from + 2 * k + 1]) else { return nil }
            out[k] = hi << 4 | lo
        }
        return out
    }

    /// SHA-256 of an entry's bytes: what the next entry's `prev` must hold.
    public static func hash(_ bytes: [UInt8]) -> LogHash { RFC9162.sha256(bytes) }
}
