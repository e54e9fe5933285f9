import Foundation

/// Collects the lines a child process writes to a pipe, read on a thread of its own.
/// Why: `murmur cluster` and the tests poll their node processes' output (addresses, progress)
/// without blocking Swift's cooperative pool or losing a line to a full pipe.
public final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []

    /// Starts reading `handle` until end of file.
    public init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending += chunk
                while let nl = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                    pending = Data(pending[(nl + 1)...])
                    lock.withLock { collected.append(line) }
                }
            }
        }
    }

    /// The lines read so far.
    public var lines: [String] { lock.withLock { collected } }

    /// The rest of the first line read so far that starts with `prefix`, or nil.
    public func firstLine(prefix: String) -> String? {
        lock.withLock { collected.first { $0.hasPrefix(prefix) } }.map { String($0.dropFirst(prefix.count)) }
    }
}
