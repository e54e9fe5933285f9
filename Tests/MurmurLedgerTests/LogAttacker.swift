import Foundation
import MurmurCore
@testable import MurmurLog

/// Rewrites a ledger directory's SQLite database the way an attacker with write access to the files would.
enum LogAttacker {
    /// Naive: changes bytes inside one entry's bundle and fixes the bundle's stored SHA-256, leaving the hash tiles alone.
    static func editBundle(_ dir: String, entry: UInt64, replacing old: String, with new: String) throws {
        let storage = try SQLiteLogStorage(path: dir + "/log.db")
        guard let blob = try storage.readBundle(index: entry >> 8) else { throw Failure("no bundle for entry \(entry)") }
        let data = Data(blob.data)
        guard let range = data.range(of: Data(old.utf8)) else { throw Failure("'\(old)' is not in the bundle") }
        var edited = data
        edited.replaceSubrange(range, with: Data(new.utf8))
        try storage.executeForTesting("UPDATE bundle SET data = ?, digest = ? WHERE idx = ?",
                                      [edited, Data(RFC9162.sha256(Array(edited)).bytes), Int64(entry >> 8)])
    }

    /// Thorough: rebuilds the database from `transform(entries)` so that tiles, bundles, root and state are all
    /// consistent with each other, and copies the old signed checkpoints back in (the log key stays secret).
    static func rebuild(_ dir: String, _ transform: ([[UInt8]]) throws -> [[UInt8]]) throws {
        let (entries, checkpoints, origin) = try read(dir)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dir + "/log.db" + suffix) }
        let storage = try SQLiteLogStorage(path: dir + "/log.db")
        let log = try TileLog(storage: storage, origin: origin)
        try log.append(transform(entries))
        for (size, note) in checkpoints { try storage.addCheckpoint(size: size, note: note) }
    }

    /// Replaces the first occurrence of `old` in entry `index` (same length keeps the bundle layout simple).
    static func edit(_ entries: [[UInt8]], _ index: Int, _ old: String, _ new: String) -> [[UInt8]] {
        var e = entries
        e[index] = Array(String(decoding: e[index], as: UTF8.self).replacingOccurrences(of: old, with: new).utf8)
        return e
    }

    private static func read(_ dir: String) throws -> ([[UInt8]], [(size: UInt64, note: String)], String) {
        let log = try LogDirectory(path: dir).open()
        return (try (0..<log.size).map { try log.entry(at: $0) }, try log.publishedCheckpoints(), log.origin)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }
}
