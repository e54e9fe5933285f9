import Foundation
import MurmurCore
import MurmurLog
import MurmurP2P

/// `/murmur/model/1`: the aggregator names the model a round trains — its CID, the log entry that
/// records it, the entry's inclusion proof and the witness-cosigned checkpoint that proof leads to.
/// Why: a client fetches the model by CID over `/murmur/blocks/1` and accepts it only if the proof
/// chain holds (RFC 9162 §2.1.3 inclusion; c2sp.org/tlog-cosignature quorum).
///
/// One stream per announcement: the aggregator writes the canonical JSON of this value and
/// half-closes; the client answers with `ModelAnswer`'s JSON and half-closes. Both ≤ 1 MiB.
public struct ModelAnnouncement: Codable, Sendable, Equatable {
    /// The protocol id.
    public static let protocolID = "/murmur/model/1"
    /// The largest message either side reads.
    public static let maxSize = 1 << 20

    /// The fit round that trains this model.
    public var round: Int
    /// The model version's round (`round − 1`; 0 is the initial model).
    public var version: Int
    /// The model's CID (its manifest, `ModelManifest.cid()`).
    public var model: String
    /// The log index of the entry that records it.
    public var index: UInt64
    /// The entry's bytes (a ledger entry, docs/ledger.md), base64.
    public var entry: String
    /// The inclusion proof of `entry` at `index` in the checkpoint's tree, base64 hashes.
    public var proof: [String]
    /// The signed, cosigned checkpoint note (C2SP signed-note form).
    public var checkpoint: String
    /// For weights over one block (`Block.maxSize`): the CID of their chunk list (MurmurP2P
    /// `BlockManifest`), which the client fetches over `/murmur/blocks/1` and then checks against
    /// the model manifest's `weights` hash; nil when the weights are one raw block.
    public var weightsChunks: String?

    enum CodingKeys: String, CodingKey {
        case round, version, model, index, entry, proof, checkpoint
        case weightsChunks = "weights_chunks"
    }

    /// An announcement from its parts.
    public init(round: Int, version: Int, model: String, index: UInt64, entry: [UInt8], proof: [LogHash], checkpoint: String,
                weightsChunks: String? = nil) {
        self.round = round; self.version = version; self.model = model; self.index = index
        self.weightsChunks = weightsChunks
        self.entry = Data(entry).base64EncodedString()
        self.proof = proof.map(\.base64)
        self.checkpoint = checkpoint
    }

    /// The same announcement for another fit round of the same model (the round number only).
    func forRound(_ r: Int) -> ModelAnnouncement {
        var a = self
        a.round = r
        return a
    }
}

/// A client's answer to an announcement.
public struct ModelAnswer: Codable, Sendable, Equatable {
    /// Whether the model was verified and accepted.
    public var accepted: Bool
    /// The refusal's text when not.
    public var reason: String?

    /// An answer.
    public init(accepted: Bool, reason: String? = nil) { self.accepted = accepted; self.reason = reason }
}

/// Reading and writing the one message per direction of `/murmur/model/1`.
enum ModelAnnouncementIO {
    static func write<T: Encodable>(_ value: T, to stream: P2PStream) async throws {
        try await stream.write(try CanonicalJSON.encode(value))
        try await stream.closeWrite()
    }

    static func read<T: Decodable>(_ type: T.Type, from stream: P2PStream) async throws -> T {
        let bytes = try await stream.readToEnd(limit: ModelAnnouncement.maxSize)
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch {
            throw ModelRefusal.malformed("a \(T.self) that does not decode: \(error)")
        }
    }

    /// Aggregator side: announces `a` to `peer` and returns its answer within `deadline`.
    static func announce(_ a: ModelAnnouncement, to peer: PeerID, host: P2PHost, deadline: Duration) async throws -> ModelAnswer {
        let outcome: DeadlineRace.Outcome<ModelAnswer> = await DeadlineRace.exchange(
            host: host, peer: peer, protocolID: ModelAnnouncement.protocolID, deadline: deadline
        ) { stream in
            try await write(a, to: stream)
            return try await read(ModelAnswer.self, from: stream)
        }
        switch outcome {
        case .finished(let answer): return answer
        case .failed(let error): throw error
        case .timedOut: throw ModelRefusal.malformed("no answer to the model announcement within \(deadline)")
        }
    }
}
