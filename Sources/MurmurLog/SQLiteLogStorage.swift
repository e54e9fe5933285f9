import Foundation
import GRDB

/// The embedded log store: one SQLite file in WAL mode with `synchronous=FULL`, so each commit is fsynced.
/// Tiles and bundles are stored at their widest version; narrower partial tiles are prefixes of it.
public final class SQLiteLogStorage: LogStorage {
    let db: DatabaseQueue

    /// How every Murmur SQLite file is opened: WAL, fully synchronous commits, a 10 s busy
    /// timeout (the log and a node's own tables share one file, so they must agree).
    public static func databaseConfiguration() -> Configuration {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return config
    }

    /// Opens (creating if needed) the database at `path`.
    public init(path: String) throws {
        do {
            db = try DatabaseQueue(path: path, configuration: Self.databaseConfiguration())
            try db.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS tile (level INTEGER NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL,
                        digest BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS bundle (idx INTEGER PRIMARY KEY, data BLOB NOT NULL, digest BLOB NOT NULL);
                    CREATE TABLE IF NOT EXISTS checkpoint (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
                    CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, root BLOB NOT NULL);
                    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    """)
            }
        } catch {
            throw LogStoreError.backend("cannot open \(path): \(error)")
        }
    }

    func run<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as LogStoreError { throw e } catch { throw LogStoreError.backend("\(what): \(error)") }
    }

    static func blob(_ row: Row?) throws -> StoredBlob? {
        guard let row else { return nil }
        let data: Data = row["data"], digest: Data = row["digest"]
        guard let d = LogHash(bytes: digest) else { throw LogStoreError.corrupt("a stored digest is \(digest.count) bytes, not 32") }
        return StoredBlob(data: Array(data), digest: d)
    }

    public func loadState() throws -> LogTreeState? {
        try run("reading state") {
            try db.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT size, root FROM state WHERE id = 1") else { return nil }
                let size: Int64 = row["size"], root: Data = row["root"]
                guard let r = LogHash(bytes: root), size >= 0 else { throw LogStoreError.corrupt("the stored tree state is malformed") }
                return LogTreeState(size: UInt64(size), root: r)
            }
        }
    }

    public func readTile(level: Int, index: UInt64) throws -> StoredBlob? {
        try run("reading a tile") {
            try db.read { db in
                try Self.blob(Row.fetchOne(db, sql: "SELECT data, digest FROM tile WHERE level = ? AND idx = ?", arguments: [level, Int64(index)]))
            }
        }
    }

    public func readBundle(index: UInt64) throws -> StoredBlob? {
        try run("reading an entry bundle") {
            try db.read { db in
                try Self.blob(Row.fetchOne(db, sql: "SELECT data, digest FROM bundle WHERE idx = ?", arguments: [Int64(index)]))
            }
        }
    }

    public func commit(_ batch: LogBatch) throws {
        try run("committing a batch") {
            try db.write { db in
                let t = try db.cachedStatement(sql: "INSERT OR REPLACE INTO tile (level, idx, data, digest) VALUES (?, ?, ?, ?)")
                for (l, i, b) in batch.tiles {
                    try t.execute(arguments: [l, Int64(i), Data(b.data), Data(b.digest.bytes)])
                }
                let e = try db.cachedStatement(sql: "INSERT OR REPLACE INTO bundle (idx, data, digest) VALUES (?, ?, ?)")
                for (i, b) in batch.bundles {
                    try e.execute(arguments: [Int64(i), Data(b.data), Data(b.digest.bytes)])
                }
                try db.execute(sql: "INSERT OR REPLACE INTO state (id, size, root) VALUES (1, ?, ?)",
                               arguments: [Int64(batch.state.size), Data(batch.state.root.bytes)])
            }
        }
    }

    public func addCheckpoint(size: UInt64, note: String) throws {
        try run("storing a checkpoint") {
            try db.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO checkpoint (size, note) VALUES (?, ?)", arguments: [Int64(size), note])
            }
        }
    }

    public func checkpoints() throws -> [(size: UInt64, note: String)] {
        try run("reading checkpoints") {
            try db.read { db in
                try Row.fetchAll(db, sql: "SELECT size, note FROM checkpoint ORDER BY size").map { row in
                    let s: Int64 = row["size"], n: String = row["note"]
                    return (UInt64(s), n)
                }
            }
        }
    }

    public func metadata(_ key: String) throws -> String? {
        try run("reading metadata") {
            try db.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
        }
    }

    public func setMetadata(_ key: String, _ value: String) throws {
        try run("writing metadata") {
            try db.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
            }
        }
    }

    /// Runs raw SQL; for tests that simulate disk corruption.
    func executeForTesting(_ sql: String, _ arguments: StatementArguments = []) throws {
        try db.write { try $0.execute(sql: sql, arguments: arguments) }
    }
}
