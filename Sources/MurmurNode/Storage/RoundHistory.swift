import Foundation
import GRDB

/// Where a federated round stands.
public enum RoundStatus: String, Codable, Sendable {
    /// Clients are training or the aggregator is collecting.
    case running
    /// A new model was published.
    case completed
    /// The round was abandoned (too few clients, a timeout); `detail` says why.
    case failed
}

/// One round as the node saw it; the round engine records it, `GET /v1/rounds` lists them.
/// Why: the node's view of training progress survives restarts (it lives in `node.sqlite`).
public struct RoundSummary: Codable, Sendable, Equatable {
    /// The round number (0-based, as in the ledger).
    public var round: Int
    /// Running, completed or failed.
    public var status: RoundStatus
    /// The model CID the round produced (or trains), if any.
    public var model: String?
    /// Clients that contributed (or were selected, while running).
    public var participants: Int
    /// Test accuracy of the new model, if evaluated.
    public var accuracy: Double?
    /// Privacy spent so far (ε), if the federation uses DP.
    public var epsilon: Double?
    /// Unix seconds.
    public var startedAt: Int64
    /// Unix seconds, once completed or failed.
    public var finishedAt: Int64?
    /// Why it failed, or a note.
    public var detail: String?

    /// A record; `startedAt` defaults to now.
    public init(round: Int, status: RoundStatus, model: String? = nil, participants: Int = 0, accuracy: Double? = nil,
                epsilon: Double? = nil, startedAt: Int64 = Int64(Date().timeIntervalSince1970), finishedAt: Int64? = nil, detail: String? = nil) {
        self.round = round; self.status = status; self.model = model; self.participants = participants
        self.accuracy = accuracy; self.epsilon = epsilon; self.startedAt = startedAt; self.finishedAt = finishedAt; self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case round, status, model, participants, accuracy, epsilon
        case startedAt = "started_at", finishedAt = "finished_at", detail
    }
}

extension NodeStore {
    /// Inserts or replaces the record for `record.round`.
    public func recordRound(_ record: RoundSummary) throws(NodeError) {
        let body: String
        do { body = String(decoding: try JSONEncoder().encode(record), as: UTF8.self) } catch { throw .storage("encoding round \(record.round): \(error)") }
        try run("writing round \(record.round)") {
            try db.write {
                try $0.execute(sql: "INSERT OR REPLACE INTO node_round (round, status, body) VALUES (?, ?, ?)",
                               arguments: [record.round, record.status.rawValue, body])
            }
        }
    }

    /// Rounds, newest first; at most `limit`.
    public func rounds(limit: Int = 100) throws(NodeError) -> [RoundSummary] {
        try run("reading rounds") {
            try db.read { db in
                try String.fetchAll(db, sql: "SELECT body FROM node_round ORDER BY round DESC LIMIT ?", arguments: [limit]).map {
                    try JSONDecoder().decode(RoundSummary.self, from: Data($0.utf8))
                }
            }
        }
    }

    /// How many rounds completed.
    public func completedRounds() throws(NodeError) -> Int {
        try run("counting rounds") {
            try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM node_round WHERE status = 'completed'") ?? 0 }
        }
    }
}
