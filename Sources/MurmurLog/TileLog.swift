/// A tamper-evident append-only log over a `LogStorage`: batched appends (sequence, then integrate
/// into tlog-tiles), proofs from tiles, signed checkpoints. Memory: the right edge (≤ 255 hashes per
/// level, O(log n)) plus a bounded cache of full tiles. One writer per log; not shared across tasks.
public final class TileLog: HashReader {
    /// The log's origin line.
    public let origin: String
    let storage: any LogStorage
    /// The committed tree state.
    public private(set) var state: LogTreeState
    /// Right edge: level L holds the hashes at tree level 8L not yet in a full tile (< 256 each).
    var edge: [[LogHash]] = []
    /// The partial entry bundle at the end of the log.
    var partialBundle: [UInt8] = []
    /// Full tiles are immutable, so they can be cached; at most `cacheLimit` of them.
    var cache: [TileKey: [LogHash]] = [:]
    let cacheLimit: Int

    struct TileKey: Hashable { var level: Int; var index: UInt64 }

    /// Opens the log in `storage` (creating an empty one for `origin`) and checks the stored root.
    public init(storage: any LogStorage, origin: String, cacheTiles: Int = 4096) throws {
        self.storage = storage
        self.cacheLimit = cacheTiles
        if let o = try storage.metadata("origin") {
            guard o == origin else { throw LogStoreError.invalidLog("this log's origin is '\(o)', not '\(origin)'") }
        } else {
            try storage.setMetadata("origin", origin)
        }
        self.origin = origin
        state = try storage.loadState() ?? LogTreeState(size: 0, root: RFC9162.emptyRoot)
        try loadEdge()
        let root = edgeRoot()
        guard root == state.root else {
            throw LogStoreError.corrupt("the right-edge tiles hash to root \(root), the stored state says \(state.root)")
        }
    }

    /// Opens an existing log, reading its origin from storage.
    public convenience init(storage: any LogStorage) throws {
        guard let o = try storage.metadata("origin") else { throw LogStoreError.invalidLog("no log here; run `murmur log init` first") }
        try self.init(storage: storage, origin: o)
    }

    /// The number of entries.
    public var size: UInt64 { state.size }

    /// Re-reads the committed state, which another process (`murmur log append`) may have advanced;
    /// a server calls this before answering. Returns whether the tree grew.
    @discardableResult
    public func refresh() throws -> Bool {
        // State and edge are read in two transactions; a commit in between shows up as a root mismatch, so retry.
        var failure: any Error = LogStoreError.corrupt("the right-edge tiles do not hash to the stored root after 3 reads")
        for _ in 0..<3 {
            guard let s = try storage.loadState(), s != state else { return false }
            let old = (state, edge, partialBundle)
            state = s
            do {
                try loadEdge()
                if edgeRoot() == state.root { return true }
            } catch { failure = error }
            (state, edge, partialBundle) = old
        }
        throw failure
    }

    // MARK: - Appending

