import MurmurCore
import Testing

@testable import MurmurP2P

/// `/murmur/blocks/1` messages byte by byte, without a socket: requests, responses, and the
/// typed errors for malformed input.
@Suite struct BlocksProtocolTests {
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
}
