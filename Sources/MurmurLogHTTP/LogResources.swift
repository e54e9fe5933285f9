import MurmurLog

/// The read side of a log for HTTP: the latest published checkpoint and tlog-tiles resources
/// (c2sp.org/tlog-tiles). An actor because a `TileLog` is one mutable object that requests share;
/// it re-reads the committed state so entries appended by another process (`murmur log append`) are served.
public actor LogResources {
    let log: TileLog

    /// Opens the log in `directory` for reading.
    public init(directory: LogDirectory) throws {
        log = try directory.open()
    }

    /// Serves an already open log (tests, embedding); the actor becomes its only user.
    public init(log: sending TileLog) {
        self.log = log
    }

    /// The latest published checkpoint note (with any cosignatures), or `.notFound` if none was published yet.
    public func checkpoint() throws -> String {
        try log.refresh()
        guard let note = try log.latestCheckpoint() else {
            throw LogStoreError.notFound("no checkpoint published yet; run `murmur log checkpoint DIR`")
        }
        return note
    }

    /// The bytes of a tile or entry bundle; re-reads the state once if the resource is beyond the known size.
    public func resource(_ id: TileID) throws -> [UInt8] {
        do {
            return try log.resource(id)
        } catch LogStoreError.notFound(let m) {
            guard try log.refresh() else { throw LogStoreError.notFound(m) }
            return try log.resource(id)
        }
    }

    /// The current tree size (after re-reading the state).
    public func size() throws -> UInt64 {
        try log.refresh()
        return log.size
    }
}
