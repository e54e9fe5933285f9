import MurmurCore
import MurmurFL
import MurmurML
import Testing

@testable import MurmurNode

/// `/murmur/fl/1` message encoding: bit-exact round trips, the documented layout, typed errors.
@Suite struct RoundsWireTests {
    static let plan = LocalTrainingPlan(epochs: 2, batchSize: 16, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4, proximalMu: 0.01)

    @Test func fitMessagesRoundTripBitExactly() throws {
        // Values whose bit patterns a decimal or lossy encoding would disturb.
        let params: [Float] = [0, -0.0, 1, -1.5, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, 3.1415927]
        let instruction = FitInstruction(round: 7, parameters: params, plan: Self.plan, seed: .max)
        guard case .fitInstruction(let i) = try FLWire.decodeFrame(FLWire.frame(.fitInstruction(instruction)), parameterCount: params.count) else {
            Issue.record("wrong kind"); return
        }
        #expect(i.round == 7 && i.seed == .max && i.plan == Self.plan)
        #expect(i.parameters.map(\.bitPattern) == params.map(\.bitPattern))

        let result = FitResult(client: 3, delta: params.reversed(), sampleCount: 181, trainLoss: 0.1 + 0.2)
        guard case .fitResult(let r) = try FLWire.decodeFrame(FLWire.frame(.fitResult(result)), parameterCount: params.count) else {
            Issue.record("wrong kind"); return
        }
        #expect(r.client == 3 && r.sampleCount == 181 && r.trainLoss.bitPattern == (0.1 + 0.2).bitPattern)
        #expect(r.delta.map(\.bitPattern) == params.reversed().map(\.bitPattern))
    }

    /// A fit request for a model announced by CID carries an empty parameter field; the gate
    /// fills in the accepted model. Evaluate requests and fit results still need all n values.
    @Test func aFitRequestForAnAnnouncedModelCarriesNoParameters() throws {
        let lean = FitInstruction(round: 2, parameters: [], plan: Self.plan, seed: 9)
        let frame = FLWire.frame(.fitInstruction(lean))
        let full = FLWire.frame(.fitInstruction(FitInstruction(round: 2, parameters: [Float](repeating: 1, count: 1000), plan: Self.plan, seed: 9)))
        #expect(full.count - frame.count >= 4000)
        guard case .fitInstruction(let i) = try FLWire.decodeFrame(frame, parameterCount: 1000) else { Issue.record("wrong kind"); return }
        #expect(i.parameters.isEmpty && i.round == 2 && i.seed == 9)
        let emptyEvaluate = FLWire.frame(.evaluateInstruction(EvaluateInstruction(round: 2, parameters: [])))
        #expect(throws: FLWireError.parameterCountMismatch(expected: 1000, got: 0)) { try FLWire.decodeFrame(emptyEvaluate, parameterCount: 1000) }
    }

    @Test func evaluateMessagesAndFailureRoundTrip() throws {
        let e = EvaluateResult(client: 9, evaluation: Evaluation(accuracy: 2.0 / 3.0, loss: 0.25, count: 42))
        guard case .evaluateResult(let d) = try FLWire.decodeFrame(FLWire.frame(.evaluateResult(e)), parameterCount: 4) else {
            Issue.record("wrong kind"); return
        }
        #expect(d.client == 9 && d.evaluation == e.evaluation)
        guard case .evaluateInstruction(let i) = try FLWire.decodeFrame(
            FLWire.frame(.evaluateInstruction(EvaluateInstruction(round: 2, parameters: [1, 2, 3, 4]))), parameterCount: 4) else {
            Issue.record("wrong kind"); return
        }
        #expect(i.round == 2 && i.parameters == [1, 2, 3, 4])
        guard case .failure(let text) = try FLWire.decodeFrame(FLWire.frame(.failure("no data")), parameterCount: 4) else {
            Issue.record("wrong kind"); return
        }
        #expect(text == "no data")
    }

