import Foundation
import MurmurLog

/// What a verified replay found: the ledger, its digest, the checkpoint it matches and (optionally) every outcome.
public struct LedgerVerification: Sendable {
    /// The replayed ledger.
    public var ledger: Ledger
    /// SHA-256 of the state's canonical JSON, hex.
    public var digest: String
    /// The latest signed checkpoint (it covers every entry).
    public var checkpoint: Checkpoint
    /// The signed checkpoint note as stored.
    public var checkpointNote: String
    /// One outcome per entry when asked for, else empty.
    public var outcomes: [RecordOutcome]
}

/// Replays a ledger directory from genesis and checks it against its signed checkpoints.
/// Why: `murmur ledger verify` and `LedgerWriter(path:)` must refuse a log that was edited, truncated or
/// reordered, and name the first bad entry.
public enum LedgerVerifier {
    /// Replays `path`. Checks, in order: the checkpoints' signatures under `verifierKey` (default
    /// `DIR/log.vkey`; pass a pinned key to not trust the directory), that no entry lies beyond the
    /// latest checkpoint, every entry's bytes against its leaf hash, every entry's `seq` and `prev`
    /// (index and reason of the first break), that no signed entry is missing at the end, and every
    /// checkpoint's root against the entries. Rejected records are not failures: they are in the
    /// outcomes and the state.
    public static func verify(path: String, verifierKey: String? = nil, keepOutcomes: Bool = true,
                              signatureCheck: SignatureCheck = .ed25519) throws(LedgerError) -> LedgerVerification {
        let dir = LogDirectory(path: path)
        guard FileManager.default.fileExists(atPath: path + "/log.db") else {
            throw .invalidDirectory("no ledger in \(path): create one with `murmur ledger init \(path) --members N` or `murmur simulate --ledger \(path)`")
        }
        let log: TileLog
        let key: VerifierKey
        let notes: [(size: UInt64, note: String)]
        do {
            log = try dir.open()
            key = try verifierKey.map { try VerifierKey($0) } ?? dir.verifierKey()
            notes = try log.publishedCheckpoints()
        } catch let e as LogStoreError {
            if case .invalidLog(let m) = e { throw .invalidDirectory(m) }
            throw .storage(e.description)
        } catch { throw .invalidDirectory("\(path): \(error)") }
        guard let verifier = try? key.verifier() else { throw .checkpoint("the verifier key \(key) is not usable") }
        var checkpoints: [(Checkpoint, String)] = []
        for (size, text) in notes {
            do {
                let cp = try Checkpoint.open(Note(parsing: text), verifiers: [verifier])
                guard cp.size == size, cp.origin == log.origin else { throw NoteError.malformedCheckpoint("size or origin differs from where it is stored") }
                checkpoints.append((cp, text))
            } catch {
                throw .checkpoint("the checkpoint at size \(size) does not verify under \(key.name): \(error)")
            }
        }
        guard let (latest, latestNote) = checkpoints.last else {
            throw .checkpoint("no signed checkpoint in \(path); the writer publishes one after each batch")
        }
        guard log.size <= latest.size else {
            throw .checkpoint("entries \(latest.size)…\(log.size - 1) are not covered by a signed checkpoint; run `murmur log checkpoint \(path)` if you trust them")
        }
        var ledger = Ledger(signatureCheck: signatureCheck)
        var outcomes: [RecordOutcome] = []
        for b in 0..<((log.size + 255) >> 8) {
            for bytes in try entries(of: log, bundle: b) {
                let o = try ledger.apply(bytes)
                if keepOutcomes { outcomes.append(o) }
            }
        }
        guard log.size >= latest.size else {
            throw .tampered(index: log.size, reason: "the log has \(log.size) entries but a checkpoint was signed at size \(latest.size): entries \(log.size)…\(latest.size - 1) were dropped")
        }
        var from: UInt64 = 0
        for (cp, _) in checkpoints {
            let root: LogHash
            do { root = try log.rootHash(size: cp.size) } catch { throw .storage("\(error)") }
            guard root == cp.root else {
                throw .tampered(index: from, reason: "entries \(from)…\(cp.size - 1) do not hash to the root signed at size \(cp.size): one of them was changed")
            }
            from = cp.size
        }
        let digest: String
        do { digest = try ledger.state.digest() } catch { throw .storage("cannot encode the state: \(error)") }
        return LedgerVerification(ledger: ledger, digest: digest, checkpoint: latest, checkpointNote: latestNote, outcomes: outcomes)
    }

    /// The entries of bundle `b`, each checked against its leaf hash in level-0 tile `b` (one read of each,
    /// instead of re-reading the bundle per entry).
    static func entries(of log: TileLog, bundle b: UInt64) throws(LedgerError) -> [[UInt8]] {
        let width = Int(min(UInt64(TileID.width), log.size - b << 8))
        let entries: [ArraySlice<UInt8>], tile: [UInt8]
        do {
            entries = try EntryBundle.decode(log.resource(TileID(entriesAt: b, width: width)))
            tile = try log.resource(TileID(level: 0, index: b, width: width))
        } catch { throw .tampered(index: b << 8, reason: "entry bundle \(b): \(error)") }
        guard entries.count == width, tile.count == width * 32 else {
            throw .tampered(index: b << 8, reason: "entry bundle \(b) holds \(entries.count) entries, expected \(width)")
        }
        return try entries.enumerated().map { (i, e) throws(LedgerError) in
            guard RFC9162.leafHash(e).bytes[...] == tile[(i * 32)..<(i * 32 + 32)] else {
                throw .tampered(index: b << 8 + UInt64(i), reason: "the entry does not hash to its leaf hash in tile 0/\(b)")
            }
            return Array(e)
        }
    }
}
