import MurmurCore
import MurmurP2P
import MurmurSecAgg

/// The first message of a `/murmur/secagg/1` stream: the round's public configuration and the
/// recipient's index in it. The rest of the stream carries `SecAggMessage.encoded()` frames.
public struct SecAggSetup: Sendable {
    /// The round configuration every participant derives the same graph from.
    public var config: SecAggRoundConfig
    /// The graph seed (sent so the client can rebuild `config.graph`).
    public var graphSeed: UInt64
    /// The recipient's position in `config.participants`.
    public var index: Int

    /// A setup for participant `index` of `config` (whose graph came from `graphSeed`).
    public init(config: SecAggRoundConfig, graphSeed: UInt64, index: Int) {
        self.config = config
        self.graphSeed = graphSeed
        self.index = index
    }
}

/// Malformed or refused `/murmur/secagg/1` input.
public enum SecAggWireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The setup message did not parse or has out-of-range values.
    case invalidSetup(String)
    /// A frame's declared length is above the round's limit.
    case frameTooLarge(length: UInt64, limit: Int)
    /// The stream ended in the middle of a frame.
    case truncated
    /// A message names another client than the one this stream belongs to.
    case wrongSender(expected: Int, got: Int)
    /// The round's dimension is above what this client accepts.
    case dimensionTooLarge(Int, limit: Int)
    /// The setup does not name this node's key at its index.
    case notAParticipant(Int)

    /// The message shown in logs.
    public var description: String {
        switch self {
        case .invalidSetup(let m): "/murmur/secagg/1 setup is invalid: \(m)"
        case let .frameTooLarge(length, limit): "/murmur/secagg/1 frame of \(length) bytes exceeds the round's limit of \(limit)"
        case .truncated: "/murmur/secagg/1 stream ended inside a frame"
        case let .wrongSender(expected, got): "/murmur/secagg/1 stream of client \(expected) carried a message from client \(got)"
        case let .dimensionTooLarge(d, limit): "/murmur/secagg/1 round dimension \(d) is above this client's limit \(limit)"
        case .notAParticipant(let i): "/murmur/secagg/1 setup lists another key at index \(i) than this node's"
        }
    }
}

/// Encoding of `/murmur/secagg/1` frames (docs/node.md, "Networked rounds").
///
/// Setup fields (proto3 wire format): 1 version, 2 round, 3 client_count, 4 degree, 5 threshold,
/// 6 clip (fixed32 binary32), 7 input_bits, 8 dimension, 9 graph_seed, 10 minimum_survivors,
/// 11 index, 12 participants (32-byte Ed25519 keys back to back). Every frame is varint-length
/// prefixed; protocol messages use MurmurSecAgg's own little-endian layout (Wire.swift).
public enum SecAggWire {
    /// The protocol id.
    public static let protocolID = "/murmur/secagg/1"
    /// The setup version.
    public static let version: UInt64 = 1
    /// Bytes of a setup besides the participant keys.
    public static let setupAllowance = 4096
    /// The most participants a round may have.
    public static let maxParticipants = 10_000

    /// The largest frame of a round with `n` participants and dimension `d`: a masked input
    /// (4·d bytes) or a roster/share bundle (a few hundred bytes per participant), plus headroom.
    public static func maxFrameLength(participants n: Int, dimension d: Int) -> Int { 4 * d + 512 * n + 4096 }

    /// The setup frame's body.
    public static func encode(_ setup: SecAggSetup) -> [UInt8] {
        let c = setup.config
        var w = FieldWriter()
        w.varint(1, version)
        w.varint(2, c.round)
        w.varint(3, UInt64(c.parameters.clientCount))
        w.varint(4, UInt64(c.parameters.degree))
        w.varint(5, UInt64(c.parameters.threshold))
        w.fixed32(6, c.parameters.quantizer.clip.bitPattern)
        w.varint(7, UInt64(c.parameters.quantizer.inputBits))
        w.varint(8, UInt64(c.dimension))
        w.varint(9, setup.graphSeed)
        w.varint(10, UInt64(c.minimumSurvivors))
        w.varint(11, UInt64(setup.index))
        w.bytes(12, c.participants.flatMap(\.raw))
        return w.bytes
    }

    /// Decodes a setup body, refusing rounds above `maxDimension`.
    public static func decodeSetup(_ body: [UInt8], maxDimension: Int) throws -> SecAggSetup {
        do {
            let f = try FieldReader.read(body)
            guard try f.varint(1, "version") == version else { throw SecAggWireError.invalidSetup("unsupported version") }
            let n = try f.int(3, "client_count", max: maxParticipants, min: 2)
            let dimension = try f.int(8, "dimension", max: Int(Int32.max), min: 1)
            guard dimension <= maxDimension else { throw SecAggWireError.dimensionTooLarge(dimension, limit: maxDimension) }
            guard let keys = f.lengthDelimited[12], keys.count == 32 * n else {
                throw SecAggWireError.invalidSetup("participants must be \(n) keys of 32 bytes")
            }
            let participants = try stride(from: keys.startIndex, to: keys.endIndex, by: 32).map {
                try PublicIdentity(raw: Array(keys[$0..<$0 + 32]))
            }
            let quantizer = try Quantizer(clip: try f.finiteFloat(6, "clip"), inputBits: try f.int(7, "input_bits", max: 32), clientCount: n)
            let parameters = try SecAggParameters(
                clientCount: n, degree: try f.int(4, "degree", max: n - 1, min: 1), threshold: try f.int(5, "threshold", max: n),
                quantizer: quantizer)
            let graphSeed = try f.varint(9, "graph_seed")
            var config = try SecAggRoundConfig(
                round: try f.varint(2, "round"), parameters: parameters, participants: participants, dimension: dimension, graphSeed: graphSeed)
            config.minimumSurvivors = try f.int(10, "minimum_survivors", max: n)
            return SecAggSetup(config: config, graphSeed: graphSeed, index: try f.int(11, "index", max: n - 1))
        } catch let e as SecAggWireError {
            throw e
        } catch {
            throw SecAggWireError.invalidSetup("\(error)")
        }
    }
}

/// Reads varint-length-prefixed frames from a stream, bounded by a limit.
struct FrameReader {
    let stream: P2PStream
    /// The largest frame accepted (raised once the round's size is known).
    var limit: Int
    private var buffer: [UInt8] = []

    init(_ stream: P2PStream, limit: Int) {
        self.stream = stream
        self.limit = limit
    }

    /// The next frame, or nil at a clean end of stream.
    mutating func next() async throws -> [UInt8]? {
        while true {
            if let (length, size) = try? Varint.decode(buffer[...]) {
                guard length <= UInt64(limit) else { throw SecAggWireError.frameTooLarge(length: length, limit: limit) }
                let end = size + Int(length)
                if buffer.count >= end {
                    let frame = Array(buffer[size..<end])
                    buffer.removeFirst(end)
                    return frame
                }
            } else if buffer.count >= 10 {
                throw SecAggWireError.invalidSetup("a frame's length prefix is not a varint")
            }
            guard let chunk = try await stream.read() else {
                if buffer.isEmpty { return nil }
                throw SecAggWireError.truncated
            }
            buffer += chunk
        }
    }
}
