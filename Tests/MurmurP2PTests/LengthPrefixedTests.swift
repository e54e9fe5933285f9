import Testing

@testable import MurmurP2P

/// Vectors from https://github.com/multiformats/unsigned-varint (README "Examples").
@Suite struct LengthPrefixedTests {
    @Test func varintSpecExamples() throws {
        let cases: [(UInt64, [UInt8])] = [
            (1, [0x01]), (127, [0x7f]), (128, [0x80, 0x01]), (255, [0xff, 0x01]),
            (300, [0xac, 0x02]), (16384, [0x80, 0x80, 0x01]),
        ]
        for (value, bytes) in cases {
            #expect(UnsignedVarint.encode(value) == bytes)
            let decoded = try UnsignedVarint.decode(bytes)
            #expect(decoded?.value == value)
            #expect(decoded?.size == bytes.count)
        }
    }

    @Test func varintRejectsNonMinimalAndOverlong() throws {
        #expect(throws: P2PError.self) { try UnsignedVarint.decode([0x80, 0x00]) }
        #expect(throws: P2PError.self) { try UnsignedVarint.decode([UInt8](repeating: 0xff, count: 10)) }
        #expect(try UnsignedVarint.decode([0x80, 0x80]) == nil)  // incomplete, not an error
    }

    @Test func framesSplitAcrossFeeds() throws {
        let payloads: [[UInt8]] = [[], [1, 2, 3], [UInt8](repeating: 7, count: 300)]
        let wire = payloads.flatMap(LengthPrefixedDecoder.frame)
        var decoder = LengthPrefixedDecoder(maxLength: 1000)
        var got: [[UInt8]] = []
        for byte in wire {  // one byte at a time
            decoder.feed([byte])
            while let f = try decoder.next() { got.append(f) }
        }
        #expect(got == payloads)
        #expect(decoder.buffered.isEmpty)
    }

    @Test func oversizedFrameIsRejectedBeforeBuffering() throws {
        var decoder = LengthPrefixedDecoder(maxLength: 10)
        decoder.feed(UnsignedVarint.encode(1 << 40))
        #expect(throws: P2PError.self) { try decoder.next() }
    }
}
