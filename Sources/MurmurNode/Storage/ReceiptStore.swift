import Foundation
import GRDB

/// One inference receipt this node issued, with the input row it answered.
/// Why: a verifier can only re-execute a receipt with its input (the receipt holds only the input's digest).
public struct IssuedReceipt: Sendable, Equatable {
    /// Position in this node's receipt journal (increasing, never reused).
    public var sequence: Int64
    /// The receipt's canonical JSON line (MurmurVerify `Receipt.jsonLine`).
    public var line: String
    /// The input row.
    public var input: [Float]

    /// A journal entry.
    public init(sequence: Int64, line: String, input: [Float]) {
        self.sequence = sequence; self.line = line; self.input = input
    }
}

/// What the verifier role found about one device's receipts, summed over every check batch.
/// Why: `GET /v1/spot-checks` answers from it and a restarted verifier resumes after `cursor`.
public struct SpotCheckTally: Codable, Sendable, Equatable {
    /// The device's peer id.
    public var device: String
    /// Receipts re-executed.
    public var checked: Int = 0
    /// Receipts rejected.
    public var failed: Int = 0
    /// Receipts chosen but not checked because the verifier could not get their model.
    public var modelUnavailable: Int = 0
    /// Rejection codes seen (sorted, unique).
    public var reasons: [String] = []
    /// The reputation deltas recorded for it: +1 per accepted check, −20 per failure.
    public var reputation: Int = 0
    /// Unix seconds of the last check batch.
    public var lastCheck: Int64 = 0
    /// The device's last receipt sequence already pulled.
    public var cursor: Int64 = 0

    /// An empty tally for `device`.
    public init(device: String) { self.device = device }

    enum CodingKeys: String, CodingKey {
        case device, checked, failed, modelUnavailable = "model_unavailable", reasons, reputation
        case lastCheck = "last_check", cursor
    }
}

extension NodeStore {
    /// Appends issued receipts and keeps only the newest `keep`; returns their sequence numbers.
    @discardableResult
    public func appendReceipts(_ entries: [(line: String, input: [Float])], keep: Int) throws(NodeError) -> [Int64] {
        guard !entries.isEmpty else { return [] }
        return try run("writing receipts") {
            try db.write { db in
                var seqs = [Int64]()
                for e in entries {
                    try db.execute(sql: "INSERT INTO node_receipt (line, input, added) VALUES (?, ?, ?)",
                                   arguments: [e.line, Data(FloatBytes.encode(e.input)), Self.now])
                    seqs.append(db.lastInsertedRowID)
                }
                if let last = seqs.last {
                    try db.execute(sql: "DELETE FROM node_receipt WHERE seq <= ?", arguments: [last - Int64(max(1, keep))])
                }
                return seqs
            }
        }
    }

    /// Up to `limit` receipts after sequence `since`, oldest first.
    public func receipts(since: Int64, limit: Int) throws(NodeError) -> [IssuedReceipt] {
        try run("reading receipts") {
            try db.read { db in
                try Row.fetchAll(db, sql: "SELECT seq, line, input FROM node_receipt WHERE seq > ? ORDER BY seq LIMIT ?",
                                 arguments: [since, max(0, limit)]).map { row in
                    let input: Data = row["input"]
                    return IssuedReceipt(sequence: row["seq"], line: row["line"], input: FloatBytes.decode(Array(input)) ?? [])
                }
            }
        }
    }

    /// The spot-check tallies, by device.
    public func spotChecks() throws(NodeError) -> [SpotCheckTally] {
        try run("reading spot checks") {
            try db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM node_spot_check ORDER BY device").map { row in
                    var t = SpotCheckTally(device: row["device"])
                    t.checked = row["checked"]; t.failed = row["failed"]; t.modelUnavailable = row["unavailable"]
                    t.reasons = (row["reasons"] as String).split(separator: ",").map(String.init)
                    t.reputation = row["reputation"]; t.lastCheck = row["last_check"]; t.cursor = row["cursor"]
                    return t
                }
            }
        }
    }

    /// Stores `tally` (replacing the device's previous one).
    public func saveSpotCheck(_ t: SpotCheckTally) throws(NodeError) {
        try run("writing a spot check") {
            try db.write {
                try $0.execute(sql: """
                    INSERT OR REPLACE INTO node_spot_check (device, checked, failed, unavailable, reasons, reputation, last_check, cursor)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [t.device, t.checked, t.failed, t.modelUnavailable, t.reasons.joined(separator: ","),
                                     t.reputation, t.lastCheck, t.cursor])
            }
        }
    }
}

/// Float rows as little-endian IEEE 754 binary32 bytes, bit-exact (a receipt's input digest is over the bits).
enum FloatBytes {
    static func encode(_ values: [Float]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }

    /// nil when the byte count is not a multiple of 4.
    static func decode(_ bytes: [UInt8]) -> [Float]? {
        guard bytes.count % 4 == 0 else { return nil }
        var out = [Float]()
        out.reserveCapacity(bytes.count / 4)
        for i in stride(from: 0, to: bytes.count, by: 4) {
            var bits = UInt32(bytes[i + 3])
            bits = bits << 8 | UInt32(bytes[i + 2])
            bits = bits << 8 | UInt32(bytes[i + 1])
            bits = bits << 8 | UInt32(bytes[i])
            out.append(Float(bitPattern: bits))
        }
        return out
    }
}
