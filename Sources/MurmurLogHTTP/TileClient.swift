import Foundation
import MurmurLog
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A log client that trusts nothing the server says: it fetches the signed checkpoint and the tiles
/// (c2sp.org/tlog-tiles), checks the checkpoint's signature (and optionally a witness quorum), builds
/// the RFC 9162 proof itself from the tiles and checks it against the signed root.
public struct TileClient: Sendable {
    /// The log's URL prefix, e.g. `http://127.0.0.1:8080`.
    public let baseURL: URL
    /// Who must have signed the checkpoint: the log alone, or the log plus k witnesses.
    public let policy: WitnessPolicy
    let transport: HTTPGet

    /// A client of the log at `baseURL`; checkpoints must satisfy `policy`.
    public init(baseURL: URL, policy: WitnessPolicy, timeout: TimeInterval = 10) {
        self.baseURL = baseURL
        self.policy = policy
        self.transport = HTTPGet(timeout: timeout)
    }

    /// A client that only requires the log's signature.
    public init(baseURL: URL, logKey: VerifierKey, timeout: TimeInterval = 10) throws(NoteError) {
        self.init(baseURL: baseURL, policy: try WitnessPolicy(logKey: logKey, witnesses: [], quorum: 0), timeout: timeout)
    }

    /// The latest checkpoint, verified against the policy.
    public func checkpoint() async throws(TileClientError) -> (note: Note, checkpoint: Checkpoint) {
        let bytes = try await get("checkpoint")
        do {
            let note = try Note(parsing: bytes)
            return (note, try policy.accept(note))
        } catch {
            throw .badCheckpoint("\(error)")
        }
    }

    /// The hashes of tile `id`; exactly `id.width` hashes or `.malformedTile`.
    public func tile(_ id: TileID) async throws(TileClientError) -> [LogHash] {
        let bytes = try await get(id.path)
        guard bytes.count == id.width * 32 else {
            throw .malformedTile(id.path, "\(bytes.count) bytes, expected \(id.width * 32) (\(id.width) hashes)")
        }
        return bytes.withUnsafeBytes { raw in (0..<id.width).map { LogHash(buffer: raw, offset: $0 * 32) } }
    }

    /// Entry `index` from its entry bundle, checked against the signed root of `checkpoint` via the tiles.
    public func entry(at index: UInt64, checkpoint: Checkpoint) async throws(TileClientError) -> [UInt8] {
        guard index < checkpoint.size else { throw .indexOutOfRange(index: index, size: checkpoint.size) }
        let id = TileID(entriesAt: index >> 8, width: Int(min(256, checkpoint.size - (index >> 8) << 8)))
        let bytes = try await get(id.path)
        let entries: [ArraySlice<UInt8>]
        do { entries = try EntryBundle.decode(bytes) } catch { throw .malformedTile(id.path, "\(error)") }
        guard entries.count == id.width else { throw .malformedTile(id.path, "\(entries.count) entries, expected \(id.width)") }
        let entry = Array(entries[Int(index & 255)])
        _ = try await verifyInclusion(index: index, leaf: RFC9162.leafHash(entry), checkpoint: checkpoint)
        return entry
    }

    /// Fetches the latest checkpoint and proves that `entry` is entry `index` under it.
    public func verifyInclusion(index: UInt64, entry: [UInt8]) async throws(TileClientError) -> Checkpoint {
        let (_, cp) = try await checkpoint()
        try await verifyInclusion(index: index, leaf: RFC9162.leafHash(entry), checkpoint: cp)
        return cp
    }

