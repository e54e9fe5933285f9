/// The size and root of the integrated tree, as last committed.
public struct LogTreeState: Sendable, Equatable {
    /// Number of entries.
    public var size: UInt64
    /// MTH(D[0:size]).
    public var root: LogHash
    /// A state.
    public init(size: UInt64, root: LogHash) { self.size = size; self.root = root }
}

/// A stored blob (a tile or an entry bundle) with the SHA-256 of its bytes, checked on every read
/// so a flipped byte on disk is reported as corruption instead of being served.
public struct StoredBlob: Sendable, Equatable {
    /// The bytes.
    public var data: [UInt8]
    /// SHA-256(data), written with the data.
    public var digest: LogHash
    /// A blob with its digest computed.
    public init(data: [UInt8]) { self.data = data; self.digest = RFC9162.sha256(data) }
    /// A blob as read back from storage.
    public init(data: [UInt8], digest: LogHash) { self.data = data; self.digest = digest }
}

/// Everything one integrated batch writes; a storage commits it atomically and durably.
public struct LogBatch: Sendable {
    /// Hash tiles (widest version) keyed by (level, index).
    public var tiles: [(level: Int, index: UInt64, blob: StoredBlob)] = []
    /// Entry bundles (widest version) keyed by index.
    public var bundles: [(index: UInt64, blob: StoredBlob)] = []
    /// The new tree state.
    public var state: LogTreeState
    /// An empty batch ending in `state`.
    public init(state: LogTreeState) { self.state = state }
}

/// Where a log keeps its tiles, entry bundles, state and published checkpoints.
/// SQLite (`SQLiteLogStorage`) is the embedded default; a PostgreSQL backend implements the same calls.
public protocol LogStorage: AnyObject {
    /// The committed tree state, or nil for a log never written.
    func loadState() throws -> LogTreeState?
    /// The widest stored version of hash tile (level, index), or nil.
    func readTile(level: Int, index: UInt64) throws -> StoredBlob?
    /// The widest stored version of entry bundle `index`, or nil.
    func readBundle(index: UInt64) throws -> StoredBlob?
    /// Writes tiles, bundles and state in one transaction; durable (fsynced) when it returns.
    func commit(_ batch: LogBatch) throws
    /// Records a published checkpoint note (its tree size is the key).
    func addCheckpoint(size: UInt64, note: String) throws
    /// Every checkpoint ever published, by size.
    func checkpoints() throws -> [(size: UInt64, note: String)]
    /// A metadata value (e.g. the origin), or nil.
    func metadata(_ key: String) throws -> String?
    /// Sets a metadata value.
    func setMetadata(_ key: String, _ value: String) throws
}

/// Why the log's storage refused or failed.
public enum LogStoreError: Error, Equatable, CustomStringConvertible {
    /// Stored bytes do not hash to what was written: the database is corrupt and the data is not served.
    case corrupt(String)
    /// The requested tile, bundle or entry is not in the tree (yet).
    case notFound(String)
    /// The SQLite (or other) backend failed.
    case backend(String)
    /// The log directory or its files are missing or invalid.
    case invalidLog(String)

    public var description: String {
        switch self {
        case .corrupt(let m): return "log storage is corrupt (hash mismatch): \(m); restore the database from a backup or a mirror"
        case .notFound(let m): return "not found: \(m)"
        case .backend(let m): return "log storage failed: \(m)"
        case .invalidLog(let m): return m
        }
    }
}
