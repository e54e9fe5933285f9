import Foundation
import GRDB
import MurmurCore
import MurmurML
import MurmurP2P

/// Content-addressed blocks the node holds: model manifests (`kind` "manifest", a CID over canonical JSON)
/// and weights (`kind` "weights", raw). Why: models are served and distributed by CID; the bytes are checked
/// against the CID when stored, so the index never serves a block that does not match its name.
extension NodeStore {
    /// Stores `bytes` under `cid` after checking that they hash to it.
    public func putBlock(_ bytes: [UInt8], cid: CID, kind: String) throws(NodeError) {
        let expected = cid.codec == CID.jsonCodec ? CID.json(bytes) : CID.raw(bytes)
        guard expected == cid else { throw .storage("block bytes do not hash to \(cid)") }
        try run("writing a block") {
            try db.write {
                try $0.execute(sql: "INSERT OR IGNORE INTO node_block (cid, kind, data, size, added) VALUES (?, ?, ?, ?, ?)",
                               arguments: [cid.description, kind, Data(bytes), bytes.count, Self.now])
            }
        }
    }

    /// The bytes of block `cid`, or nil.
    public func block(_ cid: String) throws(NodeError) -> [UInt8]? {
        try run("reading a block") {
            try db.read { try Data.fetchOne($0, sql: "SELECT data FROM node_block WHERE cid = ?", arguments: [cid]).map { Array($0) } }
        }
    }

    /// (cid, kind, size) of every block of `kind` (or all), oldest first.
    public func blocks(kind: String? = nil) throws(NodeError) -> [(cid: String, kind: String, size: Int)] {
        try run("listing blocks") {
            try db.read { db in
                try Row.fetchAll(db, sql: "SELECT cid, kind, size FROM node_block WHERE ?1 IS NULL OR kind = ?1 ORDER BY added, cid",
                                 arguments: [kind]).map { row -> (cid: String, kind: String, size: Int) in (row["cid"], row["kind"], row["size"]) }
            }
        }
    }

    /// Puts a model artifact's manifest and weights into the index; returns the model's CID (the manifest's).
    @discardableResult
    public func putModel(_ artifact: ModelArtifact) throws(NodeError) -> CID {
        let manifestBytes: [UInt8], cid: CID
        do {
            manifestBytes = try artifact.manifest.canonicalBytes()
            cid = try artifact.manifest.cid()
        } catch { throw .storage("cannot encode the model manifest: \(error)") }
        try putBlock(artifact.blob, cid: artifact.manifest.weights, kind: "weights")
        try putBlock(manifestBytes, cid: cid, kind: "manifest")
        return cid
    }

    /// For weights over one block: stores them again as `/murmur/blocks/1` chunks and returns the
    /// chunk list's CID (nil for weights that fit one block, which are served as they are).
    /// Why: a block is at most `Block.maxSize`; larger models cross the network chunk by chunk.
    public func putWeightChunks(_ artifact: ModelArtifact) throws(NodeError) -> CID? {
        guard artifact.blob.count > Block.maxSize else { return nil }
        let (manifest, chunks) = BlockManifest.chunk(artifact.blob)
        for chunk in chunks { try putBlock(chunk.bytes, cid: chunk.cid, kind: "chunk") }
        try putBlock(manifest.bytes, cid: manifest.cid, kind: "chunks")
        return manifest.cid
    }

    /// The manifest with CID `cid`, or nil if the node does not hold it.
    public func manifest(_ cid: String) throws(NodeError) -> ModelManifest? {
        guard let m = try block(cid) else { return nil }
        do { return try JSONDecoder().decode(ModelManifest.self, from: Data(m)) } catch {
            throw .storage("block \(cid) is not a model manifest: \(error)")
        }
    }

    /// The model whose manifest has CID `cid`, with its weights, or nil if either block is missing.
    public func model(_ cid: String) throws(NodeError) -> (manifest: ModelManifest, weights: [UInt8])? {
        guard let manifest = try manifest(cid), let w = try block(manifest.weights.description) else { return nil }
        return (manifest, w)
    }
}
