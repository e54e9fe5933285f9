import Foundation
import MurmurCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A witness on disk: `WDIR/witness.key` (the cosigning key, mode 0600), `WDIR/witness.vkey` (type 0x04
/// verifier key to hand out), `WDIR/state/<id>.note` (the latest cosigned, log-signed checkpoint per origin)
/// and `WDIR/evidence/` (equivocation evidence). c2sp.org/tlog-witness requires the state to be persisted
/// before a cosignature is returned; each state file is replaced atomically (write, fsync, rename, fsync dir).
public struct WitnessDirectory: Sendable {
    /// The directory.
    public let path: String

    /// A directory handle (nothing is read yet).
    public init(path: String) { self.path = path }

    var keyPath: String { path + "/witness.key" }
    /// Where the witness's verifier key (type 0x04) is written.
    public var vkeyPath: String { path + "/witness.vkey" }
    var statePath: String { path + "/state" }
    var evidencePath: String { path + "/evidence" }

    /// Creates a witness named `name` with a fresh Ed25519 cosigning key; refuses an existing witness.
    @discardableResult
    public static func create(path: String, name: String) throws -> WitnessDirectory {
        let dir = WitnessDirectory(path: path)
        let fm = FileManager.default
        guard !fm.fileExists(atPath: dir.keyPath) else { throw LogStoreError.invalidLog("\(path) already holds a witness; pick another directory") }
        do {
            try fm.createDirectory(atPath: dir.statePath, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: dir.evidencePath, withIntermediateDirectories: true)
        } catch {
            throw LogStoreError.invalidLog("cannot create \(path): \(error.localizedDescription)")
        }
        let signer = try NoteSigner(name: name, type: .cosignatureV1)
        try AtomicFile.write(Array((LogDirectory.encodePrivateKey(signer) + "\n").utf8), to: dir.keyPath, mode: 0o600)
        try AtomicFile.write(Array((signer.verifierKey.description + "\n").utf8), to: dir.vkeyPath, mode: 0o644)
        return dir
    }

    /// The witness's cosigning key.
    public func cosigner() throws -> Cosigner {
        guard let text = try? String(contentsOfFile: keyPath, encoding: .utf8) else {
            throw LogStoreError.invalidLog("no witness in \(path); run `murmur log witness init \(path) --name NAME`")
        }
        let s = try LogDirectory.decodePrivateKey(text)
        guard s.type == .cosignatureV1 else { throw NoteError.malformedKey("\(keyPath) is not a cosignature (type 0x04) key") }
        return try Cosigner(name: s.name, seed: s.seed)
    }

    /// The witness's verifier key (type 0x04).
    public func verifierKey() throws -> VerifierKey { try cosigner().verifierKey }

    /// The witness for `logs`, with every stored state of those logs restored (state of other logs is kept on disk).
    public func load(logs: [VerifierKey]) throws -> Witness {
        var w = Witness(cosigner: try cosigner(), logs: logs)
        let origins = Set(logs.map(\.name))
        let files = (try? FileManager.default.contentsOfDirectory(atPath: statePath)) ?? []
        for f in files.sorted() where f.hasSuffix(".note") {
            guard let bytes = FileManager.default.contents(atPath: statePath + "/" + f) else {
                throw LogStoreError.invalidLog("cannot read witness state \(statePath)/\(f)")
            }
            let note = try Note(parsing: Array(bytes))
            let cp = try Checkpoint(text: note.text)
            guard origins.contains(cp.origin) else { continue }
            guard f == Self.stateFileName(origin: cp.origin) else {
                throw LogStoreError.corrupt("witness state \(f) holds a checkpoint of '\(cp.origin)', which belongs in \(Self.stateFileName(origin: cp.origin))")
            }
            try w.restore(note)
        }
        return w
    }

    /// Persists the latest cosigned checkpoint of `origin` (its log-signed note) atomically and durably.
    public func save(latest note: Note, origin: String) throws {
        try AtomicFile.write(Array(note.serialized.utf8), to: statePath + "/" + Self.stateFileName(origin: origin), mode: 0o644)
    }

    /// Stores equivocation evidence as `evidence/<hash>.note`; returns the file's path.
    @discardableResult
    public func save(evidence: EquivocationEvidence) throws -> String {
        let bytes = Array(evidence.note.serialized.utf8)
        let file = evidencePath + "/" + RFC9162.sha256(bytes).hex.prefix(16) + ".note"
        try AtomicFile.write(bytes, to: file, mode: 0o644)
        return file
    }

    /// `hex(SHA-256(origin))[:32].note`: origins contain `/`, so they are not file names themselves.
    static func stateFileName(origin: String) -> String {
        RFC9162.sha256(Array(origin.utf8)).hex.prefix(32) + ".note"
    }
}

/// Replaces a file so that a reader (or a restart after a crash) sees the old bytes or the new ones, never a mix:
/// write a temporary file, fsync it, rename it over the target, fsync the directory (POSIX rename is atomic).
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically and durably with permissions `mode`.
    public static func write(_ bytes: [UInt8], to path: String, mode: Int) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode_t(mode))
        guard fd >= 0 else { throw LogStoreError.invalidLog("cannot create \(tmp): errno \(errno)") }
        var ok = bytes.withUnsafeBytes { buf -> Bool in
            guard let base = buf.baseAddress else { return true }
            var off = 0
            while off < buf.count {
                let n = posixWrite(fd, base + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; return false }
                off += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        ok = close(fd) == 0 && ok
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw LogStoreError.invalidLog("cannot write \(path): errno \(errno)")
        }
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    private static func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, p, n)
        #else
        Darwin.write(fd, p, n)
        #endif
    }
}