    /// Builds the inclusion proof for `index` from tiles and checks `leaf` against the signed root; returns the proof.
    /// A wrong tile cannot pass: every proof hash must fold up to the root the log signed.
    @discardableResult
    public func verifyInclusion(index: UInt64, leaf: LogHash, checkpoint cp: Checkpoint) async throws(TileClientError) -> [LogHash] {
        guard index < cp.size else { throw .indexOutOfRange(index: index, size: cp.size) }
        let tiles = try await fetchTiles(TileProofPlan.inclusion(index: index, size: cp.size))
        let reader = TileSet(size: cp.size, tiles: tiles)
        let proof: [LogHash]
        do { proof = try MerkleProof.inclusionProof(index: index, size: cp.size, reader) } catch {
            throw .malformedTile("tile/0", "\(error)")
        }
        if (try? MerkleProof.verifyInclusion(index: index, size: cp.size, leaf: leaf, proof: proof, root: cp.root)) != nil {
            return proof
        }
        // Tell a lying server from a wrong entry: with the log's own leaf hash, do the tiles reach the signed root?
        let logLeaf = try? reader.nodeHash(level: 0, index: index)
        if let logLeaf, logLeaf != leaf,
           (try? MerkleProof.verifyInclusion(index: index, size: cp.size, leaf: logLeaf, proof: proof, root: cp.root)) != nil {
            throw .entryMismatch(index: index, size: cp.size)
        }
        throw .tilesDoNotMatchCheckpoint(size: cp.size, root: cp.root.base64)
    }

    /// Consistency proof from `oldSize` to `cp.size`, built from tiles and checked against both roots.
    public func verifyConsistency(oldSize: UInt64, oldRoot: LogHash, checkpoint cp: Checkpoint) async throws(TileClientError) -> [LogHash] {
        guard oldSize <= cp.size else { throw .indexOutOfRange(index: oldSize, size: cp.size) }
        let tiles = try await fetchTiles(TileProofPlan.consistency(from: oldSize, to: cp.size))
        do {
            let proof = try MerkleProof.consistencyProof(from: oldSize, to: cp.size, TileSet(size: cp.size, tiles: tiles))
            if oldSize > 0 { try MerkleProof.verifyConsistency(from: oldSize, to: cp.size, proof: proof, oldRoot: oldRoot, newRoot: cp.root) }
            return proof
        } catch {
            throw .tilesDoNotMatchCheckpoint(size: cp.size, root: cp.root.base64)
        }
    }

    func fetchTiles(_ ids: Set<TileID>) async throws(TileClientError) -> [TileID: [LogHash]] {
        // Children return results instead of throwing, so one bad tile does not cancel the others mid-request.
        let results = await withTaskGroup(of: (TileID, Result<[LogHash], TileClientError>).self) { group in
            for id in ids {
                group.addTask {
                    do throws(TileClientError) { return (id, .success(try await tile(id))) } catch { return (id, .failure(error)) }
                }
            }
            var out: [(TileID, Result<[LogHash], TileClientError>)] = []
            for await r in group { out.append(r) }
            return out
        }
        var out: [TileID: [LogHash]] = [:]
        for (id, r) in results.sorted(by: { $0.0.path < $1.0.path }) { out[id] = try r.get() }
        return out
    }

    func get(_ path: String) async throws(TileClientError) -> [UInt8] {
        let base = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        guard let url = URL(string: base + "/" + path) else { throw .transport("bad URL \(base)/\(path)") }
        let (status, body) = try await transport.get(url)
        guard status == 200 else {
            throw .httpStatus(path: path, status: status, message: String(decoding: body.prefix(200), as: UTF8.self))
        }
        return body
    }
}

/// Why a tile client refused what the server sent.
public enum TileClientError: Error, Equatable, CustomStringConvertible {
    /// The connection failed or timed out.
    case transport(String)
    /// The server answered with a non-200 status.
    case httpStatus(path: String, status: Int, message: String)
    /// The checkpoint is malformed or not signed as the policy requires.
    case badCheckpoint(String)
    /// A tile or entry bundle has the wrong length or encoding.
    case malformedTile(String, String)
    /// The tiles do not hash to the signed root: the server is lying or its storage is corrupt.
    case tilesDoNotMatchCheckpoint(size: UInt64, root: String)
    /// The tiles are consistent with the signed root, but the log's entry at `index` is a different one.
    case entryMismatch(index: UInt64, size: UInt64)
    /// The index is not below the checkpoint's size.
    case indexOutOfRange(index: UInt64, size: UInt64)

