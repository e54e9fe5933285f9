/// What can go wrong when a node is configured, opened or started, with a message that says what to do.
/// Why: `murmur node` prints these as one line; tests match on the case.
public enum NodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A configuration file or flag is wrong: `source` is the file (or "flags"), `key` the setting.
    case config(source: String, key: String, message: String)
    /// The configuration file cannot be read or parsed.
    case configFile(source: String, message: String)
    /// The data directory or its SQLite file cannot be opened, or holds something unexpected.
    case storage(String)
    /// The identity or a signing key cannot be read or created.
    case identity(String)
    /// A witness refused, could not be reached, or answered with a bad cosignature.
    case witness(String)
    /// The P2P host or the HTTP server could not start.
    case startup(String)

    /// One line for the user.
    public var description: String {
        switch self {
        case .config(let source, let key, let message): "\(source): '\(key)': \(message)"
        case .configFile(let source, let message): "\(source): \(message)"
        case .storage(let m): "storage: \(m)"
        case .identity(let m): "identity: \(m)"
        case .witness(let m): "witness: \(m)"
        case .startup(let m): "startup: \(m)"
        }
    }
}