    /// Appends entries as one batch: sequence (indices size…size+k−1), integrate (tiles, root), commit (one fsync).
    /// When it returns the entries are durable and `inclusionProof(index:)` works for them.
    @discardableResult
    public func append<C: Collection<UInt8>>(_ entries: [C]) throws -> Range<UInt64> {
        let start = state.size
        guard !entries.isEmpty else { return start..<start }
        var size = start
        var edge = self.edge
        var bundle = partialBundle
        var tiles: [TileKey: [UInt8]] = [:]
        var bundles: [UInt64: [UInt8]] = [:]
        for e in entries {
            try EntryBundle.append(e, to: &bundle)
            size += 1
            var h = RFC9162.leafHash(e)
            var level = 0
            // push(L, h): a full tile at level L is stored and its MTH pushed to level L+1.
            while true {
                if edge.count == level { edge.append([]) }
                edge[level].append(h)
                guard edge[level].count == TileID.width else { break }
                let index = ((size >> UInt64(8 * level)) - 1) >> 8
                tiles[TileKey(level: level, index: index)] = HashList.encode(edge[level])
                h = RFC9162.treeHash(edge[level][...])
                edge[level].removeAll(keepingCapacity: true)
                level += 1
            }
            if size & 255 == 0 {
                bundles[(size - 1) >> 8] = bundle
                bundle.removeAll(keepingCapacity: true)
            }
        }
        for (level, hashes) in edge.enumerated() where !hashes.isEmpty {
            tiles[TileKey(level: level, index: (size >> UInt64(8 * level)) >> 8)] = HashList.encode(hashes)
        }
        if !bundle.isEmpty { bundles[size >> 8] = bundle }
        let root = Self.root(of: edge)
        var batch = LogBatch(state: LogTreeState(size: size, root: root))
        batch.tiles = tiles.map { ($0.key.level, $0.key.index, StoredBlob(data: $0.value)) }
        batch.bundles = bundles.map { ($0.key, StoredBlob(data: $0.value)) }
        try storage.commit(batch)
        self.edge = edge
        self.partialBundle = bundle
        self.state = batch.state
        return start..<size
    }

    /// Signs the current tree head as a C2SP checkpoint note and records it as published.
    /// If this tree head was already published, the stored note is returned with any witness cosignatures it gathered.
    public func checkpoint(signer: NoteSigner) throws -> Note {
        let cp = Checkpoint(origin: origin, size: state.size, root: state.root)
        // Ed25519 may be randomized (CryptoKit), so "already published" means: same text, valid signature by this key.
        if let last = try storage.checkpoints().last, last.size == cp.size,
           let stored = try? Note(parsing: last.note), stored.text == cp.text,
           (try? stored.verify([signer.verifierKey.verifier()])) != nil {
            return stored
        }
        let note = Note(text: cp.text, signatures: [try signer.sign(text: cp.text)])
        try storage.addCheckpoint(size: cp.size, note: note.serialized)
        return note
    }

    /// Adds witness cosignature lines (c2sp.org/tlog-cosignature) to the published checkpoint of `size`,
    /// after checking each against `witnesses` (lines by other keys are dropped). Returns the cosigned note.
    @discardableResult
    public func addCosignatures(_ lines: [NoteSignature], size: UInt64, witnesses: [VerifierKey]) throws -> Note {
        guard let stored = try storage.checkpoints().last(where: { $0.size == size }) else {
            throw LogStoreError.notFound("no published checkpoint of size \(size); run `murmur log checkpoint` first")
        }
        var note = try Note(parsing: stored.note)
        let verifiers = try witnesses.map { (k: VerifierKey) throws(NoteError) in try k.verifier() }
        for line in lines {
            guard let v = verifiers.first(where: { $0.name == line.name && $0.keyID == line.keyID }) else { continue }
            guard v.verify(text: note.text, signature: line.signature) else { throw NoteError.badSignature(name: line.name) }
            note.signatures.removeAll { $0.name == line.name && $0.keyID == line.keyID }
            note.signatures.append(line)
        }
        try storage.addCheckpoint(size: size, note: note.serialized)
        return note
    }

    /// The latest published checkpoint note, if any.
    public func latestCheckpoint() throws -> String? { try storage.checkpoints().last?.note }

    /// Every published checkpoint note, by size.
    public func publishedCheckpoints() throws -> [(size: UInt64, note: String)] { try storage.checkpoints() }

    // MARK: - Reading and proving

    /// Inclusion proof for entry `index` in the tree of `size` (default: current).
    public func inclusionProof(index: UInt64, size: UInt64? = nil) throws -> [LogHash] {
        let n = size ?? state.size
        guard n <= state.size else { throw LogStoreError.notFound("tree size \(n) is beyond the log's \(state.size)") }
        return try MerkleProof.inclusionProof(index: index, size: n, self)
    }

