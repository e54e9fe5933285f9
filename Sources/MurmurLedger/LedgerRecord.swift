import MurmurCore
import MurmurLog

/// The nine record types of the ledger, each with a versioned schema name `murmur.ledger.<kind>/1`.
/// Why: a replaying node must reject what it does not understand instead of guessing (docs/ledger.md).
public enum RecordKind: String, Sendable, CaseIterable, Codable {
    case genesis
    case modelVersion = "model-version"
    case contribution
    case reward
    case proposal
    case vote
    case enactment
    case reputation
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

/// A record as its author signed it: schema, author (libp2p peer id of an Ed25519 key) and body.
/// The signature is Ed25519 (RFC 8032) over the canonical JSON (RFC 8785 style) of
/// `{"author":…,"body":…,"schema":…}`, so it does not depend on where the record lands in the log.
public struct LedgerRecord: Sendable, Equatable {
    /// `murmur.ledger.<kind>/<version>`.
    public var schema: String
    /// The author's peer id (`12D3KooW…`); its Ed25519 key is inlined in it.
    public var author: String
    /// The body as JSON (integers only).
    public var body: JSONValue
    /// The 64-byte Ed25519 signature.
    public var signature: [UInt8]

    /// A record from its parts (the signature is not checked here).
    public init(schema: String, author: String, body: JSONValue, signature: [UInt8]) {
        self.schema = schema; self.author = author; self.body = body; self.signature = signature
    }

    /// Signs `body` with `identity`.
    public static func sign<B: RecordBody>(_ body: B, by identity: Identity) throws -> LedgerRecord {
        let json = try LedgerJSON.value(body)
        var r = LedgerRecord(schema: B.kind.schema, author: identity.peerID.description, body: json, signature: [])
        r.signature = try identity.sign(r.signedBytes)
        return r
    }

    /// The bytes the author signs.
    public var signedBytes: [UInt8] { CanonicalJSON.encode(unsignedJSON) }

    var unsignedJSON: JSONValue { .object(["schema": .string(schema), "author": .string(author), "body": body]) }

    /// The record's type, or nil for an unknown schema or version.
    public var kind: RecordKind? { RecordKind(schema: schema) }

    /// True when the signature verifies under the key inlined in `author`.
    public func hasValidSignature() -> Bool {
        guard signature.count == 64, let peer = try? PeerID(author), let key = peer.publicKey else { return false }
        return key.verify(signature: signature, for: signedBytes)
    }

    /// Decodes the body as `B` (nil when the JSON does not have B's shape).
    public func decode<B: RecordBody>(_ type: B.Type) -> B? {
        try? LedgerJSON.decode(B.self, from: body)
    }
}

/// One log entry: a signed record wrapped with its sequence number and the SHA-256 of the previous
/// entry's bytes, as canonical JSON `{"prev":hex,"record":{…},"seq":n,"sig":hex}`.
/// Why: a dropped or reordered entry breaks `seq`, an edited one breaks the next entry's `prev`,
/// before any Merkle proof is checked. The log writer adds `seq`/`prev`; the author signs `record`.
public struct LedgerEntry: Sendable, Equatable {
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

    /// The canonical bytes stored in the log.
    public var encoded: [UInt8] {
        CanonicalJSON.encode(.object([
            "seq": .integer(Int64(bitPattern: sequence)), "prev": .string(previous.hex),
            "record": record.unsignedJSON, "sig": .string(Multibase.hex(record.signature)),
        ]))
    }

    /// Parses an entry's bytes; throws `.malformedEntry` when they are not a ledger entry at all.
    public init(bytes: [UInt8]) throws(LedgerError) {
        guard let json = try? CanonicalJSON.parse(bytes), case .object(let o) = json else {
            throw .malformedEntry("not a JSON object")
        }
        guard case .integer(let seq)? = o["seq"], seq >= 0 else { throw .malformedEntry("no non-negative integer 'seq'") }
        guard case .string(let prevHex)? = o["prev"], let prevBytes = try? Multibase.decodeHex(prevHex),
              let prev = LogHash(bytes: prevBytes)
        else { throw .malformedEntry("'prev' is not 64 hex digits") }
        guard case .object(let r)? = o["record"], case .string(let schema)? = r["schema"],
              case .string(let author)? = r["author"], let body = r["body"]
        else { throw .malformedEntry("'record' needs string 'schema', string 'author' and 'body'") }
        guard case .string(let sigHex)? = o["sig"], let sig = try? Multibase.decodeHex(sigHex) else {
            throw .malformedEntry("'sig' is not hex")
        }
        guard o.count == 4, r.count == 3 else { throw .malformedEntry("unexpected fields") }
        self.init(sequence: UInt64(seq), previous: prev,
                  record: LedgerRecord(schema: schema, author: author, body: body, signature: sig))
    }

    /// SHA-256 of an entry's bytes: what the next entry's `prev` must hold.
    public static func hash(_ bytes: [UInt8]) -> LogHash { RFC9162.sha256(bytes) }
}
