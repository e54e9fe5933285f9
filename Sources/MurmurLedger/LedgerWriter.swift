import MurmurCore
import MurmurLog

/// A federation's ledger on disk: a MurmurLog directory (`DIR/log.db`, `log.key`, `log.vkey`) whose
/// entries are ledger entries, with the replayed state kept in memory. It appends signed records in
/// batches and publishes a signed checkpoint after each batch.
/// Why: the simulation (and later a coordinator node) writes its rounds here; `murmur ledger verify` replays it.
/// One writer per directory; not shared across tasks.
public final class LedgerWriter {
    /// The directory.
    public let directory: LogDirectory
    let log: TileLog
    let signer: NoteSigner
    /// The replayed ledger, including every record this writer appended.
    public private(set) var ledger: Ledger

    /// The log stores an entry's length in 16 bits (C2SP tlog-tiles entry bundles).
    public static let maxEntryBytes = 65_535

    /// Creates `path` with a new log named `origin`, appends `genesis` signed by `founder` and publishes a checkpoint.
    public static func create(path: String, origin: String, genesis: Genesis, founder: Identity,
                              signatureCheck: SignatureCheck = .ed25519) throws -> LedgerWriter {
        let w = try create(path: path, origin: origin, signatureCheck: signatureCheck)
        let outcome = try w.append([LedgerRecord.sign(genesis, by: founder)])
        if let r = outcome.first?.rejection { throw LedgerError.write("the genesis record is invalid: \(r)") }
        return w
    }

    /// Creates `path` with a new, empty log named `origin`; the first record appended must be a genesis.
    public static func create(path: String, origin: String, signatureCheck: SignatureCheck = .ed25519) throws -> LedgerWriter {
        let dir: LogDirectory
        do { dir = try LogDirectory.create(path: path, origin: origin) } catch { throw LedgerError.invalidDirectory("\(error)") }
        return try LedgerWriter(directory: dir, ledger: Ledger(signatureCheck: signatureCheck))
    }

    /// Opens an existing ledger directory and replays it (verifying it against its checkpoints).
    public convenience init(path: String, signatureCheck: SignatureCheck = .ed25519) throws {
        let v = try LedgerVerifier.verify(path: path, keepOutcomes: false, signatureCheck: signatureCheck)
        try self.init(directory: LogDirectory(path: path), ledger: v.ledger)
    }

    init(directory: LogDirectory, ledger: Ledger) throws {
        self.directory = directory
        do {
            log = try directory.open()
            signer = try directory.signer()
        } catch { throw LedgerError.invalidDirectory("\(error)") }
        self.ledger = ledger
    }

    /// The replayed state.
    public var state: LedgerState { ledger.state }

    /// Appends records as one batch (one transaction), then signs and publishes a checkpoint.
    /// Invalid records are appended too (the log keeps them); their outcomes say why they were rejected.
    @discardableResult
    public func append(_ records: [LedgerRecord]) throws -> [RecordOutcome] {
        guard !records.isEmpty else { return [] }
        var next = ledger
        var entries: [[UInt8]] = []
        var outcomes: [RecordOutcome] = []
        entries.reserveCapacity(records.count)
        for r in records {
            let bytes = LedgerEntry(sequence: next.nextSequence, previous: next.head, record: r).encoded
            guard bytes.count <= Self.maxEntryBytes else {
                throw LedgerError.write("a \(r.schema) entry is \(bytes.count) bytes; the log stores at most \(Self.maxEntryBytes) per entry (about 1000 peer ids)")
            }
            outcomes.append(try next.apply(bytes))
            entries.append(bytes)
        }
        do {
            try log.append(entries)
            _ = try log.checkpoint(signer: signer)
        } catch { throw LedgerError.write("\(error)") }
        ledger = next
        return outcomes
    }

    /// Signs `body` with `author` and appends it as a batch of one.
    @discardableResult
    public func append<B: RecordBody>(_ body: B, by author: Identity) throws -> RecordOutcome {
        try append([LedgerRecord.sign(body, by: author)])[0]
    }

    /// Appends one federated round as one batch, signed by `coordinator`: its model-version record, one
    /// contribution record per scored participant, and the reward record `RewardPolicy` gives for them under
    /// the parameters in effect for the round. Returns the outcomes (model-version first) and the reward.
    /// Why: the simulation calls this once per round; replay re-derives the same reward.
    @discardableResult
    public func recordRound(_ version: ModelVersion, contributions: [Contribution], coordinator: Identity) throws -> (outcomes: [RecordOutcome], reward: Reward) {
        let (records, reward) = try ledger.roundBatch(version, contributions: contributions, coordinator: coordinator)
        let outcomes = try append(records)
        return (outcomes, reward)
    }

    /// The latest signed checkpoint note (C2SP tlog-checkpoint), as published after the last batch.
    public func latestCheckpoint() throws -> String {
        guard let note = try log.latestCheckpoint() else { throw LedgerError.checkpoint("no checkpoint published yet") }
        return note
    }

    /// The log's verifier key (`name+hex(id)+base64(key)`), to hand to anyone who verifies the ledger.
    public func verifierKey() throws -> String { try directory.verifierKey().description }
}

extension Ledger {
    /// The batch that records one federated round after this ledger: `version`, `contributions`
    /// and the reward `RewardPolicy` gives for them (computed on a scratch copy), all signed by
    /// `coordinator`. Why: `LedgerWriter.recordRound` and a node's own log (MurmurNode's
    /// `NodeLedger`) append the same records for the same round.
    public func roundBatch(_ version: ModelVersion, contributions: [Contribution], coordinator: Identity) throws -> (records: [LedgerRecord], reward: Reward) {
        let records = try [LedgerRecord.sign(version, by: coordinator)] + contributions.map { try LedgerRecord.sign($0, by: coordinator) }
        var scratch = self
        for r in records {
            try scratch.apply(LedgerEntry(sequence: scratch.nextSequence, previous: scratch.head, record: r).encoded)
        }
        let reward = RewardPolicy(scratch.state.parameters).rewards(round: version.round, contributions: Array(scratch.state.openRound.contributions.values))
        return (records + [try LedgerRecord.sign(reward, by: coordinator)], reward)
    }
}