    /// Consistency proof from tree size `m` to `n` (default: current).
    public func consistencyProof(from m: UInt64, to n: UInt64? = nil) throws -> [LogHash] {
        let n = n ?? state.size
        guard n <= state.size else { throw LogStoreError.notFound("tree size \(n) is beyond the log's \(state.size)") }
        return try MerkleProof.consistencyProof(from: m, to: n, self)
    }

    /// MTH(D[0:size]) recomputed from tiles.
    public func rootHash(size: UInt64) throws -> LogHash {
        guard size <= state.size else { throw LogStoreError.notFound("tree size \(size) is beyond the log's \(state.size)") }
        return try MerkleProof.rootHash(size: size, self)
    }

    /// Entry `index`, checked against its leaf hash in the level-0 tile.
    public func entry(at index: UInt64) throws -> [UInt8] {
        guard index < state.size else { throw LogStoreError.notFound("entry \(index): the log has \(state.size) entries") }
        let bundle = try readBundle(index >> 8)
        let entries = try EntryBundle.decode(bundle)
        let i = Int(index & 255)
        guard i < entries.count else { throw LogStoreError.corrupt("entry bundle \(index >> 8) has \(entries.count) entries, entry \(index) missing") }
        let e = Array(entries[i])
        let want = try nodeHash(level: 0, index: index)
        guard RFC9162.leafHash(e) == want else { throw LogStoreError.corrupt("entry \(index) does not hash to its leaf hash in tile 0/\(index >> 8)") }
        return e
    }

    /// The bytes of a tlog-tiles resource at the current size: a full tile, or a partial of the requested width.
    public func resource(_ id: TileID) throws -> [UInt8] {
        let level = id.level ?? 0
        guard level < 64 else { throw LogStoreError.notFound("\(id.path)") }
        let available = state.size >> UInt64(8 * level)
        guard id.index < (available + 255) >> 8, available - (id.index << 8) >= UInt64(id.width) else {
            throw LogStoreError.notFound("\(id.path) is not in the tree of size \(state.size)")
        }
        if id.level == nil {
            return try EntryBundle.prefix(readBundle(id.index), count: id.width)
        }
        return HashList.encode(try tileHashes(level: level, index: id.index).prefix(id.width))
    }

    /// HashReader: node (h, k) from the tile at level ⌊h/8⌋.
    public func nodeHash(level: Int, index: UInt64) throws -> LogHash {
        try TileMath.nodeHash(level: level, index: index) { l, i in try tileHashes(level: l, index: i) }
    }

    /// Recomputes everything: every full tile's MTH against the level above, every bundle against level 0,
    /// every published checkpoint's root and its consistency with the current tree. Throws `.corrupt` on the first mismatch.
    public func verifyIntegrity() throws {
        let n = state.size
        var level = 0
        while n >> UInt64(8 * level) > 0 {
            let count = n >> UInt64(8 * level)
            for t in 0..<((count + 255) >> 8) {
                let hashes = try tileHashes(level: level, index: t)
                if hashes.count == 256, count >> 8 > t {
                    let up = try tileHashes(level: level + 1, index: t >> 8)
                    guard Int(t & 255) < up.count, up[Int(t & 255)] == RFC9162.treeHash(hashes[...]) else {
                        throw LogStoreError.corrupt("tile \(level)/\(t) does not hash to its parent in tile \(level + 1)/\(t >> 8)")
                    }
                }
            }
            level += 1
        }
        for b in 0..<((n + 255) >> 8) {
            let entries = try EntryBundle.decode(readBundle(b))
            let hashes = try tileHashes(level: 0, index: b)
            guard entries.count >= hashes.count else { throw LogStoreError.corrupt("entry bundle \(b) is short") }
            for (i, h) in hashes.enumerated() where RFC9162.leafHash(entries[i]) != h {
                throw LogStoreError.corrupt("entry \(b * 256 + UInt64(i)) does not hash to its leaf hash")
            }
        }
        guard try rootHash(size: n) == state.root else { throw LogStoreError.corrupt("tiles do not hash to the stored root") }
        for (size, text) in try storage.checkpoints() {
            let cp = try Checkpoint(text: Note(parsing: text).text)
            guard cp.size == size, size <= n, try rootHash(size: size) == cp.root else {
                throw LogStoreError.corrupt("published checkpoint of size \(size) does not match the tree")
            }
        }
    }

