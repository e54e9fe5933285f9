import Foundation
import MurmurCore
import MurmurLog

/// The node's secrets on disk, each created on first start with mode 0600 and read back on restart:
/// the identity (hex Ed25519 seed, the format `murmur infer --key` uses), the log's note signer
/// (`DATA_DIR/log.key`, the format of `murmur log init`) and the admin token (`DATA_DIR/admin.token`).
/// Why: a restarted node must keep its peer id, its log key and its token.
public enum NodeKeys {
    /// Reads the identity at `path`, or creates one there; `created` says which.
    public static func identity(at path: String) throws(NodeError) -> (identity: Identity, created: Bool) {
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let seed = try? Multibase.decodeHex(text), let id = try? Identity(seed: seed) else {
                throw .identity("'\(path)' is not a hex Ed25519 seed (64 hex digits); move it away to have a new identity created")
            }
            return (id, false)
        }
        let id = Identity()
        try write(Multibase.hex(Array(id.privateKey.rawRepresentation)) + "\n", to: path)
        return (id, true)
    }

    /// Reads the log signer at `path`, or creates one named `origin`; a key for another origin is an error.
    public static func logSigner(at path: String, origin: String) throws(NodeError) -> NoteSigner {
        if let data = FileManager.default.contents(atPath: path) {
            let signer: NoteSigner
            do { signer = try LogDirectory.decodePrivateKey(String(decoding: data, as: UTF8.self)) } catch {
                throw .identity("'\(path)' is not a log key: \(error)")
            }
            guard signer.name == origin else {
                throw .identity("'\(path)' signs for '\(signer.name)', but log_origin is '\(origin)'; keep the old origin or use a new data_dir")
            }
            return signer
        }
        let signer = try NodeLedger.makeSigner(origin: origin)
        try write(LogDirectory.encodePrivateKey(signer) + "\n", to: path)
        return signer
    }

    /// The admin token: `configured` if given, else the one in `path`, else a new random one written there.
    /// Returns the token and the file it lives in (nil when it came from the configuration).
    public static func adminToken(configured: String?, path: String) throws(NodeError) -> (token: String, file: String?) {
        if let configured { return (configured, nil) }
        if let data = FileManager.default.contents(atPath: path) {
            let t = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard t.count >= 16 else { throw .identity("'\(path)' holds no admin token; delete it to have one generated") }
            return (t, path)
        }
        var rng = SystemRandomNumberGenerator()
        let token = Multibase.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        try write(token + "\n", to: path)
        return (token, path)
    }

    static func write(_ text: String, to path: String) throws(NodeError) {
        let fm = FileManager.default
        do { try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true) } catch {
            throw .identity("cannot create the folder of '\(path)': \(error.localizedDescription)")
        }
        guard fm.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw .identity("cannot write '\(path)'")
        }
    }
}
