import MurmurCore

// The proto3 wire format (protobuf.dev, "Encoding") for the node's messages: varint, I64, LEN
// and I32 fields, bounds-checked on read. MurmurP2P's Protobuf.swift skips I32/I64 fields, which
// these messages need for exact floats.

/// Writes proto3 wire-format fields (varint, I32, I64, LEN) in the order called.
struct FieldWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ field: Int, _ value: UInt64) {
        bytes += Varint.encode(UInt64(field << 3))
        bytes += Varint.encode(value)
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        bytes += Varint.encode(UInt64(field << 3 | 5))
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        bytes += Varint.encode(UInt64(field << 3 | 1))
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        bytes += Varint.encode(UInt64(field << 3 | 2))
        bytes += Varint.encode(UInt64(value.count))
        bytes += value
    }

    /// A packed `repeated float`: the LEN payload is the little-endian binary32 values back to back.
    mutating func floats(_ field: Int, _ values: [Float]) {
        bytes += Varint.encode(UInt64(field << 3 | 2))
        bytes += Varint.encode(UInt64(values.count * 4))
        let start = bytes.count
        bytes += repeatElement(0, count: values.count * 4)
        bytes.withUnsafeMutableBytes { dst in
            values.withUnsafeBufferPointer { src in
                for i in 0..<src.count {
                    dst.storeBytes(of: src[i].bitPattern.littleEndian, toByteOffset: start + 4 * i, as: UInt32.self)
                }
            }
        }
    }
}

/// The fields of one message by number; unknown field numbers are skipped (proto3 semantics),
/// a repeated known field is an error.
struct FieldReader {
    var varints: [Int: UInt64] = [:]
    var fixed32s: [Int: UInt32] = [:]
    var fixed64s: [Int: UInt64] = [:]
    var lengthDelimited: [Int: ArraySlice<UInt8>] = [:]

    static let knownFields = 1...18

    static func read(_ data: [UInt8]) throws -> FieldReader {
        var r = FieldReader()
        var seen = Set<Int>()
        var i = 0
        func readVarint() throws -> UInt64 {
            guard i < data.count else { throw FLWireError.invalidEncoding("truncated varint at byte \(i)") }
            do {
                let (value, size) = try Varint.decode(data[i...])
                i += size
                return value
            } catch {
                throw FLWireError.invalidEncoding("bad varint at byte \(i)")
            }
        }
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n <= data.count - i else { throw FLWireError.invalidEncoding("field runs past the message end at byte \(i)") }
            defer { i += n }
            return data[i..<i + n]
        }
        while i < data.count {
            let key = try readVarint()
            let number = key >> 3
            guard number >= 1, number <= 536_870_911 else { throw FLWireError.invalidEncoding("field number \(number)") }
            let field = Int(number)
            let known = knownFields.contains(field)
            if known {
                guard seen.insert(field).inserted else { throw FLWireError.duplicateField(field) }
            }
            switch key & 7 {
            case 0:
                let v = try readVarint()
                if known { r.varints[field] = v }
            case 1:
                let b = try take(8)
                if known { r.fixed64s[field] = b.reversed().reduce(0) { $0 << 8 | UInt64($1) } }
            case 2:
                let n = try readVarint()
                guard n <= UInt64(data.count - i) else { throw FLWireError.invalidEncoding("field \(field) runs past the message end") }
                let b = try take(Int(n))
                if known { r.lengthDelimited[field] = b }
            case 5:
                let b = try take(4)
                if known { r.fixed32s[field] = b.reversed().reduce(0) { $0 << 8 | UInt32($1) } }
            default:
                throw FLWireError.invalidEncoding("wire type \(key & 7) of field \(field) is not supported")
            }
        }
        return r
    }

    func varint(_ field: Int, _ name: String) throws -> UInt64 {
        guard let v = varints[field] else { throw FLWireError.missingField("\(name) (\(field))") }
        return v
    }

    func int(_ field: Int, _ name: String, max: Int = Int(Int32.max), min: Int = 0) throws -> Int {
        let v = try varint(field, name)
        guard v >= UInt64(min), v <= UInt64(max) else {
            throw FLWireError.invalidValue(field: name, reason: "\(v) is outside \(min)…\(max)")
        }
        return Int(v)
    }

    func fixed64(_ field: Int, _ name: String) throws -> UInt64 {
        guard let v = fixed64s[field] else { throw FLWireError.missingField("\(name) (\(field))") }
        return v
    }

    func finiteFloat(_ field: Int, _ name: String) throws -> Float {
        guard let bits = fixed32s[field] else { throw FLWireError.missingField("\(name) (\(field))") }
        let v = Float(bitPattern: bits)
        guard v.isFinite, v >= 0 else { throw FLWireError.invalidValue(field: name, reason: "\(v) is not a finite number ≥ 0") }
        return v
    }

    /// A packed float field of exactly `count` values.
    /// Whether length-delimited field `field` is present and empty.
    func isEmpty(_ field: Int) -> Bool { lengthDelimited[field]?.isEmpty == true }

    func floats(_ field: Int, _ name: String, count: Int) throws -> [Float] {
        guard let raw = lengthDelimited[field] else { throw FLWireError.missingField("\(name) (\(field))") }
        guard raw.count % 4 == 0 else {
            throw FLWireError.invalidValue(field: name, reason: "\(raw.count) bytes is not a whole number of binary32 values")
        }
        guard raw.count / 4 == count else { throw FLWireError.parameterCountMismatch(expected: count, got: raw.count / 4) }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            raw.withUnsafeBytes { src in
                for j in 0..<count {
                    out[j] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self)))
                }
            }
            initialized = count
        }
    }
}
