import MurmurCore
import MurmurFL
import MurmurML

/// One message of the `/murmur/fl/1` protocol: a round-protocol request or its answer.
///
/// The aggregator opens a stream per request, writes one message and half-closes; the client
/// answers with one message and half-closes (docs/node.md, "Networked rounds").
public enum FLMessage: Sendable {
    /// Aggregator → client: train on the global model.
    case fitInstruction(FitInstruction)
    /// Client → aggregator: the local update.
    case fitResult(FitResult)
    /// Aggregator → client: evaluate the global model on local data.
    case evaluateInstruction(EvaluateInstruction)
    /// Client → aggregator: the local evaluation.
    case evaluateResult(EvaluateResult)
    /// Client → aggregator: the request was understood but the client could not serve it.
    case failure(String)

    /// The message kind as sent in field 2.
    public var kind: FLMessageKind {
        switch self {
        case .fitInstruction: .fitInstruction
        case .fitResult: .fitResult
        case .evaluateInstruction: .evaluateInstruction
        case .evaluateResult: .evaluateResult
        case .failure: .failure
        }
    }
}

/// The kinds of `/murmur/fl/1` messages (field 2 of the envelope).
public enum FLMessageKind: UInt64, Sendable, CustomStringConvertible {
    /// Aggregator → client: train.
    case fitInstruction = 1
    /// Client → aggregator: the update.
    case fitResult = 2
    /// Aggregator → client: evaluate.
    case evaluateInstruction = 3
    /// Client → aggregator: the evaluation.
    case evaluateResult = 4
    /// Client → aggregator: the request could not be served.
    case failure = 5

    /// The kind's name in error messages.
    public var description: String {
        switch self {
        case .fitInstruction: "FitInstruction"
        case .fitResult: "FitResult"
        case .evaluateInstruction: "EvaluateInstruction"
        case .evaluateResult: "EvaluateResult"
        case .failure: "Failure"
        }
    }
}

/// Malformed `/murmur/fl/1` input, named precisely so a node can log and score the sender.
public enum FLWireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The frame's declared length is above the limit derived from the model size.
    case frameTooLarge(length: UInt64, limit: Int)
    /// The stream ended before a whole frame arrived.
    case truncated(String)
    /// Bytes followed the one frame a stream direction may carry.
    case trailingBytes(Int)
    /// The protobuf-style body did not parse.
    case invalidEncoding(String)
    /// Field 1 is not a version this node speaks.
    case unsupportedVersion(UInt64)
    /// Field 2 is not a known message kind.
    case unknownKind(UInt64)
    /// A different message kind than the protocol step expects.
    case unexpectedKind(expected: String, got: String)
    /// A field the message kind requires is absent.
    case missingField(String)
    /// A field appeared twice.
    case duplicateField(Int)
    /// A field's value is out of range.
    case invalidValue(field: String, reason: String)
    /// The parameter vector does not have the model's length.
    case parameterCountMismatch(expected: Int, got: Int)

    /// The message shown in logs.
    public var description: String {
        switch self {
        case let .frameTooLarge(length, limit): "/murmur/fl/1 frame of \(length) bytes exceeds the limit of \(limit) bytes for this model"
        case .truncated(let m): "/murmur/fl/1 message truncated: \(m)"
        case .trailingBytes(let n): "/murmur/fl/1: \(n) byte(s) after the message; one message per stream direction"
        case .invalidEncoding(let m): "/murmur/fl/1 message does not parse: \(m)"
        case .unsupportedVersion(let v): "/murmur/fl/1 message version \(v) is not supported (this node speaks \(FLWire.version))"
        case .unknownKind(let k): "/murmur/fl/1 message kind \(k) is unknown"
        case let .unexpectedKind(expected, got): "/murmur/fl/1: expected a \(expected), got a \(got)"
        case .missingField(let f): "/murmur/fl/1 message lacks the required field \(f)"
        case .duplicateField(let f): "/murmur/fl/1 message repeats field \(f)"
        case let .invalidValue(field, reason): "/murmur/fl/1 field \(field) is invalid: \(reason)"
        case let .parameterCountMismatch(expected, got): "/murmur/fl/1 parameters have \(got) values, the model has \(expected)"
        }
    }
}

