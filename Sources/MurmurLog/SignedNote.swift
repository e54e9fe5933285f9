import Crypto
import Foundation

/// A C2SP signed note: text ending in a newline, a blank line, then `— <name> base64(keyID‖sig)` lines.
/// Checkpoints and cosignatures travel as notes (c2sp.org/signed-note).
public struct Note: Sendable, Equatable {
    /// The signed text, including its final newline.
    public var text: String
    /// The signature lines, in order.
    public var signatures: [NoteSignature]

    /// A note from text and signatures.
    public init(text: String, signatures: [NoteSignature] = []) {
        self.text = text; self.signatures = signatures
    }

    /// The largest note we parse; the spec asks to accept at least 16 signatures.
    public static let maxSize = 1 << 20

    /// Parses a signed note; the text ends at the last blank line (c2sp.org/signed-note, "Format").
    public init(parsing bytes: some Collection<UInt8>) throws(NoteError) {
        guard bytes.count <= Note.maxSize else { throw .tooLarge(bytes.count) }
        guard let s = String(validating: Array(bytes), as: UTF8.self) else { throw .malformed("not valid UTF-8") }
        guard !s.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw .malformed("contains a control character other than newline")
        }
        guard s.hasSuffix("\n"), let sep = s.range(of: "\n\n", options: .backwards) else {
            throw .malformed("no blank line before the signatures, or no final newline")
        }
        text = String(s[..<sep.lowerBound]) + "\n"
        let sigText = s[sep.upperBound...]
        signatures = []
        for line in sigText.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            signatures.append(try NoteSignature(line: line))
        }
        guard !signatures.isEmpty else { throw .malformed("a signed note needs at least one signature line") }
    }

    /// Parses a string.
    public init(parsing string: String) throws(NoteError) { try self.init(parsing: Array(string.utf8)) }

    /// The wire form: text, blank line, signature lines.
    public var serialized: String { text + "\n" + signatures.map(\.line).joined() }

    /// Verifies: unknown keys are ignored, a known key's bad signature rejects the note, at least one must verify.
    /// Returns the verified signatures (c2sp.org/signed-note, "Signatures").
    @discardableResult
    public func verify(_ verifiers: [any NoteVerifier]) throws(NoteError) -> [NoteSignature] {
        var good: [NoteSignature] = []
        for sig in signatures {
            guard let v = verifiers.first(where: { $0.name == sig.name && $0.keyID == sig.keyID }) else { continue }
            guard v.verify(text: text, signature: sig.signature) else { throw .badSignature(name: sig.name) }
            good.append(sig)
        }
        guard !good.isEmpty else { throw .noKnownSignature(names: signatures.map(\.name)) }
        return good
    }
}

/// One note signature line: key name, 32-bit key id and the algorithm's signature bytes.
public struct NoteSignature: Sendable, Equatable, Hashable {
    /// The key name (no spaces, no `+`).
    public var name: String
    /// The 32-bit key id (big-endian first 4 bytes of the decoded signature).
    public var keyID: UInt32
    /// The signature bytes after the key id.
    public var signature: [UInt8]

    /// A signature from its parts.
    public init(name: String, keyID: UInt32, signature: [UInt8]) {
        self.name = name; self.keyID = keyID; self.signature = signature
    }

    /// Parses `— <name> <base64>` (without the newline).
    public init(line: some StringProtocol) throws(NoteError) {
        guard line.hasPrefix("\u{2014} ") else { throw .malformed("signature line must start with an em dash and a space: '\(line)'") }
        let rest = line.dropFirst(2)
        let parts = rest.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, NoteKeyName.isValid(parts[0]) else { throw .malformed("signature line needs '<name> <base64>': '\(line)'") }
        guard let raw = Data(base64Encoded: String(parts[1])), raw.count >= 5 else {
            throw .malformed("signature of \(parts[0]) is not base64 of key id + signature")
        }
        let b = Array(raw)
        name = String(parts[0])
        keyID = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
        signature = Array(b[4...])
    }

    /// The line, with its final newline.
    public var line: String {
        var raw = withUnsafeBytes(of: keyID.bigEndian) { Array($0) }
        raw += signature
        return "\u{2014} \(name) \(Data(raw).base64EncodedString())\n"
    }
}

/// Key-name rules: non-empty, no Unicode spaces, no `+`.
enum NoteKeyName {
    static func isValid(_ name: some StringProtocol) -> Bool {
        !name.isEmpty && !name.contains("+") && !name.unicodeScalars.contains { $0.properties.isWhitespace }
    }
}

/// Something that checks note signatures of one (name, key id).
public protocol NoteVerifier: Sendable {
    /// The key name.
    var name: String { get }
    /// The key id.
    var keyID: UInt32 { get }
    /// Whether `signature` (without key id) is valid for `text`.
    func verify(text: String, signature: [UInt8]) -> Bool
}

/// Signature type bytes (c2sp.org/signed-note, "Signature types").
public enum NoteSignatureType: UInt8, Sendable {
    /// Ed25519 over the note text.
    case ed25519 = 0x01
    /// Timestamped Ed25519 checkpoint cosignature (c2sp.org/tlog-cosignature).
    case cosignatureV1 = 0x04
}

/// Key id = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big-endian.
public func noteKeyID(name: String, type: NoteSignatureType, publicKey: [UInt8]) -> UInt32 {
    let d = Array(SHA256.hash(data: Array(name.utf8) + [0x0A, type.rawValue] + publicKey))
    return UInt32(d[0]) << 24 | UInt32(d[1]) << 16 | UInt32(d[2]) << 8 | UInt32(d[3])
}

