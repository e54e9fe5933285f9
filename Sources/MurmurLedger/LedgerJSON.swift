import Foundation
import MurmurCore

/// Codable ↔ canonical JSON for record bodies and the state, with snake_case keys.
/// Why: one place fixes the key style, so every record and the state digest use the same bytes.
public enum LedgerJSON {
    /// The JSON value of `value` (integers only; snake_case keys).
    public static func value<T: Encodable>(_ value: T) throws -> JSONValue {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        return try CanonicalJSON.parse(Array(e.encode(value)))
    }

    /// The canonical bytes of `value`. Fast path: Foundation's encoder with sorted keys and unescaped
    /// slashes already writes canonical JSON when the output holds no escape at all (no backslash)
    /// and the keys are ASCII, which is the case for every record; otherwise the value is
    /// re-encoded through `CanonicalJSON`.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let bytes = Array(try sortedEncoder.encode(value))
        // JSON text never holds a raw control byte, so no backslash means no escape at all.
        let plain = bytes.withUnsafeBufferPointer { buf in buf.baseAddress.map { memchr($0, 0x5C, buf.count) == nil } ?? true }
        return plain ? bytes : CanonicalJSON.encode(try CanonicalJSON.parse(bytes))
    }

    static let sortedEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Decodes `T` from a JSON value written with snake_case keys.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return try d.decode(T.self, from: Data(CanonicalJSON.encode(value)))
    }
}
