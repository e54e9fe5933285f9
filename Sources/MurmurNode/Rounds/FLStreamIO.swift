import MurmurCore
import MurmurP2P

/// Reading and writing one `/murmur/fl/1` message per stream direction.
enum FLStreamIO {
    /// Reads exactly one frame followed by the end of the stream; bounded by the model size.
    ///
    /// Rejects a declared length over the limit as soon as the prefix arrives, and bytes after
    /// the frame as soon as they arrive, so a peer cannot make us buffer more than one message.
    static func readMessage(_ stream: P2PStream, parameterCount: Int) async throws -> FLMessage {
        try await readCountedMessage(stream, parameterCount: parameterCount).message
    }

    /// `readMessage`, also returning the frame's size in bytes.
    static func readCountedMessage(_ stream: P2PStream, parameterCount: Int, withheldDelta: Bool = false) async throws -> (message: FLMessage, bytes: Int) {
        let limit = FLWire.maxMessageLength(parameterCount: parameterCount)
        var buffer: [UInt8] = []
        var frameEnd: Int?
        while let chunk = try await stream.read() {
            buffer += chunk
            if frameEnd == nil {
                if let (length, size) = try? Varint.decode(buffer[...]) {
                    guard length <= UInt64(limit) else { throw FLWireError.frameTooLarge(length: length, limit: limit) }
                    frameEnd = size + Int(length)
                } else if buffer.count >= 10 {
                    throw FLWireError.invalidEncoding("the length prefix is not a varint")
                }
            }
            if let end = frameEnd, buffer.count > end { throw FLWireError.trailingBytes(buffer.count - end) }
        }
        return (try FLWire.decodeFrame(buffer, parameterCount: parameterCount, withheldDelta: withheldDelta), buffer.count)
    }

    /// Writes `message` as one frame and half-closes.
    static func writeMessage(_ stream: P2PStream, _ message: FLMessage) async throws {
        try await stream.write(FLWire.frame(message))
        try await stream.closeWrite()
    }
}
