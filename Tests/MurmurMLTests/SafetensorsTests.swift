import MurmurCore
import MurmurTensor
import MurmurTestSupport
import Testing
@testable import MurmurML

@Suite(.ownThreads) struct SafetensorsTests {
    /// huggingface/safetensors, safetensors/src/tensor.rs, `test_serialization`: the reference
    /// writer's bytes for one F32 tensor "attn.0" of shape [1, 2, 3] holding 0…5.
    static let referenceSerialization: [UInt8] = [
        64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
        116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
        58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
        101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
        0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]

    /// Same file, `test_serialization_forced_alignement`: name "attn0", shape [1, 1, 2, 3]; the
    /// header needs seven spaces of padding to reach a multiple of 8.
    static let referenceAligned: [UInt8] = [
        72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
        121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
        91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
        115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
        32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
        160, 64,
    ]

    @Test func encoderMatchesTheReferenceWriter() {
        let values: [Float] = [0, 1, 2, 3, 4, 5]
        #expect(Safetensors.encode([("attn.0", Tensor(shape: [1, 2, 3], data: values))]) == Self.referenceSerialization)
        #expect(Safetensors.encode([("attn0", Tensor(shape: [1, 1, 2, 3], data: values))]) == Self.referenceAligned)
        // `test_empty`: no tensors, then no tensors with metadata {"framework": "pt"}.
        #expect(Safetensors.encode([]) == [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        #expect(Safetensors.encode([], metadata: ["framework": "pt"]) == [
            40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
            95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
            116, 34, 125, 125, 32, 32, 32, 32, 32,
        ])
    }

    @Test func decoderReadsTheReferenceFiles() throws {
        for bytes in [Self.referenceSerialization, Self.referenceAligned] {
            let (tensors, metadata) = try Safetensors.decode(bytes)
            #expect(metadata.isEmpty)
            #expect(tensors.count == 1)
            #expect(tensors.values.first?.data == [0, 1, 2, 3, 4, 5])
        }
        #expect(try Safetensors.decode(Self.referenceSerialization).tensors["attn.0"]?.shape == [1, 2, 3])
    }

    /// A file assembled byte by byte from the format description (README "Format"): F16, BF16
    /// and a scalar F32, header without padding (padding is optional).
    @Test func handBuiltFileWithHalfPrecision() throws {
        let header = #"{"a":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[6,10]},"c":{"dtype":"F32","shape":[],"data_offsets":[10,14]}}"#
        #expect(header.utf8.count == 0xA3)
        var file: [UInt8] = [0xA3, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8)
        file += [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00]  // F16 1.0, −2.0, 2⁻²⁴ (smallest subnormal)
        file += [0x80, 0x3F, 0x00, 0xBF]  // BF16 1.0, −0.5
        file += [0x00, 0x00, 0x60, 0x40]  // F32 3.5
        let (t, _) = try Safetensors.decode(file)
        #expect(t["a"] == Tensor(shape: [3], data: [1, -2, 0x1p-24]))
        #expect(t["b"] == Tensor(shape: [2], data: [1, -0.5]))
        #expect(t["c"] == Tensor(shape: [], data: [3.5]))
    }

    @Test func halfPrecisionSpecialValues() {
        #expect(HalfPrecision.float(fromHalf: 0x7BFF) == 65504)  // largest finite
        #expect(HalfPrecision.float(fromHalf: 0x0400) == 0x1p-14)  // smallest normal
        #expect(HalfPrecision.float(fromHalf: 0x03FF) == 1023 * 0x1p-24)  // largest subnormal
        #expect(HalfPrecision.float(fromHalf: 0x8000).sign == .minus)
        #expect(HalfPrecision.float(fromHalf: 0x7C00) == .infinity)
        #expect(HalfPrecision.float(fromHalf: 0xFC00) == -.infinity)
        #expect(HalfPrecision.float(fromHalf: 0x7E00).isNaN)
        #expect(HalfPrecision.float(fromHalf: 0x3555) == 0.333_251_95)
        #expect(HalfPrecision.float(fromBFloat: 0x4049) == 3.140625)
    }

    @Test func roundTripWithMetadataIsDeterministic() throws {
        var rng = SeededRNG(seed: 1)
        let tensors: [(name: String, tensor: Tensor)] = [
            ("z.weight", Tensor(shape: [3, 4], data: (0..<12).map { _ in Float(rng.nextGaussian()) })),
            ("a.bias", Tensor(shape: [5], data: [.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1])),
            ("empty", Tensor(shape: [0, 3], data: [])),
        ]
        let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t bell \u{7} é"]
        let bytes = Safetensors.encode(tensors, metadata: metadata)
        #expect(bytes == Safetensors.encode(tensors.reversed(), metadata: metadata))
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(headerLength % 8 == 0)
        let (decoded, meta) = try Safetensors.decode(bytes)
        #expect(meta == metadata)
        #expect(decoded.count == 3)
        for (name, t) in tensors {
            #expect(decoded[name]?.shape == t.shape)
            #expect(decoded[name]?.data.map(\.bitPattern) == t.data.map(\.bitPattern))
        }
    }

    // MARK: malformed input

    /// A minimal valid file: one F32 tensor "x" = [1, 2].
    static func file(header: String, data: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40], length: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let n = length ?? UInt64(h.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + h + data
    }

    static let valid = file(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#)

    @Test func validFixtureDecodes() throws {
        #expect(try Safetensors.decode(Self.valid).tensors["x"]?.data == [1, 2])
    }

    @Test func truncatedFilesAreRejected() {
        #expect(throws: MLError.safetensorsTruncated(needed: 8, actual: 5)) { try Safetensors.decode([1, 2, 3, 4, 5]) }
        #expect(throws: MLError.safetensorsInvalidOffsets(tensor: "x", reason: "it ends at byte 8, past the 7-byte data section")) {
            try Safetensors.decode(Array(Self.valid.dropLast()))
        }
        // Every proper prefix fails with a typed error.
        for n in 0..<Self.valid.count {
            #expect(throws: MLError.self) { try Safetensors.decode(Array(Self.valid.prefix(n))) }
        }
    }

    @Test func impossibleHeaderLengthsAreRejected() {
        let body = #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        for length in [UInt64.max, UInt64(Int.max) + 1, 100_000_001, 1000] {
            let bytes = Self.file(header: body, length: length)
            #expect(throws: MLError.safetensorsHeaderLength(declared: length, available: bytes.count - 8)) {
                try Safetensors.decode(bytes)
            }
        }
    }

    @Test func overlappingGappedAndTrailingDataAreRejected() {
        let overlap = Self.file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                                data: [UInt8](repeating: 0, count: 12))
        #expect(throws: MLError.safetensorsInvalidOffsets(tensor: "b", reason: "it starts at byte 4, inside the previous tensor, which ends at 8")) {
            try Safetensors.decode(overlap)
        }
        let gap = Self.file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                            data: [UInt8](repeating: 0, count: 12))
        #expect(throws: MLError.safetensorsInvalidOffsets(tensor: "b", reason: "it starts at byte 8, leaving a gap after byte 4")) {
            try Safetensors.decode(gap)
        }
        let backwards = Self.file(header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#)
        #expect(throws: MLError.self) { try Safetensors.decode(backwards) }
        // safetensors/src/tensor.rs `test_polyglot`-style trailing bytes.
        #expect(throws: MLError.safetensorsDataLength(declared: 8, actual: 11)) {
            try Safetensors.decode(Self.valid + Array("abc".utf8))
        }
    }

    @Test func sizeMustMatchShapeTimesDType() {
        let short = Self.file(header: #"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#)
        #expect(throws: MLError.safetensorsSizeMismatch(tensor: "x", expectedBytes: 12, actualBytes: 8)) { try Safetensors.decode(short) }
        let half = Self.file(header: #"{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#)
        #expect(throws: MLError.safetensorsSizeMismatch(tensor: "x", expectedBytes: 4, actualBytes: 8)) { try Safetensors.decode(half) }
        let huge = Self.file(header: #"{"x":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#)
        #expect(throws: MLError.self) { try Safetensors.decode(huge) }
    }

    @Test func unsupportedDTypesAreRejected() {
        // bindings/python/tests/test_simple.py (`test_serialization` with metadata): an I32 file.
        let i32 = Self.file(header: #"{"__metadata__":{"framework":"pt"},"test1":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}       "#,
                            data: [UInt8](repeating: 0, count: 16))
        #expect(i32[0] == 0x66)
        #expect(throws: MLError.safetensorsUnsupportedDType(tensor: "test1", dtype: "I32")) { try Safetensors.decode(i32) }
    }

    @Test(arguments: [
        #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#,  // unterminated
        #"["x"]"#,  // not an object (and does not start with '{')
        #" {"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,  // leading space
        #"{"x":[1,2]}"#,
        #"{"x":{"shape":[2],"data_offsets":[0,8]}}"#,
        #"{"x":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}"#,
        #"{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
        #"{"x":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#,
        #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#,
        #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":1}}"#,
        #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
        #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]}}"#,
    ])
    func badHeadersAreRejected(header: String) {
        do {
            _ = try Safetensors.decode(Self.file(header: header))
            Issue.record("accepted \(header)")
        } catch let error as MLError {
            guard case .safetensorsInvalidHeader = error else { Issue.record("\(header): \(error)"); return }
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func invalidUTF8HeaderIsRejected() {
        var bytes = Self.valid
        bytes[10] = 0xFF  // inside the name "x"
        #expect(throws: MLError.self) { try Safetensors.decode(bytes) }
    }

    /// Single-byte corruptions anywhere never crash the decoder.
    @Test func byteFlipsNeverCrash() {
        var rng = SeededRNG(seed: 3)
        let base = Safetensors.encode([("w", Tensor(shape: [2, 2], data: [1, 2, 3, 4])), ("b", Tensor(shape: [2], data: [5, 6]))])
        for i in base.indices {
            for _ in 0..<4 {
                var bytes = base
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                _ = try? Safetensors.decode(bytes)
            }
        }
    }

    // MARK: networks

    @Test func networkRoundTrip() throws {
        let config = ModelConfig(architecture: .cnn(channels: [2], hidden: 3), inputShape: [1, 4, 4], classCount: 2)
        let net = try Network(config: config, seed: 1)
        let bytes = net.safetensors(metadata: ["round": "3"])
        let loaded = try Network(config: config, safetensors: bytes)
        #expect(loaded.parameters == net.parameters)
        #expect(try Safetensors.decode(bytes).metadata == ["round": "3"])
        #expect(try Safetensors.decode(bytes).tensors["conv0.weight"]?.shape == [2, 1, 3, 3])
        #expect(bytes == net.safetensors(metadata: ["round": "3"]))
    }

    @Test func networkFileMustMatchTheConfig() throws {
        let config = ModelConfig(architecture: .mlp(hidden: [4]), inputShape: [3], classCount: 2)
        let bytes = try Network(config: config, seed: 1).safetensors()
        let wider = ModelConfig(architecture: .mlp(hidden: [5]), inputShape: [3], classCount: 2)
        #expect(throws: MLError.shapeMismatch(name: "dense0.weight", expected: [5, 3], actual: [4, 3])) {
            try Network(config: wider, safetensors: bytes)
        }
        let deeper = ModelConfig(architecture: .mlp(hidden: [4, 2]), inputShape: [3], classCount: 2)
        #expect(throws: MLError.self) { try Network(config: deeper, safetensors: bytes) }
        let shallower = ModelConfig(architecture: .logisticRegression, inputShape: [3], classCount: 2)
        #expect(throws: MLError.self) { try Network(config: shallower, safetensors: bytes) }
        var (tensors, _) = try Safetensors.decode(bytes)
        tensors["extra"] = Tensor(shape: [1], data: [0])
        let extra = Safetensors.encode(tensors.map { (name: $0.key, tensor: $0.value) })
        #expect(throws: MLError.unexpectedTensor(name: "extra")) { try Network(config: config, safetensors: extra) }
        tensors["extra"] = nil
        tensors["dense1.bias"] = nil
        let missing = Safetensors.encode(tensors.map { (name: $0.key, tensor: $0.value) })
        #expect(throws: MLError.missingTensor(name: "dense1.bias", shape: [2])) { try Network(config: config, safetensors: missing) }
    }
}
