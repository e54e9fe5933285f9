import MurmurCore

/// `/murmur/blocks/1`: ask a peer for blocks by CID; it answers each with the bytes or "don't have".
///
/// On one stream the client sends requests and reads the answers, in order; the server answers
/// requests until the client closes its side. Every frame is unsigned-varint length-prefixed
/// (multiformats/unsigned-varint, as libp2p protocols frame messages):
///
///     request  = uvarint(len) ‖ uvarint(n) ‖ n × (uvarint(cidLen) ‖ binary CIDv1)     1 ≤ n ≤ 16
///     response = uvarint(len) ‖ status ‖ bytes      (n of them, in request order)
///     status   = 0x00 block (bytes = the block, ≤ 1 MiB) | 0x01 don't have (no bytes)
///
/// The client hashes every block against the CID it asked for before using it (`Block(verifying:as:)`).
public enum BlockProtocol {
    /// The protocol id.
    public static let id = "/murmur/blocks/1"
    /// The most CIDs in one request.
    public static let maxWants = 16
    /// The largest request frame (16 CIDs of at most 64 bytes with their length prefixes).
    public static let maxRequestLength = 1 + maxWants * (1 + CID.maxBinaryLength)
    /// The largest response frame: a status byte and a whole block.
    public static let maxResponseLength = 1 + Block.maxSize

    /// One answer: the block's bytes (not yet verified), or the peer does not hold it.
    public enum Response: Sendable, Equatable {
        /// The bytes the peer sent for the CID (verify before use).
        case block([UInt8])
        /// The peer does not hold the CID.
        case dontHave
    }

    // MARK: encoding

    /// The request frame (with its length prefix) asking for `cids` (1 … `maxWants`).
    public static func encodeRequest(_ cids: [CID]) throws(BlockError) -> [UInt8] {
        guard (1...maxWants).contains(cids.count) else {
            throw .sizeLimitExceeded("a request asks for \(cids.count) blocks; 1…\(maxWants) are allowed")
        }
        var body = UnsignedVarint.encode(UInt64(cids.count))
        for cid in cids {
            let bytes = cid.bytes
            guard bytes.count <= CID.maxBinaryLength else { throw .unsupportedCID("\(cid) is longer than \(CID.maxBinaryLength) bytes") }
            body += UnsignedVarint.encode(UInt64(bytes.count)) + bytes
        }
        return LengthPrefixedDecoder.frame(body)
    }

    /// Decodes a request body (the frame without its length prefix).
    public static func decodeRequest(_ body: [UInt8]) throws(BlockError) -> [CID] {
        var at = 0
        func varint(_ what: String) throws(BlockError) -> Int {
            let decoded: (value: UInt64, size: Int)?
            do { decoded = try UnsignedVarint.decode(body[at...]) } catch { throw .malformedMessage("\(what): \(error)") }
            guard let decoded else { throw .malformedMessage("request ends inside \(what)") }
            guard decoded.value <= UInt64(maxRequestLength) else { throw .malformedMessage("\(what) \(decoded.value) is out of range") }
            at += decoded.size
            return Int(decoded.value)
        }
        let n = try varint("the CID count")
        guard (1...maxWants).contains(n) else {
            throw .sizeLimitExceeded("the request asks for \(n) blocks; 1…\(maxWants) are allowed")
        }
        var cids: [CID] = []
        for i in 0..<n {
            let length = try varint("CID \(i)'s length")
            guard length <= body.count - at else { throw .malformedMessage("CID \(i) runs past the end of the request") }
            cids.append(try CID(binary: Array(body[at..<(at + length)])))
            at += length
        }
        guard at == body.count else { throw .malformedMessage("\(body.count - at) bytes after the last CID") }
        return cids
    }

    /// The response frame header for a block of `count` bytes (prefix and status; the bytes follow).
    static func blockHeader(count: Int) -> [UInt8] { UnsignedVarint.encode(UInt64(count + 1)) + [0x00] }

    /// The whole "don't have" frame.
    static let dontHaveFrame: [UInt8] = [0x01, 0x01]

    /// A response frame, with its length prefix.
    public static func encodeResponse(_ response: Response) -> [UInt8] {
        switch response {
        case .block(let bytes): return blockHeader(count: bytes.count) + bytes
        case .dontHave: return dontHaveFrame
        }
    }

    /// Decodes a response body (the frame without its length prefix).
    public static func decodeResponse(_ body: [UInt8]) throws(BlockError) -> Response {
        guard let status = body.first else { throw .malformedMessage("an empty response frame (no status byte)") }
        switch status {
        case 0x00: return .block(Array(body.dropFirst()))
        case 0x01:
            guard body.count == 1 else { throw .malformedMessage("a don't-have answer carries \(body.count - 1) bytes") }
            return .dontHave
        default: throw .malformedMessage("unknown status byte 0x\(String(status, radix: 16))")
        }
    }

    // MARK: server

    /// The stream handler that serves blocks from `store`; register it before creating the host:
    /// `config.handlers[BlockProtocol.id] = BlockProtocol.handler(store: store)`.
    public static func handler(store: any BlockStore) -> StreamHandler {
        { stream in try await serve(stream, store: store) }
    }

    /// Answers requests on `stream` from `store` until the peer closes its side.
    ///
    /// A malformed or oversized request resets the stream (the error is rethrown); a block the
    /// store cannot read (e.g. a corrupt file) is answered "don't have".
    public static func serve(_ stream: P2PStream, store: any BlockStore) async throws {
        var reader = BlockFrameReader()
        do {
            while let frame = try await reader.next(maxLength: maxRequestLength, from: stream.read) {
                for cid in try decodeRequest(frame) {
                    if let bytes = try? await store.get(cid), bytes.count <= Block.maxSize {
                        try await stream.write(blockHeader(count: bytes.count))
                        try await stream.write(bytes)
                    } else {
                        try await stream.write(dontHaveFrame)
                    }
                }
            }
            try await stream.closeWrite()
        } catch let error as BlockError {
            await stream.reset()
            throw error
        }
    }
}
