import MurmurCore

/// The root block of a chunked object: the list of its chunks' CIDs and sizes, in order.
///
/// A large object (a model's safetensors file) is cut into raw blocks of at most 1 MiB; the
/// manifest is canonical JSON (MurmurCore `CanonicalJSON`, RFC 8785 style) named by `CID.json`,
/// so the manifest's CID names the whole object and each chunk verifies on its own:
///
///     {"chunks":[{"cid":"bafkrei…","size":1048576},…],"size":52428800,"type":"murmur/blocks-manifest/1"}
public struct BlockManifest: Sendable, Equatable {
    /// The `type` field, which versions the format.
    public static let type = "murmur/blocks-manifest/1"

    /// One chunk: its raw-block CID and length.
    public struct Chunk: Sendable, Equatable {
        /// The chunk's CID (codec raw, sha2-256).
        public let cid: CID
        /// Its length in bytes (1 … `Block.maxSize`).
        public let size: Int

        /// A chunk entry.
        public init(cid: CID, size: Int) {
            self.cid = cid
            self.size = size
        }
    }

    /// The chunks in object order.
    public let chunks: [Chunk]
    /// The object's length: the sum of the chunk sizes.
    public let size: Int

    /// A manifest for `chunks` (the size is their sum).
    public init(chunks: [Chunk]) {
        self.chunks = chunks
        self.size = chunks.reduce(0) { $0 + $1.size }
    }

    /// Cuts `bytes` into raw blocks of `chunkSize` (the last one shorter) and builds their manifest.
    ///
    /// Returns the manifest block (whose CID is the object's root) and the chunk blocks.
    public static func chunk(_ bytes: [UInt8], chunkSize: Int = Block.maxSize) -> (manifest: Block, chunks: [Block]) {
        precondition(chunkSize >= 1 && chunkSize <= Block.maxSize, "chunkSize must be 1…\(Block.maxSize) (programmer error)")
        var blocks: [Block] = []
        blocks.reserveCapacity((bytes.count + chunkSize - 1) / chunkSize)
        var start = 0
        while start < bytes.count {
            let end = min(start + chunkSize, bytes.count)
            blocks.append(Block(raw: Array(bytes[start..<end])))
            start = end
        }
        let manifest = BlockManifest(chunks: blocks.map { Chunk(cid: $0.cid, size: $0.bytes.count) })
        return (manifest.block, blocks)
    }

    /// The canonical JSON encoding.
    public var encoded: [UInt8] {
        let list = chunks.map { c -> JSONValue in
            .object(["cid": .string(c.cid.description), "size": .integer(Int64(c.size))])
        }
        return CanonicalJSON.encode(.object(["chunks": .array(list), "size": .integer(Int64(size)), "type": .string(Self.type)]))
    }

    /// The manifest as a block named `CID.json(encoded)`: the object's root CID.
    public var block: Block {
        let bytes = encoded
        return Block(trusted: bytes, cid: CID.json(bytes))
    }

    /// Parses a manifest block; throws `corruptManifest` unless it is canonical and consistent.
    ///
    /// Checks: codec json, canonical bytes (one encoding per object, so one root CID), exactly
    /// the three fields, every chunk a raw sha2-256 CID of 1 … 1 MiB, and `size` = Σ chunk sizes.
    public init(decoding block: Block) throws(BlockError) {
        guard block.cid.codec == CID.jsonCodec else {
            throw .corruptManifest("\(block.cid) has codec 0x\(String(block.cid.codec, radix: 16)), not json (0x200)")
        }
        let value: JSONValue
        do { value = try CanonicalJSON.parse(block.bytes) } catch { throw .corruptManifest("\(error)") }
        guard CanonicalJSON.encode(value) == block.bytes else { throw .corruptManifest("the JSON is not in canonical form") }
        guard case .object(let fields) = value, fields.count == 3,
            case .string(let type)? = fields["type"], case .integer(let size)? = fields["size"],
            case .array(let list)? = fields["chunks"]
        else { throw .corruptManifest("expected exactly the fields chunks, size and type") }
        guard type == Self.type else { throw .corruptManifest("type is '\(type)', expected '\(Self.type)'") }
        var chunks: [Chunk] = []
        chunks.reserveCapacity(list.count)
        for (i, entry) in list.enumerated() {
            guard case .object(let c) = entry, c.count == 2, case .string(let text)? = c["cid"], case .integer(let n)? = c["size"] else {
                throw .corruptManifest("chunk \(i) is not {\"cid\": string, \"size\": integer}")
            }
            guard let cid = try? CID(text), cid.codec == CID.rawCodec, cid.multihash.code == Multihash.sha256Code,
                cid.multihash.digest.count == 32
            else { throw .corruptManifest("chunk \(i) CID '\(text.prefix(80))' is not a raw sha2-256 CIDv1") }
            guard n >= 1, n <= Int64(Block.maxSize) else {
                throw .corruptManifest("chunk \(i) size \(n) is outside 1…\(Block.maxSize)")
            }
            chunks.append(Chunk(cid: cid, size: Int(n)))
        }
        self.init(chunks: chunks)
        guard Int64(self.size) == size else {
            throw .corruptManifest("size \(size) differs from the chunks' total \(self.size)")
        }
    }
}
