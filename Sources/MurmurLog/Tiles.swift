/// A C2SP tlog-tiles resource: a hash tile `tile/<L>/<N>[.p/<W>]` or an entry bundle `tile/entries/<N>[.p/<W>]`.
/// Tiles have height 8: tile (L, N) holds MTH of the level-8L subtrees N·256 … N·256+W−1 (c2sp.org/tlog-tiles).
public struct TileID: Hashable, Sendable, CustomStringConvertible {
    /// Hashes per full tile (2^8).
    public static let width = 256
    /// The level L, or nil for an entry bundle.
    public var level: Int?
    /// The tile index N within its level.
    public var index: UInt64
    /// The number of hashes (or entries) W, 1…256; 256 means a full tile.
    public var width: Int

    /// A hash tile at `level` (0…63).
    public init(level: Int, index: UInt64, width: Int = TileID.width) {
        self.level = level; self.index = index; self.width = width
    }

    /// An entry bundle.
    public init(entriesAt index: UInt64, width: Int = TileID.width) {
        self.level = nil; self.index = index; self.width = width
    }

    /// Whether the tile is full (256 wide); full tiles never change.
    public var isFull: Bool { width == TileID.width }

    /// The tile a tree of `size` needs at `level` to hold the hash with index `hashIndex` at tree level 8·level:
    /// width = min(256, ⌊size / 256^level⌋ − N·256).
    public static func containing(level: Int, hashIndex: UInt64, size: UInt64) -> TileID {
        let n = hashIndex >> 8
        let available = size >> UInt64(8 * level)
        let w = Int(min(UInt64(TileID.width), available - n << 8))
        return TileID(level: level, index: n, width: w)
    }

    /// The path below the log prefix, e.g. `tile/0/x001/x234/067.p/5` or `tile/entries/000`.
    public var path: String {
        var s = "tile/" + (level.map(String.init) ?? "entries") + "/" + Self.encodeIndex(index)
        if width < TileID.width { s += ".p/\(width)" }
        return s
    }

    public var description: String { path }

    /// N as zero-padded 3-digit path elements, all but the last prefixed with `x`: 1234067 → `x001/x234/067`.
    public static func encodeIndex(_ n: UInt64) -> String {
        var groups: [String] = []
        var v = n
        repeat {
            let g = String(v % 1000)
            groups.append(String(repeating: "0", count: 3 - g.count) + g)
            v /= 1000
        } while v > 0
        return groups.reversed().enumerated().map { i, g in i < groups.count - 1 ? "x" + g : g }.joined(separator: "/")
    }

    /// Parses a path such as `tile/1/x002/345.p/17` or `tile/entries/007` (no leading slash).
    public init(path: some StringProtocol) throws(TileError) {
        var parts = String(path).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[0] == "tile" else { throw .malformedPath(String(path)) }
        if parts[1] == "entries" {
            level = nil
        } else {
            guard let l = Self.decimal(parts[1]), l <= 63 else { throw .malformedPath(String(path)) }
            level = Int(l)
        }
        parts.removeFirst(2)
        width = TileID.width
        if parts.count >= 2, parts[parts.count - 2].hasSuffix(".p") {
            guard let w = Self.decimal(parts[parts.count - 1]), w >= 1, w <= 255 else { throw .malformedPath(String(path)) }
            width = Int(w)
            parts.removeLast()
            parts[parts.count - 1].removeLast(2)
        }
        guard !parts.isEmpty else { throw .malformedPath(String(path)) }
        var n: UInt64 = 0
        for (i, p) in parts.enumerated() {
            let last = i == parts.count - 1
            var digits = Substring(p)
            if !last {
                guard digits.first == "x" else { throw .malformedPath(String(path)) }
                digits = digits.dropFirst()
            }
            guard digits.count == 3, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), let g = UInt64(digits) else {
                throw .malformedPath(String(path))
            }
            let (m, o1) = n.multipliedReportingOverflow(by: 1000)
            let (s, o2) = m.addingReportingOverflow(g)
            guard !o1, !o2 else { throw .malformedPath(String(path)) }
            n = s
        }
        // Leading all-zero groups would give one resource two names.
        if parts.count > 1 && parts[0] == "x000" { throw .malformedPath(String(path)) }
        index = n
    }

    private static func decimal(_ s: String) -> UInt64? {
        guard !s.isEmpty, s.allSatisfy({ $0 >= "0" && $0 <= "9" }), s == "0" || s.first != "0" else { return nil }
        return UInt64(s)
    }
}

