import MurmurCore
import Testing

@testable import MurmurP2P

/// `/murmur/blocks/1` frames byte by byte, without a socket: requests, responses, the frame
/// reader's bounds, and the typed errors for malformed input.
@Suite struct BlocksProtocolTests {
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

    @Test func requestRoundTripsAndHasTheDocumentedLayout() throws {
        let cids = (0..<2).map { CID.raw([UInt8($0)]) } + [CID.json([9])]
        let frame = try BlockProtocol.encodeRequest(cids)
        // uvarint(len) ‖ uvarint(3) ‖ 3 × (uvarint(cidLen) ‖ CID): raw CIDs are 36 bytes, json ones 37.
        #expect(frame.count == 1 + 1 + 2 * 37 + 38)
        #expect(Array(frame.prefix(3)) == [UInt8(frame.count - 1), 3, 36])
        #expect(Array(frame[3..<39]) == cids[0].bytes)
        #expect(try BlockProtocol.decodeRequest(Array(frame.dropFirst())) == cids)
    }

    @Test func responsesRoundTrip() throws {
        let block = (0..<300).map { UInt8(truncatingIfNeeded: $0) }
        let frame = BlockProtocol.encodeResponse(.block(block))
        #expect(Array(frame.prefix(3)) == [0xAD, 0x02, 0x00])  // 301 = 0xAD 0x02, status 0
        #expect(try BlockProtocol.decodeResponse(Array(frame.dropFirst(2))) == .block(block))
        #expect(BlockProtocol.encodeResponse(.dontHave) == [1, 1])
        #expect(try BlockProtocol.decodeResponse([1]) == .dontHave)
        #expect(try BlockProtocol.decodeResponse([0]) == .block([]))
    }

    @Test func malformedRequestsAreRejectedWithTypedErrors() throws {
        let cid = CID.raw([1]).bytes
        #expect(throws: BlockError.sizeLimitExceeded("a request asks for 0 blocks; 1…16 are allowed")) {
            try BlockProtocol.encodeRequest([])
        }
        #expect(throws: BlockError.self) { try BlockProtocol.encodeRequest(Array(repeating: CID.raw([1]), count: 17)) }
        let bad: [[UInt8]] = [
            [],  // no count
            [0],  // zero CIDs
            [17] + Array(repeating: [36] + cid, count: 17).flatMap { $0 },  // too many CIDs
            [1, 36] + cid.prefix(20),  // CID runs past the end
            [1, 36] + cid + [0],  // trailing byte
            [1, 0x80],  // varint ends early
            [1, 0x80, 0x00],  // non-minimal varint
            [1, 65] + Array(repeating: 1, count: 65),  // CID longer than 64 bytes
            [1, 36] + [0x00] + cid.dropFirst(),  // CID version 0
            [1, 35] + cid.dropLast(),  // digest shorter than declared
        ]
        for body in bad {
            #expect(throws: BlockError.self, "\(body.prefix(8))") { try BlockProtocol.decodeRequest(body) }
        }
    }

    @Test func malformedResponsesAreRejected() {
        #expect(throws: BlockError.malformedMessage("an empty response frame (no status byte)")) { try BlockProtocol.decodeResponse([]) }
        #expect(throws: BlockError.malformedMessage("unknown status byte 0x2")) { try BlockProtocol.decodeResponse([2, 1]) }
        #expect(throws: BlockError.self) { try BlockProtocol.decodeResponse([1, 5]) }
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
