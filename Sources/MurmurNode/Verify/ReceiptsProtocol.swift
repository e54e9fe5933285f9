import Foundation
import MurmurCore
import MurmurP2P

/// `/murmur/receipts/1`: a verifier asks a peer for the receipts it issued after a sequence number;
/// the peer answers with up to `limit` of them, each with the input it answered.
/// Why: spot checks need receipts and inputs from the devices themselves (issue 10 item 4).
///
/// One stream per request, one JSON message per direction, each side half-closes after writing
/// (as `/murmur/model/1`):
///
///     → {"limit":64,"since":0}                                          (≤ 256 bytes)
///     ← {"latest":17,"receipts":[{"input":"<base64 LE float32>","receipt":"<receipt line>","seq":1},…]}
///                                                                       (≤ 4 MiB)
///
/// A request that does not decode, or asks for a negative sequence or a limit outside 1…64, is a
/// malformed message (`P2PError.invalidFrame`): the stream is reset and the peer scored down by
/// `PeerGuard`.
public enum ReceiptsProtocol {
    /// The protocol id.
    public static let id = "/murmur/receipts/1"
    /// The largest request read.
    public static let maxRequestBytes = 256
    /// The most receipts per answer.
    public static let maxLimit = 64
    /// The largest answer written or read.
    public static let maxResponseBytes = 4 << 20

    /// What a verifier asks for.
    public struct Request: Codable, Sendable, Equatable {
        /// Receipts with a sequence number above this.
        public var since: Int64
        /// At most this many (1…`maxLimit`).
        public var limit: Int

        /// A request.
        public init(since: Int64, limit: Int) { self.since = since; self.limit = limit }
    }

    /// One receipt with its input.
    public struct Entry: Codable, Sendable, Equatable {
        /// The journal sequence number.
        public var seq: Int64
        /// The receipt's JSON line.
        public var receipt: String
        /// The input row, little-endian IEEE 754 binary32, base64.
        public var input: String

        /// The input as floats, or nil when it is not base64 of whole floats.
        public var inputValues: [Float]? { Data(base64Encoded: input).flatMap { FloatBytes.decode(Array($0)) } }
    }

    /// The answer.
    public struct Response: Codable, Sendable, Equatable {
        /// The newest sequence number the peer holds (0 if none).
        public var latest: Int64
        /// The receipts, oldest first.
        public var receipts: [Entry]
    }

    /// Serves one request from the node's receipt journal.
    public static func serve(_ stream: P2PStream, store: NodeStore) async throws {
        let bytes = try await stream.readToEnd(limit: maxRequestBytes)
        let request: Request
        do { request = try JSONDecoder().decode(Request.self, from: Data(bytes)) } catch {
            throw P2PError.invalidFrame("\(id): the request is not {\"since\":N,\"limit\":L} JSON")
        }
        guard request.since >= 0, (1...maxLimit).contains(request.limit) else {
            throw P2PError.invalidFrame("\(id): since must be ≥ 0 and limit in 1…\(maxLimit)")
        }
        let held = try store.receipts(since: request.since, limit: request.limit)
        var answer = Response(latest: try store.latestReceipt(), receipts: [])
        // An upper bound of the encoded size: a line's quotes and backslashes are escaped (at most
        // doubling it), base64 needs no escapes once slashes are not escaped.
        var size = 64
        for r in held {
            let e = Entry(seq: r.sequence, receipt: r.line, input: Data(FloatBytes.encode(r.input)).base64EncodedString())
            let entrySize = e.receipt.utf8.count * 2 + e.input.utf8.count + 64
            if entrySize + 64 > maxResponseBytes { continue }  // a row too large to serve (a very wide model): skipped
            guard size + entrySize <= maxResponseBytes else { break }
            size += entrySize
            answer.receipts.append(e)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        try await stream.write(Array(try encoder.encode(answer)))
        try await stream.closeWrite()
    }

    /// Why a fetch failed.
    public enum FetchError: Error, CustomStringConvertible, Sendable {
        /// The peer's answer does not decode or breaks the protocol's bounds (its fault).
        case malformedAnswer(String)
        /// No answer in time, or the stream failed (not necessarily the peer's fault).
        case unavailable(String)

        /// One line.
        public var description: String {
            switch self {
            case .malformedAnswer(let m): "malformed \(ReceiptsProtocol.id) answer: \(m)"
            case .unavailable(let m): "\(ReceiptsProtocol.id) unavailable: \(m)"
            }
        }
    }

    /// Asks `peer` for its receipts after `since`; checks the answer's shape (sequence numbers
    /// increasing and above `since`, at most `limit` entries).
    public static func fetch(from peer: PeerID, host: P2PHost, since: Int64, limit: Int, deadline: Duration) async throws(FetchError) -> Response {
        let request = Request(since: since, limit: min(max(1, limit), maxLimit))
        let outcome: DeadlineRace.Outcome<[UInt8]> = await DeadlineRace.exchange(host: host, peer: peer, protocolID: id, deadline: deadline) { stream in
            try await stream.write(try CanonicalJSON.encode(request))
            try await stream.closeWrite()
            return try await stream.readToEnd(limit: maxResponseBytes)
        }
        let bytes: [UInt8]
        switch outcome {
        case .finished(let b): bytes = b
        case .failed(P2PError.limitExceeded(let m)): throw .malformedAnswer(m)
        case .failed(let e): throw .unavailable("\(e)")
        case .timedOut: throw .unavailable("no answer within \(deadline)")
        }
        let answer: Response
        do { answer = try JSONDecoder().decode(Response.self, from: Data(bytes)) } catch { throw .malformedAnswer("\(error)") }
        guard answer.receipts.count <= request.limit else { throw .malformedAnswer("\(answer.receipts.count) receipts for a limit of \(request.limit)") }
        var previous = since
        for e in answer.receipts {
            guard e.seq > previous else { throw .malformedAnswer("sequence \(e.seq) after \(previous)") }
            previous = e.seq
        }
        return answer
    }
}

extension NodeStore {
    /// The newest receipt sequence number held, or 0.
    public func latestReceipt() throws(NodeError) -> Int64 {
        try run("reading receipts") { try db.read { try Int64.fetchOne($0, sql: "SELECT MAX(seq) FROM node_receipt") ?? 0 } }
    }
}
