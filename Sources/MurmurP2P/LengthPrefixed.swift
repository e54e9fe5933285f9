/// multiformats unsigned-varint: at most 9 bytes, minimal encoding, 63-bit values.
///
/// Spec: https://github.com/multiformats/unsigned-varint. Used for multistream messages,
/// identify messages and any length-prefixed libp2p payload.
public enum UnsignedVarint {
    /// The encoding of `value` (7 bits a byte, low first, high bit = more).
    public static func encode(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        repeat {
            var b = UInt8(v & 0x7F)
            v >>= 7
            if v != 0 { b |= 0x80 }
            out.append(b)
        } while v != 0
        return out
    }

    /// Decodes a varint at the front of `bytes`: `nil` when more bytes are needed, else value and size.
    ///
    /// Throws on a non-minimal encoding or one longer than 9 bytes, as the spec requires.
    public static func decode<C: Collection>(_ bytes: C) throws -> (value: UInt64, size: Int)? where C.Element == UInt8 {
        var value: UInt64 = 0
        var size = 0
        for b in bytes {
            guard size < 9 else { throw P2PError.invalidFrame("varint longer than 9 bytes") }
            value |= UInt64(b & 0x7F) << (7 * UInt64(size))
            size += 1
            if b & 0x80 == 0 {
                if b == 0 && size > 1 { throw P2PError.invalidFrame("varint is not minimally encoded") }
                return (value, size)
            }
        }
        if size >= 9 { throw P2PError.invalidFrame("varint longer than 9 bytes") }
        return nil
    }
}

/// Splits a byte stream into unsigned-varint length-prefixed frames.
///
/// Feed it bytes as they arrive; it returns whole frames and keeps the rest. A declared length
/// above `maxLength` is an error before anything is buffered for it (no unbounded allocation).
public struct LengthPrefixedDecoder: Sendable {
    /// The largest frame accepted.
    public let maxLength: Int
    /// Bytes received but not yet returned as frames.
    public private(set) var buffered: [UInt8] = []

    /// A decoder that rejects frames longer than `maxLength` bytes.
    public init(maxLength: Int) { self.maxLength = maxLength }

    /// Appends `bytes` to the buffer.
    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 { buffered.append(contentsOf: bytes) }

    /// The next whole frame, or `nil` until more bytes arrive.
    public mutating func next() throws -> [UInt8]? {
        guard let (length, size) = try UnsignedVarint.decode(buffered) else { return nil }
        guard length <= UInt64(maxLength) else {
            throw P2PError.invalidFrame("frame of \(length) bytes exceeds the limit of \(maxLength)")
        }
        let end = size + Int(length)
        guard buffered.count >= end else { return nil }
        let frame = Array(buffered[size..<end])
        buffered.removeFirst(end)
        return frame
    }

    /// Takes whatever is buffered (bytes after the last frame, for the next protocol layer).
    public mutating func takeRemainder() -> [UInt8] {
        defer { buffered = [] }
        return buffered
    }

    /// The payload when `bytes` is exactly one frame (varint length, then that many bytes), else
    /// nil. Throws on a malformed varint.
    public static func single(_ bytes: [UInt8]) throws -> [UInt8]? {
        guard let (length, size) = try UnsignedVarint.decode(bytes), UInt64(bytes.count - size) == length else { return nil }
        return Array(bytes[size...])
    }

    /// The frame encoding of `payload`: varint length, then the bytes.
    public static func frame(_ payload: [UInt8]) -> [UInt8] { UnsignedVarint.encode(UInt64(payload.count)) + payload }
}
