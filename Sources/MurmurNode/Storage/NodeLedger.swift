import Foundation
import GRDB
import MurmurCore
import MurmurLedger
import MurmurLog
import MurmurLogHTTP

/// What `GET /v1/ledger/state` answers: the replayed state, its digest, the log size and the latest checkpoint.
/// Why: a client compares `digest` with another node's, or with `murmur ledger verify`, to detect divergence.
public struct LedgerSnapshot: Sendable, Equatable {
    /// Entries in the log.
    public var size: UInt64
    /// SHA-256 of the last entry's bytes (zeros for an empty ledger), hex.
    public var head: String
    /// SHA-256 of the state's canonical JSON, hex (`LedgerState.digest()`).
    public var digest: String
    /// The state's canonical JSON.
    public var state: [UInt8]
    /// The latest signed checkpoint note, or nil before the first append.
    public var checkpoint: String?
}

/// The node's log, whose entries are ledger entries (docs/ledger.md), kept in `node.sqlite` through
/// MurmurLog's `SQLiteLogStorage`, and the ledger replayed from it. Appends publish a signed checkpoint
/// and store a state snapshot in `node_ledger`. Why: the log operator role; a restart replays the log and
/// checks it against the snapshot, so a node resumes exactly where it stopped.
public actor NodeLedger {
    let log: TileLog
    let signer: NoteSigner
    let store: NodeStore
    var ledger: Ledger
    /// The verifier key for the node's checkpoints (`name+id+base64`).
    public nonisolated let verifierKey: String
    /// The log's origin line.
    public nonisolated let origin: String

    /// Opens the log in `store`'s file (creating it for `origin`), replays it, and compares with the stored snapshot.
    /// `signer` signs checkpoints; a log already created under another origin is an error.
    public init(store: NodeStore, origin: String, signer: NoteSigner) throws(NodeError) {
        self.store = store
        self.signer = signer
        self.origin = origin
        verifierKey = signer.verifierKey.description
        do { log = try TileLog(storage: SQLiteLogStorage(path: store.path), origin: origin) } catch {
            throw .storage("the node log in \(store.path): \(error)")
        }
        var replay = Ledger()
        do {
            for i in 0..<log.size { _ = try replay.apply(log.entry(at: i)) }
        } catch { throw .storage("replaying the node log: \(error)") }
        // Publish (or re-find) the checkpoint for the current size: covers a fresh log and a crash between append and checkpoint.
        do { _ = try log.checkpoint(signer: signer) } catch { throw .storage("publishing the node log's checkpoint: \(error)") }
        ledger = replay
        let snap = try Self.snapshot(of: replay, size: log.size)
        if let stored = try store.ledgerSnapshot(), stored.size == snap.size, stored.digest != snap.digest {
            throw .storage("the stored ledger state (digest \(stored.digest)) differs from the replayed log (\(snap.digest)) at size \(snap.size)")
        }
        try store.saveLedgerSnapshot(snap)
    }

    /// A new log signer for a node, named after its origin.
    public static func makeSigner(origin: String) throws(NodeError) -> NoteSigner {
        do { return try NoteSigner(name: origin) } catch { throw .identity("cannot create a log key for '\(origin)': \(error)") }
    }

    /// Entries in the log.
    public var size: UInt64 { log.size }

    /// The replayed state.
    public var state: LedgerState { ledger.state }

    /// Appends `records` as one batch, publishes a checkpoint, stores the new snapshot; outcomes say which were rejected.
    /// Why: the round engine writes model versions, contributions and rewards here.
    @discardableResult
    public func append(_ records: [LedgerRecord]) throws(NodeError) -> [RecordOutcome] {
        guard !records.isEmpty else { return [] }
        var next = ledger
        var entries = [[UInt8]]()
        var outcomes = [RecordOutcome]()
        do {
            for r in records {
                let bytes = LedgerEntry(sequence: next.nextSequence, previous: next.head, record: r).encoded
                outcomes.append(try next.apply(bytes))
                entries.append(bytes)
            }
            try log.append(entries)
            _ = try log.checkpoint(signer: signer)
        } catch { throw .storage("appending to the node log: \(error)") }
        ledger = next
        try store.saveLedgerSnapshot(Self.snapshot(of: next, size: log.size))
        return outcomes
    }

    /// Appends one federated round as one batch signed by `coordinator` (`Ledger.roundBatch`:
    /// model version, contributions, reward), as `LedgerWriter.recordRound` does for a ledger directory.
    /// Why: the aggregator's `FederationEngine` records every round in the node's log.
    @discardableResult
    public func appendRound(_ version: ModelVersion, contributions: [Contribution], coordinator: Identity) throws(NodeError) -> [RecordOutcome] {
        let records: [LedgerRecord]
        do { records = try ledger.roundBatch(version, contributions: contributions, coordinator: coordinator).records } catch {
            throw .storage("building round \(version.round)'s ledger records: \(error)")
        }
        return try append(records)
    }

    /// The state, digest, size and latest checkpoint.
    public func snapshot() throws(NodeError) -> LedgerSnapshot {
        var s = try Self.snapshot(of: ledger, size: log.size)
        do { s.checkpoint = try log.latestCheckpoint() } catch { throw .storage("reading the checkpoint: \(error)") }
        return s
    }

    /// Gets the current checkpoint cosigned by the tlog-witness at `url` (c2sp.org/tlog-witness), checks the
    /// cosignature against `key` and stores it with the checkpoint; returns the cosigned note.
    /// Why: the log operator collects witness cosignatures so clients can trust a checkpoint (issue 11, item 2).
    public func cosign(witness url: URL, key: VerifierKey) async throws(NodeError) -> String {
        let size = log.size
        let note: Note
        do { note = try log.checkpoint(signer: signer) } catch { throw .storage("signing the checkpoint: \(error)") }
        let client = WitnessClient(url: url)
        var old: UInt64 = 0
        for _ in 0..<2 {
            let proof: [LogHash]
            do { proof = old == 0 ? [] : try log.consistencyProof(from: old, to: size) } catch { throw .storage("consistency proof from \(old): \(error)") }
            let answer: WitnessClient.Answer
            do { answer = try await client.submit(note: note, oldSize: old, proof: proof) } catch { throw .witness("witness \(url): \(error)") }
            switch answer {
            case .cosigned(let lines):
                do {
                    let cosigned = try log.addCosignatures(lines, size: size, witnesses: [key])
                    guard cosigned.signatures.contains(where: { $0.name == key.name && $0.keyID == key.keyID }) else {
                        throw NodeError.witness("the witness answered, but not with a cosignature by \(key.name)")
                    }
                    return cosigned.serialized
                } catch let e as NodeError { throw e } catch { throw .witness("the cosignature by \(key.name) does not verify: \(error)") }
            case .conflict(let known):
                guard known <= size else { throw .witness("witness \(url) has cosigned size \(known), beyond this log's \(size): a split view?") }
                old = known
            case .refused(let status, let message):
                throw .witness("witness \(url) refused (\(status)): \(message)")
            }
        }
        throw .witness("witness \(url): its size changed twice while submitting")
    }

    static func snapshot(of ledger: Ledger, size: UInt64) throws(NodeError) -> LedgerSnapshot {
        do {
            return LedgerSnapshot(size: size, head: ledger.head.hex, digest: try ledger.state.digest(),
                                  state: try ledger.state.canonicalJSON(), checkpoint: nil)
        } catch { throw .storage("encoding the ledger state: \(error)") }
    }
}

extension NodeStore {
    /// The last stored ledger snapshot (without the checkpoint), or nil before the first start.
    public func ledgerSnapshot() throws(NodeError) -> LedgerSnapshot? {
        try run("reading the ledger snapshot") {
            try db.read { db in
                try Row.fetchOne(db, sql: "SELECT size, head, digest, state FROM node_ledger WHERE id = 1").map { r in
                    let size: Int64 = r["size"], state: Data = r["state"]
                    return LedgerSnapshot(size: UInt64(size), head: r["head"], digest: r["digest"], state: Array(state), checkpoint: nil)
                }
            }
        }
    }

    func saveLedgerSnapshot(_ s: LedgerSnapshot) throws(NodeError) {
        try run("writing the ledger snapshot") {
            try db.write {
                try $0.execute(sql: "INSERT OR REPLACE INTO node_ledger (id, size, head, digest, state) VALUES (1, ?, ?, ?, ?)",
                               arguments: [Int64(s.size), s.head, s.digest, Data(s.state)])
            }
        }
    }
}
