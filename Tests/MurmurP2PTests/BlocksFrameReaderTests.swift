import Testing

@testable import MurmurP2P

/// `BlockFrameReader` over scripted chunk sequences: frames split anywhere, bounds checked
/// before buffering, truncated and malformed prefixes.
@Suite struct BlocksFrameReaderTests {
    /// A byte source that hands out `chunks` one at a time, then ends.
    final class Source: @unchecked Sendable {  // used from one task only
        var chunks: [[UInt8]]
        var reads = 0
        init(_ chunks: [[UInt8]]) { self.chunks = chunks }
        func read() async throws -> [UInt8]? {
            reads += 1
            return chunks.isEmpty ? nil : chunks.removeFirst()
        }
    }

    /// Splits `bytes` into pieces of `size` (the last shorter).
    static func pieces(_ bytes: [UInt8], _ size: Int) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }

    @Test func readerReassemblesFramesSplitAnywhere() async throws {
        let frames = [[UInt8](repeating: 1, count: 200), [], [2, 3], [UInt8](repeating: 4, count: 1000)]
        let wire = frames.flatMap { LengthPrefixedDecoder.frame($0) }
        for size in [1, 2, 3, 7, 128, 201, 5000] {
            let source = Source(Self.pieces(wire, size))
            var reader = BlockFrameReader()
            var got: [[UInt8]] = []
            while let f = try await reader.next(maxLength: 1000, from: source.read) { got.append(f) }
            #expect(got == frames, "piece size \(size)")
        }
    }

    @Test func readerRejectsOversizeFramesBeforeReadingThem() async throws {
        // Declares 1 MiB + 2 bytes; only the 4-byte prefix arrives in the first chunk.
        let source = Source([UnsignedVarint.encode(UInt64(BlockProtocol.maxResponseLength + 1)), [UInt8](repeating: 0, count: 64)])
        var reader = BlockFrameReader()
        await #expect(throws: BlockError.sizeLimitExceeded("a frame of \(BlockProtocol.maxResponseLength + 1) bytes exceeds the limit of \(BlockProtocol.maxResponseLength)")) {
            _ = try await reader.next(maxLength: BlockProtocol.maxResponseLength, from: source.read)
        }
        #expect(source.reads == 1)
    }

    @Test func readerRejectsTruncatedAndBadPrefixes() async throws {
        for chunks: [[UInt8]] in [[[5, 1, 2]], [[0x80]], [[0x80, 0x00]], [Array(repeating: 0xFF, count: 10)]] {
            var reader = BlockFrameReader()
            let source = Source(chunks)
            await #expect(throws: BlockError.self, "\(chunks)") { _ = try await reader.next(maxLength: 100, from: source.read) }
        }
        // A source that ends between frames is a clean end.
        var reader = BlockFrameReader()
        let source = Source([[1, 9]])
        #expect(try await reader.next(maxLength: 100, from: source.read) == [9])
        #expect(try await reader.next(maxLength: 100, from: source.read) == nil)
    }
}