/// The `/murmur/fl/1` wire format: a varint length prefix, then a proto3-compatible message.
///
/// ```
/// message FLMessage {                 // fields written in this order, all present for the kind
///   uint64 version = 1;               // 1
///   uint64 kind = 2;                  // FLMessageKind
///   uint64 round = 3;  uint64 client = 4;  uint64 seed = 5;
///   repeated float parameters = 6 [packed = true];   // raw little-endian IEEE 754 binary32;
///                                     // empty in a FitInstruction for a model announced by CID
///   uint64 epochs = 7; uint64 batch_size = 8;
///   fixed32 learning_rate = 9; fixed32 momentum = 10; fixed32 weight_decay = 11; fixed32 proximal_mu = 12;
///   uint64 sample_count = 13; fixed64 train_loss = 14;        // binary64 bit patterns
///   fixed64 accuracy = 15; fixed64 loss = 16; uint64 count = 17;
///   string error = 18;
/// }
/// ```
/// Floats travel as bit patterns, so a decoded message is bit-identical to the encoded one and a
/// networked round aggregates exactly what the simulation does. Wire format: protobuf.dev
/// "Encoding" (varint, I32, I64, LEN); length prefix: multiformats unsigned-varint.
public enum FLWire {
    /// The protocol id.
    public static let protocolID = "/murmur/fl/1"
    /// The message version this node writes and accepts.
    public static let version: UInt64 = 1
    /// Bytes allowed besides the parameters (header fields, error text).
    public static let headerAllowance = 4096
    /// Longest error text sent or accepted in a `failure` message.
    public static let maxErrorLength = 1024
    /// Largest local-epoch count accepted from an aggregator (bounds a client's work per request).
    public static let maxEpochs = 10_000
    /// Largest batch size accepted from an aggregator.
    public static let maxBatchSize = 1 << 20

    /// The largest frame body for a model of `parameterCount` parameters.
    public static func maxMessageLength(parameterCount: Int) -> Int { 4 * parameterCount + headerAllowance }

    /// The frame of `message`: varint length, then the body.
    public static func frame(_ message: FLMessage) -> [UInt8] {
        let body = encode(message)
        return Varint.encode(UInt64(body.count)) + body
    }

    /// The body of `message` (without the length prefix).
    public static func encode(_ message: FLMessage) -> [UInt8] {
        var w = FieldWriter()
        w.varint(1, version)
        w.varint(2, message.kind.rawValue)
        switch message {
        case .fitInstruction(let m):
            w.varint(3, UInt64(m.round))
            w.varint(5, m.seed)
            w.floats(6, m.parameters)
            w.varint(7, UInt64(m.plan.epochs))
            w.varint(8, UInt64(m.plan.batchSize))
            w.fixed32(9, m.plan.learningRate.bitPattern)
            w.fixed32(10, m.plan.momentum.bitPattern)
            w.fixed32(11, m.plan.weightDecay.bitPattern)
            w.fixed32(12, m.plan.proximalMu.bitPattern)
        case .fitResult(let m):
            w.varint(4, UInt64(m.client))
            w.floats(6, m.delta)
            w.varint(13, UInt64(m.sampleCount))
            w.fixed64(14, m.trainLoss.bitPattern)
        case .evaluateInstruction(let m):
            w.varint(3, UInt64(m.round))
            w.floats(6, m.parameters)
        case .evaluateResult(let m):
            w.varint(4, UInt64(m.client))
            w.fixed64(15, m.evaluation.accuracy.bitPattern)
            w.fixed64(16, m.evaluation.loss.bitPattern)
            w.varint(17, UInt64(m.evaluation.count))
        case .failure(let text):
            w.bytes(18, Array(String(text.prefix(maxErrorLength / 4)).utf8.prefix(maxErrorLength)))
        }
        return w.bytes
    }

