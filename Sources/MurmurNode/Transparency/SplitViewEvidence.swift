import Foundation
import MurmurCore
import MurmurLog

/// Proof that a log showed two views: MurmurLog's `EquivocationEvidence` (two checkpoints the log
/// signed that cannot both be honest, signed by the reporting witness) as one canonical JSON object
/// (RFC 8785 style, `CanonicalJSON`), named by its CID.
/// Why: gossiped on `/murmur/evidence/1`, stored by every node (`GET /v1/evidence`) and checked
/// before a model from the convicted log is accepted (c2sp.org/tlog-witness; issue 11, items 2 and 6).
///
/// Fields: `type` (`murmur.split-view-evidence/1`), `origin`, `log_key`, `first` and `second` (the two
/// signed checkpoint notes), `proof` (base64 hashes), `reporter` (the witness that signed it) and
/// `evidence` (the signed `murmur-equivocation/v1` note everything else is read from).
public struct SplitViewEvidence: Sendable, Equatable {
    /// The `type` field.
    public static let type = "murmur.split-view-evidence/1"
    /// The largest evidence object accepted (two notes and a proof fit easily).
    public static let maxSize = 64 << 10

    /// The verified evidence note.
    public let evidence: EquivocationEvidence
    /// The convicted log's key.
    public let logKey: VerifierKey
    /// The canonical JSON bytes.
    public let json: [UInt8]

    /// Wraps evidence after checking it convicts a log.
    public init(_ evidence: EquivocationEvidence) throws(SplitViewEvidenceError) {
        let key: VerifierKey
        do { key = try evidence.verify() } catch { throw .invalid("the evidence does not prove a split view: \(error)") }
        self.evidence = evidence
        logKey = key
        json = try Self.encode(evidence, key: key)
    }

    /// Parses and verifies received bytes; they must be exactly the canonical form of the evidence they carry.
    public init(json bytes: [UInt8]) throws(SplitViewEvidenceError) {
        guard bytes.count <= Self.maxSize else { throw .invalid("evidence of \(bytes.count) bytes is over the \(Self.maxSize)-byte limit") }
        let value: JSONValue
        do { value = try CanonicalJSON.parse(bytes) } catch { throw .invalid("not JSON: \(error)") }
        guard case .object(let o) = value, o["type"] == .string(Self.type), case .string(let text)? = o["evidence"] else {
            throw .invalid("not a \(Self.type) object")
        }
        let note: Note
        do { note = try Note(parsing: text) } catch { throw .invalid("the evidence note does not parse: \(error)") }
        try self.init(EquivocationEvidence(note: note))
        guard json == bytes else { throw .invalid("the object's fields do not match its evidence note (or it is not canonical JSON)") }
    }

    /// The evidence's CID (CIDv1, json codec, sha2-256 of the canonical bytes).
    public var cid: CID { CID.json(json) }

    /// The convicted log's origin.
    public var origin: String { logKey.name }

    static func encode(_ e: EquivocationEvidence, key: VerifierKey) throws(SplitViewEvidenceError) -> [UInt8] {
        let lines = e.note.text.split(separator: "\n").map(String.init)
        guard lines.count >= 4, let a = Data(base64Encoded: lines[2]), let b = Data(base64Encoded: lines[3]) else {
            throw .invalid("malformed evidence note")
        }
        let object: [String: JSONValue] = [
            "type": .string(type),
            "origin": .string(key.name),
            "log_key": .string(key.description),
            "first": .string(String(decoding: a, as: UTF8.self)),
            "second": .string(String(decoding: b, as: UTF8.self)),
            "proof": .array(lines.dropFirst(4).map { .string($0) }),
            "reporter": .string(e.note.signatures.first?.name ?? ""),
            "evidence": .string(e.note.serialized),
        ]
        return CanonicalJSON.encode(.object(object))
    }
}

/// Why received evidence was not accepted.
public enum SplitViewEvidenceError: Error, Equatable, CustomStringConvertible {
    /// Malformed, non-canonical, or it does not prove two conflicting views.
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let m): return "split-view evidence rejected: \(m)"
        }
    }
}

extension NodeStore {
    /// Block-index kind of stored evidence.
    static let evidenceKind = "evidence"

    /// Stores verified evidence (idempotent: named by its CID); returns whether it was new.
    @discardableResult
    public func putEvidence(_ e: SplitViewEvidence) throws(NodeError) -> Bool {
        let known = try block(e.cid.description) != nil
        if !known { try putBlock(e.json, cid: e.cid, kind: Self.evidenceKind) }
        return !known
    }

    /// Every stored evidence object, oldest first (re-verified when read).
    public func evidence() throws(NodeError) -> [SplitViewEvidence] {
        var out = [SplitViewEvidence]()
        for row in try blocks(kind: Self.evidenceKind) {
            if let bytes = try block(row.cid), let e = try? SplitViewEvidence(json: bytes) { out.append(e) }
        }
        return out
    }
}
