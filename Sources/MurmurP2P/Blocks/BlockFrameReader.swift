/// Reads unsigned-varint length-prefixed frames from a chunked byte source (a `P2PStream`).
///
/// The declared length is checked against the limit before any byte of the frame is buffered,
/// so a peer cannot make us allocate more than the limit.
public struct BlockFrameReader: Sendable {
    private var buffer: [UInt8] = []
    private var offset = 0

    /// A reader with nothing buffered.
    public init() {}

    /// The next frame's body; nil when the source ends cleanly between frames.
    ///
    /// Throws `sizeLimitExceeded` for a frame over `maxLength`, `malformedMessage` for a bad
    /// varint or a source that ends inside a frame.
    public mutating func next(maxLength: Int, from read: () async throws -> [UInt8]?) async throws -> [UInt8]? {
        // The length prefix: at most 9 bytes.
        var header: (value: UInt64, size: Int)?
        while true {
            do { header = try UnsignedVarint.decode(buffer[offset...]) } catch {
                throw BlockError.malformedMessage("frame length: \(error)")
            }
            if header != nil { break }
            guard let chunk = try await read() else {
                if offset == buffer.count { return nil }
                throw BlockError.malformedMessage("the stream ended inside a frame's length prefix")
            }
            compact()
            buffer += chunk
        }
        guard let (length, size) = header else { return nil }
        guard length <= UInt64(maxLength) else {
            throw BlockError.sizeLimitExceeded("a frame of \(length) bytes exceeds the limit of \(maxLength)")
        }
        offset += size
        let count = Int(length)
        var frame: [UInt8] = []
        frame.reserveCapacity(count)
        let first = min(count, buffer.count - offset)
        frame += buffer[offset..<(offset + first)]
        offset += first
        while frame.count < count {
            guard let chunk = try await read() else {
                throw BlockError.malformedMessage("the stream ended after \(frame.count) of a \(count)-byte frame")
            }
            let take = min(chunk.count, count - frame.count)
            frame += chunk[0..<take]
            if take < chunk.count {
                buffer = Array(chunk[take...])
                offset = 0
            }
        }
        compact()
        return frame
    }

    /// Drops consumed bytes.
    private mutating func compact() {
        if offset == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            offset = 0
        } else if offset > 0 {
            buffer.removeFirst(offset)
            offset = 0
        }
    }
}
