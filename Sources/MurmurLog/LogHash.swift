import Foundation
import MurmurCore

/// A 32-byte SHA-256 Merkle tree hash, stored inline (no heap allocation).
/// Proofs are plain arrays of these; RFC 9162 §2.1 fixes the hash function to SHA-256.
public struct LogHash: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes in memory order (not interpreted as integers).
    @usableFromInline var words: SIMD4<UInt64>

    /// The all-zero hash; a placeholder, never a real tree hash.
    public static let zero = LogHash(words: SIMD4<UInt64>(repeating: 0))

    @usableFromInline init(words: SIMD4<UInt64>) { self.words = words }

    /// From exactly 32 bytes; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var w = SIMD4<UInt64>(repeating: 0)
        withUnsafeMutableBytes(of: &w) { dst in
            for (i, b) in bytes.enumerated() { dst[i] = b }
        }
        words = w
    }

    /// From a raw buffer of at least 32 bytes starting at `offset`.
    @inlinable
    public init(buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        var w = SIMD4<UInt64>(repeating: 0)
        withUnsafeMutableBytes(of: &w) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + 32]))
        }
        words = w
    }

    /// From standard base64 (RFC 4648 §4), as in checkpoints and proof lines.
    public init?(base64: some StringProtocol) {
        guard let d = Data(base64Encoded: String(base64)), let h = LogHash(bytes: d) else { return nil }
        self = h
    }

    /// The 32 bytes.
    public var bytes: [UInt8] { withUnsafeBytes(of: words) { Array($0) } }

    /// Standard base64, the form used in checkpoints and proof lines.
    public var base64: String { Data(bytes).base64EncodedString() }

    /// Lowercase hex.
    public var hex: String { Multibase.hex(bytes) }

    public var description: String { base64 }

    /// Appends the 32 bytes to `out`.
    @inlinable
    public func append(to out: inout [UInt8]) {
        withUnsafeBytes(of: words) { out.append(contentsOf: $0) }
    }
}

/// Reads 32-byte hashes from a concatenation of hashes (a tile).
enum HashList {
    /// Splits `bytes` (a multiple of 32 long) into hashes; nil if the length is not a multiple of 32.
    static func decode(_ bytes: some ContiguousCollection<UInt8>) -> [LogHash]? {
        guard bytes.count % 32 == 0 else { return nil }
        return bytes.withContiguousStorageIfAvailable { buf in
            let raw = UnsafeRawBufferPointer(buf)
            return (0..<(buf.count / 32)).map { LogHash(buffer: raw, offset: $0 * 32) }
        }
    }

    /// Concatenates hashes into tile bytes.
    static func encode(_ hashes: some Collection<LogHash>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(hashes.count * 32)
        for h in hashes { h.append(to: &out) }
        return out
    }
}

/// A collection with contiguous storage we can hand to C.
protocol ContiguousCollection<Element>: Collection {
    func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R?
}
extension Array: ContiguousCollection {}
extension ArraySlice: ContiguousCollection {}
