import Foundation
import MurmurCore
import NIOConcurrencyHelpers

/// Where a node keeps the blocks it holds and serves over `/murmur/blocks/1`.
///
/// `put` takes a `Block` (already verified); `get` returns only bytes that hash to the CID, so
/// whatever a store hands out may be served without hashing again.
public protocol BlockStore: Sendable {
    /// The bytes of `cid`, or nil when the store does not hold it.
    func get(_ cid: CID) async throws -> [UInt8]?
    /// Stores `block` (replacing any copy under the same CID).
    func put(_ block: Block) async throws
    /// Whether the store holds `cid`.
    func has(_ cid: CID) async throws -> Bool
}

/// A block store in memory (tests, benchmarks, short-lived nodes).
///
/// Blocks are `Block` values, verified when they were built, so reads need no hashing.
public final class MemoryBlockStore: BlockStore {
    private let blocks = NIOLockedValueBox<[CID: [UInt8]]>([:])

    /// An empty store.
    public init() {}

    /// The bytes of `cid`, or nil.
    public func get(_ cid: CID) async throws -> [UInt8]? { blocks.withLockedValue { $0[cid] } }

    /// Stores `block`.
    public func put(_ block: Block) async throws { blocks.withLockedValue { $0[block.cid] = block.bytes } }

    /// Whether `cid` is held.
    public func has(_ cid: CID) async throws -> Bool { blocks.withLockedValue { $0[cid] != nil } }

    /// How many blocks are held.
    public var count: Int { blocks.withLockedValue { $0.count } }
}

/// A block store in a folder: one file per block named by its CID (`bafk….block`).
///
/// Writes go to a temporary file in the same folder and are renamed into place (rename(2) is
/// atomic), so a crash never leaves a half-written block under a CID; reads hash the file and
/// throw `storeFailed` when it no longer matches its name (disk corruption, manual edits).
public final class DirectoryBlockStore: BlockStore {
    /// The folder.
    public let directory: URL

    /// A store in `directory`, created if missing.
    public init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw BlockError.storeFailed("cannot create \(directory.path): \(error.localizedDescription)")
        }
    }

    /// The file that holds `cid`.
    public func path(for cid: CID) -> URL { directory.appendingPathComponent("\(cid).block") }

    /// The verified bytes of `cid`, or nil when there is no file for it.
    public func get(_ cid: CID) async throws -> [UInt8]? {
        let url = path(for: cid)
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return nil }
        defer { try? handle.close() }
        let data: Data
        do {
            // One byte more than a block may hold, so an oversized file is caught without reading it all.
            data = try handle.read(upToCount: Block.maxSize + 1) ?? Data()
        } catch {
            throw BlockError.storeFailed("cannot read \(url.path): \(error.localizedDescription)")
        }
        do {
            return try Block(verifying: [UInt8](data), as: cid).bytes
        } catch {
            throw BlockError.storeFailed("\(url.path) no longer matches its CID (\(error)); delete it and fetch the block again")
        }
    }

    /// Writes `block` atomically (temporary file, then rename).
    public func put(_ block: Block) async throws {
        let url = path(for: block.cid)
        let temporary = directory.appendingPathComponent(".\(block.cid).\(UUID().uuidString).tmp")
        do {
            try Data(block.bytes).write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                let code = errno
                try? FileManager.default.removeItem(at: temporary)
                throw BlockError.storeFailed("cannot rename a block into \(url.path): \(String(cString: strerror(code)))")
            }
        } catch let e as BlockError {
            throw e
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw BlockError.storeFailed("cannot write \(temporary.path): \(error.localizedDescription)")
        }
    }

    /// Whether a file for `cid` exists (not verified; `get` verifies).
    public func has(_ cid: CID) async throws -> Bool { FileManager.default.fileExists(atPath: path(for: cid).path) }
}