    /// The layout in docs/node.md, byte by byte (protobuf.dev "Encoding": tag = field << 3 | wire type).
    @Test func evaluateInstructionLayoutIsTheDocumentedOne() {
        let body = FLWire.encode(.evaluateInstruction(EvaluateInstruction(round: 300, parameters: [1, -2])))
        #expect(body == [
            0x08, 0x01,  // version = 1
            0x10, 0x03,  // kind = EvaluateInstruction
            0x18, 0xAC, 0x02,  // round = 300 (varint)
            0x32, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0,  // packed float LE: 1.0, -2.0
        ])
        #expect(FLWire.frame(.evaluateInstruction(EvaluateInstruction(round: 300, parameters: [1, -2]))) == [UInt8(body.count)] + body)
    }

    @Test func malformedInputGivesTypedErrors() throws {
        let good = FLWire.frame(.evaluateInstruction(EvaluateInstruction(round: 1, parameters: [1, 2])))
        #expect(throws: FLWireError.parameterCountMismatch(expected: 3, got: 2)) { try FLWire.decodeFrame(good, parameterCount: 3) }
        #expect(throws: FLWireError.trailingBytes(1)) { try FLWire.decodeFrame(good + [0], parameterCount: 2) }
        #expect(throws: FLWireError.self) { try FLWire.decodeFrame(Array(good.dropLast()), parameterCount: 2) }
        #expect(throws: FLWireError.truncated("no length prefix")) { try FLWire.decodeFrame([], parameterCount: 2) }
        // A declared length above 4·n + 4096 is refused before any body is read.
        let limit = FLWire.maxMessageLength(parameterCount: 2)
        #expect(throws: FLWireError.frameTooLarge(length: UInt64(limit + 1), limit: limit)) {
            try FLWire.decodeFrame(Varint.encode(UInt64(limit + 1)), parameterCount: 2)
        }
        #expect(throws: FLWireError.unsupportedVersion(2)) { try FLWire.decode([0x08, 0x02, 0x10, 0x03], parameterCount: 2) }
        #expect(throws: FLWireError.unknownKind(9)) { try FLWire.decode([0x08, 0x01, 0x10, 0x09], parameterCount: 2) }
        #expect(throws: FLWireError.missingField("round (3)")) { try FLWire.decode([0x08, 0x01, 0x10, 0x03], parameterCount: 2) }
        #expect(throws: FLWireError.duplicateField(1)) { try FLWire.decode([0x08, 0x01, 0x08, 0x01], parameterCount: 2) }
        #expect(throws: FLWireError.self) { try FLWire.decode([0x08, 0x01, 0x13], parameterCount: 2) }  // wire type 3 (group)
        #expect(throws: FLWireError.self) { try FLWire.decode([0x32, 0x7F, 0x00], parameterCount: 2) }  // LEN past the end
        // 6 bytes of floats is not a whole number of binary32 values.
        #expect(throws: FLWireError.invalidValue(field: "parameters", reason: "6 bytes is not a whole number of binary32 values")) {
            try FLWire.decode([0x08, 0x01, 0x10, 0x03, 0x18, 0x01, 0x32, 0x06, 0, 0, 0, 0, 0, 0], parameterCount: 2)
        }
    }

    @Test func fitInstructionValuesAreRangeChecked() throws {
        var plan = Self.plan
        plan.batchSize = 0
        let zeroBatch = FLWire.frame(.fitInstruction(FitInstruction(round: 1, parameters: [0], plan: plan, seed: 1)))
        #expect(throws: FLWireError.invalidValue(field: "batch_size", reason: "0 is outside 1…\(FLWire.maxBatchSize)")) {
            try FLWire.decodeFrame(zeroBatch, parameterCount: 1)
        }
        plan = Self.plan
        plan.learningRate = .nan
        let nanRate = FLWire.frame(.fitInstruction(FitInstruction(round: 1, parameters: [0], plan: plan, seed: 1)))
        #expect(throws: FLWireError.self) { try FLWire.decodeFrame(nanRate, parameterCount: 1) }
    }

    @Test func unknownFieldsAreSkipped() throws {
        // Field 99 (varint) appended: a newer sender's extra field must not break an older reader.
        let body = FLWire.encode(.evaluateInstruction(EvaluateInstruction(round: 1, parameters: [5]))) + [0x98, 0x06, 0x01]
        guard case .evaluateInstruction(let i) = try FLWire.decode(body, parameterCount: 1) else { Issue.record("wrong kind"); return }
        #expect(i.parameters == [5])
    }
}
