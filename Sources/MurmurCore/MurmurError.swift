/// Errors raised by MurmurCore, each with a message a user can act on.
public enum MurmurCoreError: Error, Equatable, CustomStringConvertible {
    /// A CID or multibase string could not be decoded.
    case invalidCID(String)
    /// A base32/base58 string has a character outside its alphabet.
    case invalidEncoding(String)
    /// A value cannot be represented in canonical JSON (e.g. a non-integer number).
    case notCanonical(String)
    /// JSON text could not be parsed.
    case invalidJSON(String)
    /// A key has the wrong size or format.
    case invalidKey(String)

    public var description: String {
        switch self {
        case .invalidCID(let m): return "invalid CID: \(m)"
        case .invalidEncoding(let m): return "invalid encoding: \(m)"
        case .notCanonical(let m): return "cannot encode as canonical JSON: \(m)"
        case .invalidJSON(let m): return "invalid JSON: \(m)"
        case .invalidKey(let m): return "invalid key: \(m)"
        }
    }
}
