import MurmurCore

/// How a ledger checks a record's signature against its author's key. Always `.ed25519` for real
/// ledgers (RFC 8032); the hook exists so that tests can replay 10^5 records in a debug build, where
/// Ed25519 costs about a millisecond per signature, through exactly the same state machine.
public struct SignatureCheck: Sendable {
    let check: @Sendable (PublicIdentity, [UInt8], [UInt8]) -> Bool

    /// A check from a function of (author key, signed bytes, signature).
    public init(_ check: @escaping @Sendable (_ key: PublicIdentity, _ message: [UInt8], _ signature: [UInt8]) -> Bool) {
        self.check = check
    }

    /// Ed25519 (RFC 8032) over the record bytes.
    public static let ed25519 = SignatureCheck { key, message, signature in
        signature.count == 64 && key.verify(signature: signature, for: message)
    }

    /// True when `signature` is valid for `message` under `key`.
    public func isValid(key: PublicIdentity, message: [UInt8], signature: [UInt8]) -> Bool {
        check(key, message, signature)
    }
}
