import MurmurTestSupport
import Testing
@testable import MurmurLog

/// C2SP tlog-tiles paths, partial widths and entry bundles.
@Suite(.ownThreads) struct TileTests {
    @Test func pathEncodingFromSpec() throws {
        // "index 1234067 will be encoded as x001/x234/067" (c2sp.org/tlog-tiles)
        #expect(TileID(level: 0, index: 1_234_067).path == "tile/0/x001/x234/067")
        #expect(TileID(level: 2, index: 5, width: 17).path == "tile/2/005.p/17")
        #expect(TileID(entriesAt: 1000).path == "tile/entries/x001/000")
        for t in [TileID(level: 0, index: 1_234_067), TileID(level: 63, index: 0, width: 1), TileID(entriesAt: 999_000_001, width: 255)] {
            #expect(try TileID(path: t.path) == t)
        }
    }

    @Test func malformedPathsAreRejected() {
        for p in ["tile/0/1", "tile/0/0001", "tile/64/000", "tile/00/000", "tile/0/001/002", "tile/0/x000/001",
                  "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/", "tile/entries", "tiles/0/000", "tile/0/-01", ""] {
            #expect(throws: TileError.self, "\(p)") { try TileID(path: p) }
        }
    }

    /// A tree of size 70,000 has 273 full level-0 tiles, a partial of width 112, one full and a partial of 17 at level 1,
    /// and a partial of width 1 at level 2 (the spec's example).
    @Test func partialWidthsFromSpec() {
        let n: UInt64 = 70_000
        #expect(TileID.containing(level: 0, hashIndex: n - 1, size: n) == TileID(level: 0, index: 273, width: 112))
        #expect(TileID.containing(level: 1, hashIndex: (n >> 8) - 1, size: n) == TileID(level: 1, index: 1, width: 17))
        #expect(TileID.containing(level: 1, hashIndex: 0, size: n).isFull)
        #expect(TileID.containing(level: 2, hashIndex: 0, size: n) == TileID(level: 2, index: 0, width: 1))
    }

    @Test func bundlesRoundTripAndPrefix() throws {
        var b: [UInt8] = []
        let entries: [[UInt8]] = [[], [1, 2, 3], Array(repeating: 7, count: 300)]
        for e in entries { try EntryBundle.append(e, to: &b) }
        #expect(try EntryBundle.decode(b).map(Array.init) == entries)
        #expect(try EntryBundle.decode(EntryBundle.prefix(b, count: 2)).map(Array.init) == Array(entries[0..<2]))
        #expect(throws: TileError.self) { try EntryBundle.decode(Array(b.dropLast())) }
        var big: [UInt8] = []
        #expect(throws: TileError.entryTooLarge(65_536)) { try EntryBundle.append([UInt8](repeating: 0, count: 65_536), to: &big) }
    }
}