    public var description: String {
        switch self {
        case .transport(let m): return "cannot reach the log: \(m); check the URL and that `murmur log serve` is running"
        case let .httpStatus(p, s, m): return "GET \(p) answered \(s): \(m.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .badCheckpoint(let m): return "the checkpoint is not acceptable: \(m); check --log-key (and witness keys)"
        case let .malformedTile(p, m): return "\(p) is malformed: \(m); the server is broken or lying"
        case let .tilesDoNotMatchCheckpoint(n, r): return "the tiles do not hash to the signed root \(r) of size \(n); the server is lying or corrupt"
        case let .entryMismatch(i, n): return "the log's entry \(i) (at size \(n)) is a different entry than the one given"
        case let .indexOutOfRange(i, n): return "index \(i) is not below the checkpoint size \(n); wait for a newer checkpoint"
        }
    }
}

/// Which tiles a proof needs. Proof shapes depend only on (index, sizes), so a dry run against a reader
/// that records tile requests lists them; all can then be fetched in parallel (tlog-tiles: "Clients can fetch all the tiles they need in parallel").
public enum TileProofPlan {
    /// Tiles for an inclusion proof of `index` in a tree of `size`, plus the level-0 tile holding the leaf.
    public static func inclusion(index: UInt64, size: UInt64) -> Set<TileID> {
        let r = Recorder(size: size)
        _ = try? MerkleProof.inclusionProof(index: index, size: size, r)
        _ = try? r.nodeHash(level: 0, index: index)
        return r.ids
    }

    /// Tiles for a consistency proof from `m` to `n`.
    public static func consistency(from m: UInt64, to n: UInt64) -> Set<TileID> {
        let r = Recorder(size: n)
        _ = try? MerkleProof.consistencyProof(from: m, to: n, r)
        return r.ids
    }

    /// Answers every node with zeros and notes the tile it would have read.
    final class Recorder: HashReader {
        let size: UInt64
        var ids: Set<TileID> = []
        init(size: UInt64) { self.size = size }
        func nodeHash(level: Int, index: UInt64) throws -> LogHash {
            try TileMath.nodeHash(level: level, index: index) { l, n in
                ids.insert(TileID.containing(level: l, hashIndex: n << 8, size: size))
                return Array(repeating: .zero, count: 256)
            }
        }
    }
}

/// A `HashReader` over fetched tiles of a tree of `size`; a missing tile is an error, never a guess.
struct TileSet: HashReader {
    let size: UInt64
    let tiles: [TileID: [LogHash]]
    func nodeHash(level: Int, index: UInt64) throws -> LogHash {
        try TileMath.nodeHash(level: level, index: index) { l, n in
            let id = TileID.containing(level: l, hashIndex: n << 8, size: size)
            guard let t = tiles[id] else { throw TileError.missingHashes(id, needed: 1) }
            return t
        }
    }
}

/// GET over URLSession (FoundationNetworking on Linux): status and body bytes.
struct HTTPGet: Sendable {
    let timeout: TimeInterval

    /// URLSession's async `data(for:)` on Linux can deadlock when its task is cancelled while the response
    /// completes (swift-corelibs-foundation), so requests run in an unstructured task that cancellation does
    /// not reach; they end by the request timeout instead.
    static func uncancellable(_ request: URLRequest) async throws -> (Data, URLResponse) {
        try await Task { try await URLSession.shared.data(for: request) }.value
    }

    func get(_ url: URL) async throws(TileClientError) -> (Int, [UInt8]) {
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        do {
            let (data, response) = try await Self.uncancellable(request)
            guard let http = response as? HTTPURLResponse else { throw TileClientError.transport("not an HTTP response from \(url)") }
            return (http.statusCode, Array(data))
        } catch let e as TileClientError {
            throw e
        } catch {
            throw .transport("\(url): \(error.localizedDescription)")
        }
    }
}