    /// Decodes one frame that must be all of `bytes` (length prefix included).
    public static func decodeFrame(_ bytes: [UInt8], parameterCount: Int, withheldDelta: Bool = false) throws -> FLMessage {
        let limit = maxMessageLength(parameterCount: parameterCount)
        guard let (length, size) = try? Varint.decode(bytes[...]) else { throw FLWireError.truncated("no length prefix") }
        guard length <= UInt64(limit) else { throw FLWireError.frameTooLarge(length: length, limit: limit) }
        let end = size + Int(length)
        guard bytes.count >= end else { throw FLWireError.truncated("frame declares \(length) bytes, \(bytes.count - size) arrived") }
        guard bytes.count == end else { throw FLWireError.trailingBytes(bytes.count - end) }
        return try decode(Array(bytes[size...]), parameterCount: parameterCount, withheldDelta: withheldDelta)
    }

    /// Decodes a message body; parameter vectors must have exactly `parameterCount` values, except
    /// a `FitResult`'s delta, which must be empty when `withheldDelta` (secure aggregation).
    public static func decode(_ body: [UInt8], parameterCount: Int, withheldDelta: Bool = false) throws -> FLMessage {
        let f = try FieldReader.read(body)
        guard let v = f.varints[1] else { throw FLWireError.missingField("version (1)") }
        guard v == version else { throw FLWireError.unsupportedVersion(v) }
        guard let k = f.varints[2] else { throw FLWireError.missingField("kind (2)") }
        guard let kind = FLMessageKind(rawValue: k) else { throw FLWireError.unknownKind(k) }
        switch kind {
        case .fitInstruction:
            let plan = LocalTrainingPlan(
                epochs: try f.int(7, "epochs", max: maxEpochs, min: 1),
                batchSize: try f.int(8, "batch_size", max: maxBatchSize, min: 1),
                learningRate: try f.finiteFloat(9, "learning_rate"),
                momentum: try f.finiteFloat(10, "momentum"),
                weightDecay: try f.finiteFloat(11, "weight_decay"),
                proximalMu: try f.finiteFloat(12, "proximal_mu"))
            // No parameters (an empty field 6): the model was announced by CID over
            // /murmur/model/1 and the client trains the copy it fetched and verified.
            let announced = f.isEmpty(6)
            return .fitInstruction(FitInstruction(
                round: try f.int(3, "round"), parameters: try f.floats(6, "parameters", count: announced ? 0 : parameterCount),
                plan: plan, seed: try f.varint(5, "seed")))
        case .fitResult:
            return .fitResult(FitResult(
                client: try f.int(4, "client"), delta: try f.floats(6, "parameters", count: withheldDelta ? 0 : parameterCount),
                sampleCount: try f.int(13, "sample_count"), trainLoss: Double(bitPattern: try f.fixed64(14, "train_loss"))))
        case .evaluateInstruction:
            return .evaluateInstruction(EvaluateInstruction(
                round: try f.int(3, "round"), parameters: try f.floats(6, "parameters", count: parameterCount)))
        case .evaluateResult:
            return .evaluateResult(EvaluateResult(
                client: try f.int(4, "client"),
                evaluation: Evaluation(
                    accuracy: Double(bitPattern: try f.fixed64(15, "accuracy")),
                    loss: Double(bitPattern: try f.fixed64(16, "loss")),
                    count: try f.int(17, "count"))))
        case .failure:
            guard let raw = f.lengthDelimited[18] else { throw FLWireError.missingField("error (18)") }
            guard raw.count <= maxErrorLength else {
                throw FLWireError.invalidValue(field: "error", reason: "\(raw.count) bytes, at most \(maxErrorLength)")
            }
            return .failure(String(decoding: raw, as: UTF8.self))
        }
    }
}