    // MARK: - Internals

    func tileHashes(level: Int, index: UInt64) throws -> [LogHash] {
        let key = TileKey(level: level, index: index)
        if level < edge.count, index == (state.size >> UInt64(8 * level)) >> 8 { return edge[level] }
        if let t = cache[key] { return t }
        guard let blob = try storage.readTile(level: level, index: index) else {
            throw LogStoreError.corrupt("tile \(level)/\(index) is missing from storage")
        }
        try Self.check(blob, "tile \(level)/\(index)")
        guard let hashes = HashList.decode(blob.data) else { throw LogStoreError.corrupt("tile \(level)/\(index) is not a whole number of hashes") }
        if hashes.count == TileID.width {
            if cache.count >= cacheLimit, let k = cache.keys.first { cache.removeValue(forKey: k) }
            cache[key] = hashes
        }
        return hashes
    }

    func readBundle(_ index: UInt64) throws -> [UInt8] {
        if index == state.size >> 8, state.size & 255 != 0 { return partialBundle }
        guard let blob = try storage.readBundle(index: index) else { throw LogStoreError.corrupt("entry bundle \(index) is missing from storage") }
        try Self.check(blob, "entry bundle \(index)")
        return blob.data
    }

    static func check(_ blob: StoredBlob, _ what: String) throws {
        let d = RFC9162.sha256(blob.data)
        guard d == blob.digest else { throw LogStoreError.corrupt("\(what) hashes to \(d.hex.prefix(16))…, stored digest \(blob.digest.hex.prefix(16))…") }
    }

    /// Loads the right edge from the partial tiles of the committed size.
    func loadEdge() throws {
        let n = state.size
        edge = []
        var level = 0
        while n >> UInt64(8 * level) > 0 {
            let count = Int((n >> UInt64(8 * level)) & 255)
            var hashes: [LogHash] = []
            if count > 0 {
                let index = (n >> UInt64(8 * level)) >> 8
                guard let blob = try storage.readTile(level: level, index: index) else { throw LogStoreError.corrupt("right-edge tile \(level)/\(index) is missing") }
                try Self.check(blob, "tile \(level)/\(index)")
                guard let all = HashList.decode(blob.data), all.count >= count else { throw LogStoreError.corrupt("right-edge tile \(level)/\(index) is short") }
                hashes = Array(all.prefix(count))
            }
            edge.append(hashes)
            level += 1
        }
        partialBundle = []
        if n & 255 != 0 {
            guard let blob = try storage.readBundle(index: n >> 8) else { throw LogStoreError.corrupt("the partial entry bundle is missing") }
            try Self.check(blob, "entry bundle \(n >> 8)")
            partialBundle = try EntryBundle.prefix(blob.data, count: Int(n & 255))
        }
    }

    /// Root from the right edge: each level's hashes split into perfect subtrees by the bits of their count,
    /// left (higher levels) to right, folded from the right: H(s1, H(s2, … sk)).
    static func root(of edge: [[LogHash]]) -> LogHash {
        var subtrees: [LogHash] = []
        for hashes in edge.reversed() where !hashes.isEmpty {
            var start = 0
            var bit = 128
            while bit > 0 {
                if hashes.count & bit != 0 {
                    subtrees.append(RFC9162.treeHash(hashes[start..<(start + bit)]))
                    start += bit
                }
                bit >>= 1
            }
        }
        guard var acc = subtrees.popLast() else { return RFC9162.emptyRoot }
        while let s = subtrees.popLast() { acc = RFC9162.nodeHash(s, acc) }
        return acc
    }

    func edgeRoot() -> LogHash { Self.root(of: edge) }
}
