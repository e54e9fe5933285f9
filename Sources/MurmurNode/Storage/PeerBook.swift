import Foundation
import GRDB

/// A peer the node has met: its id, the addresses it can be dialed at, how it was learned, when it was seen.
/// Why: the peer book survives restarts so a node reconnects without its bootstrap list.
public struct PeerRecord: Codable, Sendable, Equatable {
    /// The libp2p peer id (base58 multihash).
    public var peerID: String
    /// Multiaddrs without `/p2p/…`, newest last.
    public var addresses: [String]
    /// "bootstrap", "admin", "inbound" or "dialed".
    public var source: String
    /// Unix seconds.
    public var firstSeen: Int64
    /// Unix seconds.
    public var lastSeen: Int64

    enum CodingKeys: String, CodingKey {
        case peerID = "peer_id", addresses, source, firstSeen = "first_seen", lastSeen = "last_seen"
    }
}

extension NodeStore {
    /// At most this many addresses are kept per peer (a peer cannot grow the book without limit).
    public static let maxAddressesPerPeer = 8

    /// Records that `peer` was seen at `addresses` (merged with the known ones, newest last).
    public func rememberPeer(_ peer: String, addresses: [String], source: String) throws(NodeError) {
        try run("writing the peer book") {
            try db.write { db in
                let now = Self.now
                if let row = try Row.fetchOne(db, sql: "SELECT addresses FROM node_peer WHERE peer_id = ?", arguments: [peer]) {
                    let old: String = row["addresses"]
                    var known = (try? JSONDecoder().decode([String].self, from: Data(old.utf8))) ?? []
                    for a in addresses where !known.contains(a) { known.append(a) }
                    known = Array(known.suffix(Self.maxAddressesPerPeer))
                    try db.execute(sql: "UPDATE node_peer SET addresses = ?, last_seen = ? WHERE peer_id = ?",
                                   arguments: [Self.encode(known), now, peer])
                } else {
                    try db.execute(sql: "INSERT INTO node_peer (peer_id, addresses, source, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
                                   arguments: [peer, Self.encode(Array(addresses.suffix(Self.maxAddressesPerPeer))), source, now, now])
                }
            }
        }
    }

    /// Every peer in the book, most recently seen first.
    public func peers() throws(NodeError) -> [PeerRecord] {
        try run("reading the peer book") {
            try db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM node_peer ORDER BY last_seen DESC, peer_id").map { r in
                    let a: String = r["addresses"]
                    return PeerRecord(peerID: r["peer_id"], addresses: (try? JSONDecoder().decode([String].self, from: Data(a.utf8))) ?? [],
                                      source: r["source"], firstSeen: r["first_seen"], lastSeen: r["last_seen"])
                }
            }
        }
    }

    static func encode(_ list: [String]) -> String {
        (try? String(decoding: JSONEncoder().encode(list), as: UTF8.self)) ?? "[]"
    }
}

extension NodeStore {
    static let peerScorePrefix = "peer-score/"

    /// Stores a peer's (or address's) score, e.g. when it is refused, so a restarted node keeps refusing it.
    public func savePeerScore(_ record: PeerScoreRecord) throws(NodeError) {
        let body: String
        do { body = String(decoding: try JSONEncoder().encode(record), as: UTF8.self) } catch { throw .storage("encoding the score of \(record.peer): \(error)") }
        try setMetadata(Self.peerScorePrefix + record.peer, body)
    }

    /// The stored peer scores (unreadable ones are skipped).
    public func peerScores() throws(NodeError) -> [PeerScoreRecord] {
        try run("reading peer scores") {
            try db.read { db in
                try String.fetchAll(db, sql: "SELECT value FROM node_meta WHERE key >= ? AND key < ? ORDER BY key",
                                    arguments: [Self.peerScorePrefix, "peer-score0"]).compactMap {
                    try? JSONDecoder().decode(PeerScoreRecord.self, from: Data($0.utf8))
                }
            }
        }
    }
}
