import Crypto

/// C2SP tlog-cosignature v1 (Ed25519, type 0x04): a witness's timestamped statement that a checkpoint
/// is the largest consistent tree head it has seen. Message: `cosignature/v1\ntime <t>\n` ‖ checkpoint text.
public enum Cosignature {
    /// The signed message for `checkpointText` at POSIX time `timestamp`.
    public static func message(checkpointText: String, timestamp: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(timestamp)\n\(checkpointText)".utf8)
    }

    /// The timestamp of a cosignature's bytes (u64 big-endian ‖ 64-byte signature), or nil if malformed.
    public static func timestamp(of signature: [UInt8]) -> UInt64? {
        guard signature.count == 72 else { return nil }
        return signature[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Signs checkpoints as a witness (cosignature/v1).
public struct Cosigner: Sendable {
    /// The underlying key, with type 0x04 so the key id differs from a plain note key.
    public let signer: NoteSigner

    /// A cosigner from a name and a 32-byte seed.
    public init(name: String, seed: [UInt8]) throws(NoteError) {
        signer = try NoteSigner(name: name, seed: seed, type: .cosignatureV1)
    }

    /// The verifier key (type 0x04).
    public var verifierKey: VerifierKey { signer.verifierKey }

    /// A timestamped cosignature line for `checkpointText`.
    public func cosign(checkpointText: String, timestamp: UInt64) throws(NoteError) -> NoteSignature {
        guard timestamp < 1 << 63 else { throw .malformed("timestamp must be below 2^63") }
        let sig = try signer.rawSign(Cosignature.message(checkpointText: checkpointText, timestamp: timestamp))
        return NoteSignature(name: signer.name, keyID: verifierKey.keyID, signature: withUnsafeBytes(of: timestamp.bigEndian) { Array($0) } + sig)
    }
}

/// Verifies cosignature/v1 signatures (type 0x04).
public struct CosignatureVerifier: NoteVerifier {
    public let name: String
    public let keyID: UInt32
    let key: Curve25519.Signing.PublicKey

    public func verify(text: String, signature: [UInt8]) -> Bool {
        guard let t = Cosignature.timestamp(of: signature), t < 1 << 63 else { return false }
        return key.isValidSignature(Array(signature[8...]), for: Cosignature.message(checkpointText: text, timestamp: t))
    }
}

/// A client's trust policy: the log's key plus at least `quorum` valid cosignatures from a named witness set.
/// Checking cosignatures before trusting a checkpoint defeats split views (c2sp.org/tlog-cosignature).
public struct WitnessPolicy: Sendable {
    /// The log's verifier key.
    public var logKey: VerifierKey
    /// The trusted witnesses' keys (type 0x04).
    public var witnesses: [VerifierKey]
    /// How many distinct witnesses must have cosigned.
    public var quorum: Int

    /// A policy; `quorum` must be between 0 and the number of witnesses.
    public init(logKey: VerifierKey, witnesses: [VerifierKey], quorum: Int) throws(NoteError) {
        guard quorum >= 0, quorum <= witnesses.count else {
            throw .malformedKey("quorum \(quorum) must be between 0 and the \(witnesses.count) witnesses named")
        }
        self.logKey = logKey; self.witnesses = witnesses; self.quorum = quorum
    }

    /// The checkpoint if the log signed it and ≥ quorum named witnesses cosigned it; otherwise a typed error.
    public func accept(_ note: Note) throws(NoteError) -> Checkpoint {
        try note.verify([try logKey.verifier()])
        var cosigners = Set<String>()
        let vs = try witnesses.map { (k: VerifierKey) throws(NoteError) in try k.verifier() }
        for sig in note.signatures {
            guard let v = vs.first(where: { $0.name == sig.name && $0.keyID == sig.keyID }) else { continue }
            guard v.verify(text: note.text, signature: sig.signature) else { throw .badSignature(name: sig.name) }
            cosigners.insert(sig.name)
        }
        guard cosigners.count >= quorum else {
            throw .noKnownSignature(names: ["only \(cosigners.count) of the \(quorum) required witness cosignatures"])
        }
        let cp = try Checkpoint(text: note.text)
        guard cp.origin == logKey.name else { throw .malformedCheckpoint("origin '\(cp.origin)' is not the log '\(logKey.name)'") }
        return cp
    }
}
