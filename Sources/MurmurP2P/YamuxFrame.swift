/// The 12-byte yamux frame header.
///
/// Spec: https://github.com/hashicorp/yamux/blob/master/spec.md and libp2p/specs yamux/README.md:
/// version (0), type, flags (16 bits), stream id (32 bits), length (32 bits), all big-endian.
/// For data frames `length` counts the bytes that follow; for window updates it is the window
/// delta, for pings the opaque value, for GoAway the error code.
public struct YamuxHeader: Equatable, Sendable {
    /// The frame types.
    public enum FrameType: UInt8, Sendable {
        /// Data for a stream.
        case data = 0
        /// Grants more receive window (or carries flags alone).
        case windowUpdate = 1
        /// Session liveness / RTT.
        case ping = 2
        /// Session shutdown.
        case goAway = 3
    }

    /// The flag bits.
    public struct Flags: OptionSet, Equatable, Sendable {
        /// The 16 flag bits.
        public let rawValue: UInt16
        /// Flags from their bits.
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// Opens a stream (or starts a ping).
        public static let syn = Flags(rawValue: 1)
        /// Acknowledges a stream (or answers a ping).
        public static let ack = Flags(rawValue: 2)
        /// Half-closes the sender's direction.
        public static let fin = Flags(rawValue: 4)
        /// Resets the stream at once.
        public static let rst = Flags(rawValue: 8)
    }

    /// GoAway codes.
    public enum GoAwayCode: UInt32, Sendable {
        /// Normal termination.
        case normal = 0
        /// The peer broke the protocol.
        case protocolError = 1
        /// An internal error.
        case internalError = 2
    }

    /// The header size in bytes.
    public static let size = 12

    /// The frame type.
    public var type: FrameType
    /// The flags.
    public var flags: Flags
    /// The stream (0 for session frames).
    public var streamID: UInt32
    /// Data length, window delta, ping value or GoAway code.
    public var length: UInt32

    /// A header with the given fields (version is always 0).
    public init(type: FrameType, flags: Flags = [], streamID: UInt32, length: UInt32) {
        self.type = type
        self.flags = flags
        self.streamID = streamID
        self.length = length
    }

    /// Decodes 12 bytes starting at `bytes.startIndex`.
    public init<C: RandomAccessCollection>(decoding bytes: C) throws where C.Element == UInt8, C.Index == Int {
        guard bytes.count >= Self.size else { throw P2PError.muxerProtocolError("a header is 12 bytes, got \(bytes.count)") }
        let b = bytes.startIndex
        guard bytes[b] == 0 else { throw P2PError.muxerProtocolError("unsupported yamux version \(bytes[b])") }
        guard let type = FrameType(rawValue: bytes[b + 1]) else {
            throw P2PError.muxerProtocolError("unknown frame type \(bytes[b + 1])")
        }
        func u32(_ i: Int) -> UInt32 {
            UInt32(bytes[b + i]) << 24 | UInt32(bytes[b + i + 1]) << 16 | UInt32(bytes[b + i + 2]) << 8 | UInt32(bytes[b + i + 3])
        }
        self.init(
            type: type, flags: Flags(rawValue: UInt16(bytes[b + 2]) << 8 | UInt16(bytes[b + 3])),
            streamID: u32(4), length: u32(8))
    }

    /// Calls `body` with the 12 header bytes on the stack (the data path: no array per frame).
    func withEncoded<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // A tuple of three UInt32s has no padding: its memory is exactly the 12 bytes.
        var words = (
            (UInt32(type.rawValue) << 16 | UInt32(flags.rawValue)).bigEndian, streamID.bigEndian, length.bigEndian
        )
        return try withUnsafeBytes(of: &words) { try body($0) }
    }

    /// The 12 header bytes.
    public var encoded: [UInt8] { withEncoded { Array($0) } }
}
