import Foundation

/// A C2SP tlog-witness: verifies a log's checkpoint and a consistency proof from the last size it
/// cosigned, then cosigns (cosignature/v1). The `add-checkpoint` logic without HTTP: body in, status out.
public struct Witness: Sendable {
    /// The witness's cosigning key.
    public let cosigner: Cosigner
    /// The logs it follows: origin → the log's verifier key.
    public var logs: [String: VerifierKey]
    /// The latest cosigned checkpoint note per origin (its text).
    public private(set) var latest: [String: Checkpoint] = [:]
    /// Evidence of misbehaviour seen so far.
    public private(set) var evidence: [EquivocationEvidence] = []

    /// A witness for `logs`.
    public init(cosigner: Cosigner, logs: [VerifierKey]) {
        self.cosigner = cosigner
        self.logs = Dictionary(logs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// An HTTP-shaped answer: status code, content type, body.
    public struct Response: Sendable, Equatable {
        /// 200, 400, 403, 404, 409 or 422 per c2sp.org/tlog-witness.
        public var status: Int
        /// `text/x.tlog.size` for 409, else text/plain.
        public var contentType: String
        /// Cosignature lines (200), the latest size (409) or an error message.
        public var body: String
        /// A response from its parts.
        public init(status: Int, contentType: String, body: String) {
            self.status = status; self.contentType = contentType; self.body = body
        }
    }

    /// Handles `POST /add-checkpoint`: `old N`, proof lines, blank line, signed checkpoint.
    public mutating func addCheckpoint(body: [UInt8], now: UInt64) -> Response {
        func fail(_ s: Int, _ m: String) -> Response { Response(status: s, contentType: "text/plain; charset=utf-8", body: m + "\n") }
        guard let text = String(validating: body, as: UTF8.self), let blank = text.range(of: "\n\n") else {
            return fail(400, "body must be 'old N', proof lines, a blank line and a checkpoint")
        }
        let head = text[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = head.first, first.hasPrefix("old "), let old = UInt64(first.dropFirst(4)),
              String(old) == first.dropFirst(4), head.count - 1 <= 63 else { return fail(400, "malformed old size line or too many proof lines") }
        var proof: [LogHash] = []
        for l in head.dropFirst() {
            guard let h = LogHash(base64: l) else { return fail(400, "proof line '\(l)' is not a base64 hash") }
            proof.append(h)
        }
        let note: Note
        let cp: Checkpoint
        do {
            note = try Note(parsing: String(text[blank.upperBound...]))
            cp = try Checkpoint(text: note.text)
        } catch { return fail(400, "\(error)") }
        guard let key = logs[cp.origin] else { return fail(404, "unknown log origin '\(cp.origin)'") }
        do { try note.verify([try key.verifier()]) } catch { return fail(403, "\(error)") }
        guard old <= cp.size else { return fail(400, "old size \(old) is larger than the checkpoint size \(cp.size)") }
        let prev = latest[cp.origin]
        let prevSize = prev?.size ?? 0
        guard old == prevSize else { return Response(status: 409, contentType: "text/x.tlog.size", body: "\(prevSize)\n") }
        if cp.size == 0 && cp.root != RFC9162.emptyRoot { return fail(422, "a size-0 checkpoint must have the empty root") }
        if let prev, prev.size > 0 {
            if prev.size == cp.size {
                // c2sp.org/tlog-witness: same size, different root → 409 (and it is evidence of a fork).
                guard prev.root == cp.root else {
                    recordEvidence(previous: prev, current: note, proof: proof)
                    return Response(status: 409, contentType: "text/x.tlog.size", body: "\(prevSize)\n")
                }
                guard proof.isEmpty else { return fail(422, "a consistency proof between equal sizes must be empty") }
            } else {
                do {
                    try MerkleProof.verifyConsistency(from: prev.size, to: cp.size, proof: proof, oldRoot: prev.root, newRoot: cp.root)
                } catch {
                    recordEvidence(previous: prev, current: note, proof: proof)
                    return fail(422, "consistency proof from \(prev.size) does not verify: \(error)")
                }
            }
        } else if !proof.isEmpty {
            return fail(422, "the proof must be empty when the old size is 0")
        }
        guard let sig = try? cosigner.cosign(checkpointText: note.text, timestamp: now) else { return fail(500, "signing failed") }
        latest[cp.origin] = cp
        signedNotes[cp.origin] = note
        return Response(status: 200, contentType: "text/plain; charset=utf-8", body: sig.line)
    }

    /// Restores the latest cosigned checkpoint of a log from its stored log-signed note (after a restart).
    /// The note must verify with the log's key the witness follows; otherwise a typed error.
    public mutating func restore(_ note: Note) throws(NoteError) {
        let cp = try Checkpoint(text: note.text)
        guard let key = logs[cp.origin] else { throw .malformedCheckpoint("stored checkpoint for '\(cp.origin)', a log this witness does not follow") }
        try note.verify([try key.verifier()])
        latest[cp.origin] = cp
        signedNotes[cp.origin] = note
    }

    /// The log-signed note of the latest cosigned checkpoint of `origin`, the state a witness persists.
    public func latestNote(origin: String) -> Note? { signedNotes[origin] }

    /// The log-signed notes of the latest cosigned checkpoints (kept so evidence can quote them).
    var signedNotes: [String: Note] = [:]

    mutating func recordEvidence(previous: Checkpoint, current: Note, proof: [LogHash]) {
        guard let prevNote = signedNotes[previous.origin], let key = logs[previous.origin],
              let e = try? EquivocationEvidence.make(logKey: key, first: prevNote, second: current, proof: proof, reporter: cosigner)
        else { return }
        evidence.append(e)
    }
}

/// Self-contained proof that a log misbehaved: two checkpoints it signed that cannot both be honest —
/// the same size with different roots, or a consistency proof (that reproduces the newer root) implying a
/// different older root. Signed by the reporting witness; anyone holding the log's key can check it.
public struct EquivocationEvidence: Sendable, Equatable {
    /// The evidence as a signed note (text + the reporter's signature).
    public var note: Note

    /// Evidence as received (e.g. gossiped); nothing is checked until `verify()`.
    public init(note: Note) { self.note = note }

    /// Builds evidence if (and only if) the two notes prove misbehaviour. `proof` is the consistency proof from the
    /// smaller size m to the larger, as the newer tree gives it; when m is a power of two, prefix it with the newer
    /// tree's MTH(D[0:m]) (e.g. from its tiles), which RFC 9162 otherwise leaves out.
    public static func make(logKey: VerifierKey, first: Note, second: Note, proof: [LogHash], reporter: Cosigner) throws -> EquivocationEvidence {
        var text = "murmur-equivocation/v1\n\(logKey)\n"
        text += Data(first.serialized.utf8).base64EncodedString() + "\n"
        text += Data(second.serialized.utf8).base64EncodedString() + "\n"
        text += proof.map { $0.base64 + "\n" }.joined()
        let e = EquivocationEvidence(note: Note(text: text, signatures: [try reporter.signer.sign(text: text)]))
        _ = try e.verify()
        return e
    }

    /// Checks the evidence from its contents alone; returns the log key it convicts.
    @discardableResult
    public func verify() throws -> VerifierKey {
        let lines = note.text.split(separator: "\n").map(String.init)
        guard lines.count >= 4, lines[0] == "murmur-equivocation/v1",
              let a = Data(base64Encoded: lines[2]), let b = Data(base64Encoded: lines[3]) else {
            throw NoteError.malformed("not murmur-equivocation/v1 evidence")
        }
        let key = try VerifierKey(lines[1])
        let v = try key.verifier()
        let n1 = try Note(parsing: Array(a)), n2 = try Note(parsing: Array(b))
        let c1 = try Checkpoint.open(n1, verifiers: [v]), c2 = try Checkpoint.open(n2, verifiers: [v])
        guard c1.origin == c2.origin else { throw NoteError.malformed("the two checkpoints are from different logs") }
        if c1.size == c2.size {
            guard c1.root != c2.root else { throw NoteError.malformed("same size and same root: no equivocation") }
            return key
        }
        let (old, new) = c1.size < c2.size ? (c1, c2) : (c2, c1)
        var proof = try lines.dropFirst(4).map { l throws(NoteError) -> LogHash in
            guard let h = LogHash(base64: l) else { throw NoteError.malformed("bad proof line") }
            return h
        }
        if old.size > 0, old.size & (old.size - 1) == 0 {
            // RFC 9162 leaves MTH(D[0:m]) out of the proof when m is a power of two (the verifier supplies the old
            // root), so such evidence starts with the newer tree's MTH(D[0:m]): folded with the rest it must give
            // the newer signed root, and it must differ from the older signed root.
            guard let sub = proof.first else { throw NoteError.malformed("evidence for a power-of-two size needs MTH(D[0:m]) first") }
            proof.removeFirst()
            let (_, impliedNew) = try MerkleProof.rootsFromConsistency(from: old.size, to: new.size, proof: proof, oldRoot: sub, newRoot: new.root)
            guard impliedNew == new.root, sub != old.root else { throw NoteError.malformed("the proof does not show an inconsistency") }
            return key
        }
        // The proof must reproduce the newer signed root; then the older root it implies is the only honest one.
        let (impliedOld, impliedNew) = try MerkleProof.rootsFromConsistency(from: old.size, to: new.size, proof: proof, oldRoot: old.root, newRoot: new.root)
        guard impliedNew == new.root, impliedOld != old.root else {
            throw NoteError.malformed("the proof does not show an inconsistency")
        }
        return key
    }
}
