import MurmurCore
import MurmurTensor

/// The safetensors file format (https://github.com/huggingface/safetensors, README "Format"):
/// an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the raw little-endian
/// tensor bytes.
///
/// The header maps each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
/// (offsets relative to the start of the data section) and may hold `"__metadata__"`, a map of
/// strings. Murmur writes F32 and reads F32, F16 and BF16 (converted to Float32). Models are
/// shipped in this format so that any PyTorch, JAX or Rust tool can open them.
public enum Safetensors {
    /// Largest header accepted: 100 MB, the limit of the reference implementation
    /// (`MAX_HEADER_SIZE` in safetensors/src/tensor.rs).
    public static let maxHeaderLength = 100_000_000

    /// The bytes of a safetensors file holding `tensors` as F32.
    ///
    /// Deterministic: the header is `{"__metadata__":{…},"name":{"dtype":"F32","shape":[…],
    /// "data_offsets":[b,e]},…}` with metadata keys and tensor names in UTF-8 byte order, no
    /// whitespace, padded with spaces to a multiple of 8 bytes (so the data is 8-byte aligned),
    /// and the data in the same name order — byte-identical to what the reference Rust
    /// `serialize` writes for F32 tensors. Empty metadata is omitted. Duplicate names, or the
    /// reserved name `__metadata__`, are programmer errors.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) -> [UInt8] {
        let sorted = tensors.sorted { utf8Precedes($0.name, $1.name) }
        for (i, t) in sorted.enumerated() {
            precondition(t.name != "__metadata__", "'__metadata__' is reserved in safetensors and cannot name a tensor")
            precondition(i == 0 || sorted[i - 1].name != t.name, "duplicate tensor name '\(t.name)'")
        }
        var header = [UInt8]("{".utf8)
        var first = true
        if !metadata.isEmpty {
            header += Array("\"__metadata__\":{".utf8)
            for (i, key) in metadata.keys.sorted(by: utf8Precedes).enumerated() {
                if i > 0 { header.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key] ?? "", to: &header)
            }
            header.append(UInt8(ascii: "}"))
            first = false
        }
        var offset = 0
        for t in sorted {
            if !first { header.append(UInt8(ascii: ",")) }
            first = false
            appendJSONString(t.name, to: &header)
            let end = offset + 4 * t.tensor.count
            let shape = t.tensor.shape.map(String.init).joined(separator: ",")
            header += Array(":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}".utf8)
            offset = end
        }
        header.append(UInt8(ascii: "}"))
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var out = [UInt8](repeating: 0, count: 8 + header.count + offset)
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(header.count).littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.baseAddress!.advanced(by: 8).copyMemory(from: header, byteCount: header.count)  // out is non-empty
            var at = 8 + header.count
            for t in sorted {
                for v in t.tensor.data {
                    raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: at, as: UInt32.self)
                    at += 4
                }
            }
        }
        return out
    }

    /// The tensors (as Float32) and metadata of a safetensors file.
    ///
    /// Everything is validated before any tensor is built, following the reference reader:
    /// the header length must fit both the buffer and `maxHeaderLength`; the header must be a
    /// JSON object starting with `{` whose entries have a string dtype, a shape of non-negative
    /// integers and two non-negative `data_offsets`; sorted by offset the tensors must tile the
    /// data section exactly (no overlap, no gap, nothing after the last); each byte range must
    /// equal shape × dtype size. Any violation throws a typed `MLError`; nothing traps.
    public static func decode(_ bytes: [UInt8]) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard bytes.count >= 8 else { throw MLError.safetensorsTruncated(needed: 8, actual: bytes.count) }
        var declared: UInt64 = 0
        for i in 0..<8 { declared |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        let available = bytes.count - 8
        guard declared <= UInt64(min(available, maxHeaderLength)) else {
            throw MLError.safetensorsHeaderLength(declared: declared, available: available)
        }
        let headerLength = Int(declared)
        let entries = try parseHeader(Array(bytes[8..<(8 + headerLength)]))
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart

        var cursor = 0
        var counts = [Int]()
        for e in entries.tensors {
            if e.begin != cursor {
                let reason = e.begin < cursor
                    ? "it starts at byte \(e.begin), inside the previous tensor, which ends at \(cursor)"
                    : "it starts at byte \(e.begin), leaving a gap after byte \(cursor)"
                throw MLError.safetensorsInvalidOffsets(tensor: e.name, reason: reason)
            }
            guard e.end >= e.begin else {
                throw MLError.safetensorsInvalidOffsets(tensor: e.name, reason: "end \(e.end) is before begin \(e.begin)")
            }
            guard e.end <= dataLength else {
                throw MLError.safetensorsInvalidOffsets(
                    tensor: e.name, reason: "it ends at byte \(e.end), past the \(dataLength)-byte data section")
            }
            guard let size = elementSize(e.dtype) else {
                throw MLError.safetensorsUnsupportedDType(tensor: e.name, dtype: e.dtype)
            }
            var count = 1
            for d in e.shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw MLError.safetensorsInvalidHeader("tensor '\(e.name)' has a shape \(e.shape) too large to address") }
                count = p
            }
            let (needed, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, needed == e.end - e.begin else {
                throw MLError.safetensorsSizeMismatch(tensor: e.name, expectedBytes: overflow ? Int.max : needed, actualBytes: e.end - e.begin)
            }
            counts.append(count)
            cursor = e.end
        }
        guard cursor == dataLength else { throw MLError.safetensorsDataLength(declared: cursor, actual: dataLength) }

        var tensors = [String: Tensor]()
        bytes.withUnsafeBytes { raw in
            for (e, count) in zip(entries.tensors, counts) {
                let at = dataStart + e.begin
                let values: [Float]
                switch e.dtype {
                case "F16":
                    values = (0..<count).map { HalfPrecision.float(fromHalf: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at + 2 * $0, as: UInt16.self))) }
                case "BF16":
                    values = (0..<count).map { HalfPrecision.float(fromBFloat: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at + 2 * $0, as: UInt16.self))) }
                default:  // F32, the only other dtype `elementSize` accepts
                    values = (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 4 * $0, as: UInt32.self))) }
                }
                tensors[e.name] = Tensor(shape: e.shape, data: values)
            }
        }
        return (tensors, entries.metadata)
    }

    /// Bytes per element of the dtypes this reader converts; nil for any other dtype.
    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F32": return 4
        case "F16", "BF16": return 2
        default: return nil
        }
    }

    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// The header's tensors sorted by (begin, end, name) and its metadata.
    static func parseHeader(_ header: [UInt8]) throws -> (tensors: [Entry], metadata: [String: String]) {
        guard header.first == UInt8(ascii: "{") else {
            throw MLError.safetensorsInvalidHeader("it must be a JSON object starting with '{' (is the file safetensors?)")
        }
        let json: JSONValue
        do {
            json = try CanonicalJSON.parse(header)
        } catch {
            throw MLError.safetensorsInvalidHeader("not valid JSON (\(error))")
        }
        guard case .object(let top) = json else { throw MLError.safetensorsInvalidHeader("it is not a JSON object") }
        var metadata = [String: String]()
        var entries = [Entry]()
        for (name, value) in top {
            if name == "__metadata__" {
                guard case .object(let m) = value else { throw MLError.safetensorsInvalidHeader("__metadata__ must be an object of strings") }
                for (k, v) in m {
                    guard case .string(let s) = v else { throw MLError.safetensorsInvalidHeader("__metadata__ value for '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let info) = value else { throw MLError.safetensorsInvalidHeader("entry '\(name)' is not an object") }
            guard case .string(let dtype)? = info["dtype"] else {
                throw MLError.safetensorsInvalidHeader("tensor '\(name)' has no string \"dtype\"")
            }
            guard case .array(let dims)? = info["shape"] else {
                throw MLError.safetensorsInvalidHeader("tensor '\(name)' has no \"shape\" array")
            }
            var shape = [Int]()
            for d in dims {
                guard case .integer(let v) = d, v >= 0 else {
                    throw MLError.safetensorsInvalidHeader("tensor '\(name)' has a shape entry that is not a non-negative integer")
                }
                shape.append(Int(v))
            }
            guard case .array(let offsets)? = info["data_offsets"], offsets.count == 2,
                  case .integer(let begin) = offsets[0], case .integer(let end) = offsets[1], begin >= 0, end >= 0
            else {
                throw MLError.safetensorsInvalidHeader("tensor '\(name)' needs \"data_offsets\": [begin, end] with non-negative integers")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: Int(begin), end: Int(end)))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) || (($0.begin, $0.end) == ($1.begin, $1.end) && utf8Precedes($0.name, $1.name)) }
        return (entries, metadata)
    }

    /// Byte-wise UTF-8 order (the order of Rust's `String: Ord`, used by the reference writer).
    static func utf8Precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Appends `s` as a JSON string escaped like serde_json: `"` `\` and control characters
    /// only, with the short forms \b \f \n \r \t and \u00xx otherwise.
    static func appendJSONString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [0x5C, 0x22]
            case UInt8(ascii: "\\"): out += [0x5C, 0x5C]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
