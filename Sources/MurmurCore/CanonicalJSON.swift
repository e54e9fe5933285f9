import Foundation

/// A JSON value restricted to what Murmur signs: integers only (no floats), strings, booleans,
/// null, arrays and objects.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

/// Canonical JSON in the style of RFC 8785 (JCS): object keys sorted by their UTF-16 code units,
/// no insignificant whitespace, minimal string escaping, and integers only, so that the same
/// value always serialises to the same bytes and a signature over them is well defined.
public enum CanonicalJSON {
    /// The canonical bytes of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out = [UInt8]()
        write(value, into: &out)
        return out
    }

    /// The canonical bytes of an `Encodable` value. Fails for non-integer numbers, which have
    /// no canonical form here: encode reals as fixed-point integers or as strings.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let data = try JSONEncoder().encode(value)
        return encode(try parse(Array(data)))
    }

    /// Parses JSON text (RFC 8259) into a `JSONValue`, rejecting non-integer numbers.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var p = JSONParser(bytes: bytes)
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw MurmurCoreError.invalidJSON("trailing bytes at offset \(p.i)") }
        return v
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .integer(let i): out += Array(String(i).utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(v, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let keys = o.keys.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
            for (i, k) in keys.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                write(o[k]!, into: &out)  // k comes from o.keys
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// RFC 8785 §3.2.2.2: escape `"` `\` and control characters; short forms where JSON has them.
    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += [0x5C, 0x22]
            case "\\": out += [0x5C, 0x5C]
            case "\u{08}": out += [0x5C, UInt8(ascii: "b")]
            case "\u{0C}": out += [0x5C, UInt8(ascii: "f")]
            case "\n": out += [0x5C, UInt8(ascii: "n")]
            case "\r": out += [0x5C, UInt8(ascii: "r")]
            case "\t": out += [0x5C, UInt8(ascii: "t")]
            default:
                if scalar.value < 0x20 {
                    let hex = Array("0123456789abcdef".utf8)
                    out += Array("\\u00".utf8)
                    out.append(hex[Int(scalar.value >> 4)])
                    out.append(hex[Int(scalar.value & 0xF)])
                } else {
                    out += Array(String(scalar).utf8)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