/// Entry bundles: a sequence of big-endian uint16 length-prefixed entries (c2sp.org/tlog-tiles, "Log entries").
public enum EntryBundle {
    /// The largest entry a bundle can hold (uint16 length).
    public static let maxEntrySize = 65_535

    /// Appends one entry to bundle bytes.
    public static func append(_ entry: some Collection<UInt8>, to bundle: inout [UInt8]) throws(TileError) {
        guard entry.count <= maxEntrySize else { throw .entryTooLarge(entry.count) }
        bundle.append(UInt8(entry.count >> 8))
        bundle.append(UInt8(entry.count & 0xff))
        bundle.append(contentsOf: entry)
    }

    /// Splits bundle bytes into entries; throws if a length runs past the end.
    public static func decode(_ bundle: [UInt8]) throws(TileError) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var i = 0
        while i < bundle.count {
            guard i + 2 <= bundle.count else { throw .malformedBundle("truncated length at byte \(i)") }
            let len = Int(bundle[i]) << 8 | Int(bundle[i + 1])
            guard i + 2 + len <= bundle.count else { throw .malformedBundle("entry at byte \(i) runs past the end") }
            out.append(bundle[(i + 2)..<(i + 2 + len)])
            i += 2 + len
        }
        return out
    }

    /// The first `count` entries' bytes (a partial bundle of width `count` is a prefix of any wider one).
    public static func prefix(_ bundle: [UInt8], count: Int) throws(TileError) -> [UInt8] {
        let entries = try decode(bundle)
        guard entries.count >= count else { throw .malformedBundle("bundle has \(entries.count) entries, \(count) wanted") }
        let end = count == 0 ? 0 : entries[count - 1].endIndex
        return Array(bundle[0..<end])
    }
}

/// Tile math: the hash of a node from the tile that stores its descendants.
public enum TileMath {
    /// MTH of the 2^r hashes at tree level 8L below node (h = 8L + r, k): they sit at offsets k·2^r … in tile ⌊k·2^r / 256⌋.
    public static func nodeHash(level h: Int, index k: UInt64, tile: (Int, UInt64) throws -> [LogHash]) throws -> LogHash {
        let tileLevel = h / 8, r = h % 8
        let first = k << UInt64(r)
        let hashes = try tile(tileLevel, first >> 8)
        let off = Int(first & 255), count = 1 << r
        guard off + count <= hashes.count else {
            throw TileError.missingHashes(TileID(level: tileLevel, index: first >> 8, width: hashes.count), needed: off + count)
        }
        return RFC9162.treeHash(hashes[off..<(off + count)])
    }
}

/// Why a tile, tile path or entry bundle was refused.
public enum TileError: Error, Equatable, CustomStringConvertible {
    /// A path is not `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    case malformedPath(String)
    /// An entry bundle's lengths do not add up.
    case malformedBundle(String)
    /// An entry is longer than a bundle's uint16 length allows.
    case entryTooLarge(Int)
    /// A tile is narrower than a proof needs.
    case missingHashes(TileID, needed: Int)

    public var description: String {
        switch self {
        case .malformedPath(let p): return "'\(p)' is not a tlog-tiles path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])"
        case .malformedBundle(let m): return "malformed entry bundle: \(m)"
        case .entryTooLarge(let n): return "an entry of \(n) bytes is larger than the 65535 bytes a tlog-tiles bundle can hold"
        case let .missingHashes(t, n): return "tile \(t) has \(t.width) hashes but \(n) are needed; the tile store is incomplete"
        }
    }
}