/// A verifier key in text form `name+hex(keyID)+base64(type‖pubkey)` (c2sp.org/signed-note, "Verifier keys").
public struct VerifierKey: Sendable, Equatable, CustomStringConvertible {
    /// The key name.
    public var name: String
    /// The signature type.
    public var type: NoteSignatureType
    /// The 32-byte Ed25519 public key.
    public var publicKey: [UInt8]
    /// The key id.
    public var keyID: UInt32 { noteKeyID(name: name, type: type, publicKey: publicKey) }

    /// A key from parts.
    public init(name: String, type: NoteSignatureType, publicKey: [UInt8]) throws(NoteError) {
        guard NoteKeyName.isValid(name) else { throw .malformedKey("key name '\(name)' is empty or has a space or '+'") }
        guard publicKey.count == 32 else { throw .malformedKey("an Ed25519 public key is 32 bytes, got \(publicKey.count)") }
        self.name = name; self.type = type; self.publicKey = publicKey
    }

    /// Parses the text form; the embedded key id must match the computed one.
    public init(_ text: some StringProtocol) throws(NoteError) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count == 8, let id = UInt32(parts[1], radix: 16),
              let raw = Data(base64Encoded: String(parts[2])), raw.count == 33,
              let type = NoteSignatureType(rawValue: raw[raw.startIndex])
        else { throw .malformedKey("a verifier key is name+hex(keyid)+base64(type‖key) with an Ed25519 or cosignature type") }
        try self.init(name: String(parts[0]), type: type, publicKey: Array(raw.dropFirst()))
        guard id == keyID else { throw .malformedKey("key id \(parts[1]) does not match the key (expected \(String(format: "%08x", keyID)))") }
    }

    /// The text form.
    public var description: String {
        "\(name)+\(String(format: "%08x", keyID))+\(Data([type.rawValue] + publicKey).base64EncodedString())"
    }

    /// A note verifier for this key: plain Ed25519 or timestamped cosignature.
    public func verifier() throws(NoteError) -> any NoteVerifier {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { throw .malformedKey("not an Ed25519 public key") }
        switch type {
        case .ed25519: return Ed25519NoteVerifier(name: name, keyID: keyID, key: key)
        case .cosignatureV1: return CosignatureVerifier(name: name, keyID: keyID, key: key)
        }
    }
}

/// Verifies plain Ed25519 note signatures (type 0x01) over the note text.
public struct Ed25519NoteVerifier: NoteVerifier {
    public let name: String
    public let keyID: UInt32
    let key: Curve25519.Signing.PublicKey

    public func verify(text: String, signature: [UInt8]) -> Bool {
        signature.count == 64 && key.isValidSignature(signature, for: Array(text.utf8))
    }
}

/// Signs notes with an Ed25519 key (type 0x01); a log signs its checkpoints with one.
public struct NoteSigner: Sendable {
    /// The key name.
    public let name: String
    let key: Curve25519.Signing.PrivateKey
    /// The signature type this signer produces.
    public let type: NoteSignatureType

    /// A signer from a name and a 32-byte Ed25519 seed.
    public init(name: String, seed: [UInt8], type: NoteSignatureType = .ed25519) throws(NoteError) {
        guard NoteKeyName.isValid(name) else { throw .malformedKey("key name '\(name)' is empty or has a space or '+'") }
        guard let k = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else { throw .malformedKey("an Ed25519 seed is 32 bytes") }
        self.name = name; self.key = k; self.type = type
    }

    /// A fresh random key.
    public init(name: String, type: NoteSignatureType = .ed25519) throws(NoteError) {
        try self.init(name: name, seed: Array(Curve25519.Signing.PrivateKey().rawRepresentation), type: type)
    }

    /// The 32-byte seed (keep secret).
    public var seed: [UInt8] { Array(key.rawRepresentation) }

    /// The public verifier key.
    public var verifierKey: VerifierKey {
        // Name validity and key length were checked in init, so this cannot fail.
        try! VerifierKey(name: name, type: type, publicKey: Array(key.publicKey.rawRepresentation))
    }

    /// Signs raw bytes with the key.
    func rawSign(_ message: [UInt8]) throws(NoteError) -> [UInt8] {
        guard let s = try? key.signature(for: message) else { throw .signingFailed }
        return Array(s)
    }

    /// Signs `text` as a type-0x01 note signature.
    public func sign(text: String) throws(NoteError) -> NoteSignature {
        NoteSignature(name: name, keyID: verifierKey.keyID, signature: try rawSign(Array(text.utf8)))
    }
}

/// Why a note, key or signature was refused.
public enum NoteError: Error, Equatable, CustomStringConvertible {
    /// The note's bytes do not follow c2sp.org/signed-note.
    case malformed(String)
    /// Larger than `Note.maxSize`.
    case tooLarge(Int)
    /// A verifier key is not in text form or does not match its id.
    case malformedKey(String)
    /// A known key's signature failed: the whole note is rejected.
    case badSignature(name: String)
    /// No signature from a trusted key.
    case noKnownSignature(names: [String])
    /// The platform could not sign.
    case signingFailed
    /// A checkpoint body does not follow c2sp.org/tlog-checkpoint.
    case malformedCheckpoint(String)

    public var description: String {
        switch self {
        case .malformed(let m): return "malformed signed note: \(m)"
        case .tooLarge(let n): return "a note of \(n) bytes is larger than the \(Note.maxSize) bytes accepted"
        case .malformedKey(let m): return "bad verifier key: \(m)"
        case .badSignature(let n): return "the signature by trusted key '\(n)' does not verify; the note is forged or corrupted"
        case .noKnownSignature(let names): return "no signature from a trusted key (signed by: \(names.joined(separator: ", "))); pass the right --key/--vkey"
        case .signingFailed: return "Ed25519 signing failed"
        case .malformedCheckpoint(let m): return "malformed checkpoint: \(m)"
        }
    }
}
