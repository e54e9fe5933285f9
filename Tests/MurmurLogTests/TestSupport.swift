import Foundation
@testable import MurmurLog

/// A tree held in memory: the reference the tile store and proofs are compared against.
struct MemoryTree: HashReader {
    var leaves: [LogHash]
    func nodeHash(level: Int, index: UInt64) throws -> LogHash {
        let lo = Int(index << UInt64(level)), hi = Int((index + 1) << UInt64(level))
        return RFC9162.treeHash(leaves[lo..<hi])
    }
    var root: LogHash { RFC9162.treeHash(leaves[...]) }
}

/// A fresh temporary directory.
func temporaryDirectory() -> URL {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-log-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
}

/// The test data folder (see Data/README.md for sources).
var testData: URL { Bundle.module.resourceURL!.appendingPathComponent("Data") }

extension [UInt8] {
    init(_ s: String) { self = Array(s.utf8) }
}
