/// Outgoing yamux bytes as pieces: 12-byte frame headers and slices of the streams' write queues.
///
/// The Noise layer seals the pieces of each transport message one after another
/// (`NoiseSession.encrypt(_:into:)`), so stream data goes from the array the application wrote
/// straight through the cipher into the socket's buffer; nothing is copied into a frame first.
/// A data piece holds a reference to the queue array (copy-on-write: no bytes are copied).
struct YamuxOutgoing: Sendable {
    /// One piece of the byte sequence.
    enum Piece: Sendable {
        /// A frame header (12 bytes, encoded when sealed).
        case header(YamuxHeader)
        /// `range` of `bytes`: a data frame's payload.
        case data([UInt8], Range<Int>)

        var count: Int {
            switch self {
            case .header: return YamuxHeader.size
            case .data(_, let range): return range.count
            }
        }
    }

    /// The pieces in order.
    private(set) var pieces: [Piece] = []
    /// The bytes of all pieces.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ header: YamuxHeader) {
        pieces.append(.header(header))
        count += YamuxHeader.size
    }

    mutating func append(_ bytes: [UInt8], _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        pieces.append(.data(bytes, range))
        count += range.count
    }

    /// Calls `body` with bytes `range` (within piece `index`) where they lie.
    func withBytes<R>(of index: Int, _ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch pieces[index] {
        case .header(let h):
            return try h.withEncoded { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
        case .data(let bytes, let r):
            return try bytes.withUnsafeBytes {
                try body(UnsafeRawBufferPointer(rebasing: $0[(r.lowerBound + range.lowerBound)..<(r.lowerBound + range.upperBound)]))
            }
        }
    }

    /// All pieces in one array (the byte-level API and the swift-crypto path).
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for i in pieces.indices { withBytes(of: i, 0..<pieces[i].count) { out.append(contentsOf: $0) } }
        return out
    }
}
