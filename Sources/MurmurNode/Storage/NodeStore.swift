import Foundation
import GRDB
import MurmurLog

/// The node's tables in `DATA_DIR/node.sqlite`, next to MurmurLog's (tile, bundle, checkpoint, state, meta):
/// the peer book, the block index, the round history, the ledger-state snapshot and node metadata.
/// Why: one SQLite file per node (issue 11) so a restarted node resumes; tables are created by GRDB migrations.
public final class NodeStore: Sendable {
    let db: DatabaseQueue
    /// The SQLite file.
    public let path: String

    /// Opens (creating if needed) `path` in WAL mode and runs the node migrations.
    public init(path: String) throws(NodeError) {
        self.path = path
        do {
            db = try DatabaseQueue(path: path, configuration: SQLiteLogStorage.databaseConfiguration())
            try Self.migrator.migrate(db)
        } catch {
            throw .storage("cannot open \(path): \(error)")
        }
    }

    /// The schema, one migration per change; names are never reused (GRDB records the applied ones).
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("node-v1") { db in
            try db.execute(sql: """
                CREATE TABLE node_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE node_peer (peer_id TEXT PRIMARY KEY, addresses TEXT NOT NULL, source TEXT NOT NULL,
                    first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
                CREATE TABLE node_block (cid TEXT PRIMARY KEY, kind TEXT NOT NULL, data BLOB NOT NULL,
                    size INTEGER NOT NULL, added INTEGER NOT NULL);
                CREATE TABLE node_round (round INTEGER PRIMARY KEY, status TEXT NOT NULL, body TEXT NOT NULL);
                CREATE TABLE node_ledger (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL,
                    head TEXT NOT NULL, digest TEXT NOT NULL, state BLOB NOT NULL);
                """)
        }
        // Receipts this node issued (the last `ReceiptJournal.capacity`, served on /murmur/receipts/1)
        // and the verifier role's spot-check tallies per device (docs/node.md, "Spot checks").
        m.registerMigration("node-v2-receipts") { db in
            try db.execute(sql: """
                CREATE TABLE node_receipt (seq INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL, input BLOB NOT NULL,
                    added INTEGER NOT NULL);
                CREATE TABLE node_spot_check (device TEXT PRIMARY KEY, checked INTEGER NOT NULL, failed INTEGER NOT NULL,
                    unavailable INTEGER NOT NULL, reasons TEXT NOT NULL, reputation INTEGER NOT NULL,
                    last_check INTEGER NOT NULL, cursor INTEGER NOT NULL);
                """)
        }
        return m
    }

    /// The names of the applied migrations (for tests and `GET /v1/status`).
    public func appliedMigrations() throws(NodeError) -> [String] {
        try run("reading migrations") { try db.read { try Array(Self.migrator.appliedIdentifiers($0)).sorted() } }
    }

    func run<T>(_ what: String, _ body: () throws -> T) throws(NodeError) -> T {
        do { return try body() } catch let e as NodeError { throw e } catch { throw .storage("\(what): \(error)") }
    }

    /// A node setting kept across restarts (e.g. the start count), or nil.
    public func metadata(_ key: String) throws(NodeError) -> String? {
        try run("reading metadata") {
            try db.read { try String.fetchOne($0, sql: "SELECT value FROM node_meta WHERE key = ?", arguments: [key]) }
        }
    }

    /// Stores a node setting.
    public func setMetadata(_ key: String, _ value: String) throws(NodeError) {
        try run("writing metadata") {
            try db.write { try $0.execute(sql: "INSERT OR REPLACE INTO node_meta (key, value) VALUES (?, ?)", arguments: [key, value]) }
        }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }
}
