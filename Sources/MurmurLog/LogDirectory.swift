import Foundation

/// A log on disk: `DIR/log.db` (SQLite), `DIR/log.key` (the signing key, mode 0600) and `DIR/log.vkey`
/// (the verifier key to hand out). The layout `murmur log init` creates and every other command opens.
public struct LogDirectory: Sendable {
    /// The directory.
    public let path: String

    /// A directory handle (nothing is read yet).
    public init(path: String) { self.path = path }

    var dbPath: String { path + "/log.db" }
    var keyPath: String { path + "/log.key" }
    /// Where the verifier key is written.
    public var vkeyPath: String { path + "/log.vkey" }

    /// Creates a new log for `origin` with a fresh Ed25519 key named after the origin.
    @discardableResult
    public static func create(path: String, origin: String) throws -> LogDirectory {
        let dir = LogDirectory(path: path)
        let fm = FileManager.default
        guard !fm.fileExists(atPath: dir.dbPath) else { throw LogStoreError.invalidLog("\(path) already holds a log; pick another directory") }
        do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw LogStoreError.invalidLog("cannot create \(path): \(error.localizedDescription)")
        }
        let signer = try NoteSigner(name: origin)
        try write(Self.encodePrivateKey(signer) + "\n", to: dir.keyPath, mode: 0o600)
        try write(signer.verifierKey.description + "\n", to: dir.vkeyPath, mode: 0o644)
        _ = try TileLog(storage: SQLiteLogStorage(path: dir.dbPath), origin: origin)
        return dir
    }

    /// Opens the log.
    public func open() throws -> TileLog {
        guard FileManager.default.fileExists(atPath: dbPath) else { throw LogStoreError.invalidLog("no log in \(path); run `murmur log init \(path) --origin NAME`") }
        return try TileLog(storage: SQLiteLogStorage(path: dbPath))
    }

    /// The log's signing key.
    public func signer() throws -> NoteSigner {
        guard let text = try? String(contentsOfFile: keyPath, encoding: .utf8) else { throw LogStoreError.invalidLog("cannot read \(keyPath)") }
        return try Self.decodePrivateKey(text)
    }

    /// The log's verifier key.
    public func verifierKey() throws -> VerifierKey {
        guard let text = try? String(contentsOfFile: vkeyPath, encoding: .utf8) else { throw LogStoreError.invalidLog("cannot read \(vkeyPath)") }
        return try VerifierKey(text)
    }

    /// `PRIVATE+KEY+name+hex(id)+base64(type‖seed)`, the form Go's golang.org/x/mod/sumdb/note uses for signer keys.
    public static func encodePrivateKey(_ s: NoteSigner) -> String {
        "PRIVATE+KEY+\(s.name)+\(String(format: "%08x", s.verifierKey.keyID))+\(Data([s.type.rawValue] + s.seed).base64EncodedString())"
    }

    /// Parses a private key written by `encodePrivateKey`.
    public static func decodePrivateKey(_ text: String) throws -> NoteSigner {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY", let raw = Data(base64Encoded: String(parts[4])), raw.count == 33,
              let type = NoteSignatureType(rawValue: raw[raw.startIndex])
        else { throw NoteError.malformedKey("a private key is PRIVATE+KEY+name+hex(id)+base64(type‖seed)") }
        let s = try NoteSigner(name: String(parts[2]), seed: Array(raw.dropFirst()), type: type)
        guard String(format: "%08x", s.verifierKey.keyID) == parts[3] else { throw NoteError.malformedKey("private key id does not match the key") }
        return s
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw LogStoreError.invalidLog("cannot write \(path)")
        }
    }
}
