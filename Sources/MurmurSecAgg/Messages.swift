import MurmurCore

/// Stage 1 (AdvertiseKeys): a client's two X25519 public keys, signed with its Ed25519 identity.
///
/// Bonawitz et al. (CCS 2017, Fig. 4, round 0): c_u^PK encrypts shares, s_u^PK derives pairwise
/// masks; the signature (active-adversary variant) binds both to the round and the sender.
public struct AdvertisedKeys: Sendable, Hashable {
    /// The round.
    public let round: UInt64
    /// The sender's participant index.
    public let sender: Int
    /// c_u^PK, the X25519 key for share encryption (32 bytes).
    public let encryptionKey: [UInt8]
    /// s_u^PK, the X25519 key for pairwise masks (32 bytes).
    public let maskKey: [UInt8]
    /// Ed25519 signature over `signedBytes`.
    public let signature: [UInt8]

    /// Keys from their fields (the signature is checked by the receiver).
    public init(round: UInt64, sender: Int, encryptionKey: [UInt8], maskKey: [UInt8], signature: [UInt8]) {
        self.round = round
        self.sender = sender
        self.encryptionKey = encryptionKey
        self.maskKey = maskKey
        self.signature = signature
    }

    /// "murmur/secagg+/advertise/v1" ‖ round ‖ sender ‖ c^PK ‖ s^PK: what the identity signs.
    public var signedBytes: [UInt8] {
        Self.signedBytes(round: round, sender: sender, encryptionKey: encryptionKey, maskKey: maskKey)
    }

    static func signedBytes(round: UInt64, sender: Int, encryptionKey: [UInt8], maskKey: [UInt8]) -> [UInt8] {
        var w = WireWriter()
        w.bytes(Array("murmur/secagg+/advertise/v1".utf8))
        w.u64(round)
        w.u32(UInt32(truncatingIfNeeded: sender))
        w.bytes(encryptionKey)
        w.bytes(maskKey)
        return w.output
    }

    /// Throws unless the keys are well-formed and signed by `identity`.
    func verify(identity: PublicIdentity) throws {
        guard encryptionKey.count == 32, maskKey.count == 32, signature.count == 64 else {
            throw SecAggError.malformed("advertised keys of client \(sender) have wrong lengths")
        }
        guard identity.verify(signature: signature, for: signedBytes) else { throw SecAggError.badSignature(client: sender) }
    }
}

/// One AEAD-encrypted pair of shares from `sender` to `recipient`, routed by the server.
public struct EncryptedShare: Sendable, Hashable {
    /// The client whose secrets are shared.
    public let sender: Int
    /// The neighbour who will hold the shares.
    public let recipient: Int
    /// ChaCha20-Poly1305 combined box (nonce ‖ ciphertext ‖ tag).
    public let ciphertext: [UInt8]

    /// A share from its fields.
    public init(sender: Int, recipient: Int, ciphertext: [UInt8]) {
        self.sender = sender
        self.recipient = recipient
        self.ciphertext = ciphertext
    }
}

/// A share held for `owner`, revealed in the unmasking stage.
public struct OwnedShare: Sendable, Hashable {
    /// The client whose secret this is a share of.
    public let owner: Int
    /// The share itself.
    public let share: ShamirShare

    /// A share from its fields.
    public init(owner: Int, share: ShamirShare) {
        self.owner = owner
        self.share = share
    }
}

/// Every message of a SecAgg+ round, client → server and server → client.
///
/// The transport only moves these values (or their `encoded()` bytes); all protocol logic lives
/// in `SecAggClient` and `SecAggServer`.
public enum SecAggMessage: Sendable, Hashable {
    /// Client → server, stage 1.
    case advertiseKeys(AdvertisedKeys)
    /// Server → client: the signed keys of the recipient's neighbours that advertised.
    case keyRoster(round: UInt64, recipient: Int, keys: [AdvertisedKeys])
    /// Client → server, stage 2: one encrypted share pair per neighbour.
    case encryptedShares(round: UInt64, sender: Int, shares: [EncryptedShare])
    /// Server → client: the encrypted shares addressed to the recipient.
    case shareBundle(round: UInt64, recipient: Int, shares: [EncryptedShare])
    /// Client → server, stage 3: y_u = x_u + PRG(b_u) + Σ ±PRG(s_uv) mod 2^b.
    case maskedInput(round: UInt64, sender: Int, vector: [UInt32])
    /// Server → client, stage 4: who sent a masked input and who dropped after sharing.
    case unmaskRequest(round: UInt64, recipient: Int, survivors: [Int], dropped: [Int])
    /// Client → server, stage 4: self-mask shares of survivors, mask-key shares of the dropped.
    case unmaskResponse(round: UInt64, sender: Int, selfMaskShares: [OwnedShare], maskKeyShares: [OwnedShare])

    /// The round the message belongs to.
    public var round: UInt64 {
        switch self {
        case .advertiseKeys(let a): return a.round
        case .keyRoster(let r, _, _), .encryptedShares(let r, _, _), .shareBundle(let r, _, _),
            .maskedInput(let r, _, _), .unmaskRequest(let r, _, _, _), .unmaskResponse(let r, _, _, _):
            return r
        }
    }

    /// The client that sent it (client → server) or will receive it (server → client).
    public var client: Int {
        switch self {
        case .advertiseKeys(let a): return a.sender
        case .keyRoster(_, let c, _), .encryptedShares(_, let c, _), .shareBundle(_, let c, _),
            .maskedInput(_, let c, _), .unmaskRequest(_, let c, _, _), .unmaskResponse(_, let c, _, _):
            return c
        }
    }

    /// A short name for errors and logs.
    public var kind: String {
        switch self {
        case .advertiseKeys: return "AdvertiseKeys"
        case .keyRoster: return "KeyRoster"
        case .encryptedShares: return "EncryptedShares"
        case .shareBundle: return "ShareBundle"
        case .maskedInput: return "MaskedInput"
        case .unmaskRequest: return "UnmaskRequest"
        case .unmaskResponse: return "UnmaskResponse"
        }
    }
}

/// What a state machine asks its driver to do.
public enum SecAggAction: Sendable, Hashable {
    /// Deliver this message (to the server, or to `message.client` when the server sends it).
    case send(SecAggMessage)
    /// The round is complete: the server's unmasked sum.
    case finished(SecAggResult)
}

/// The outcome of a round: Σ_{u ∈ U3} x_u mod 2^b and who contributed.
public struct SecAggResult: Sendable, Hashable {
    /// The sum of the surviving clients' quantized inputs in Z_{2^b}.
    public let sum: [UInt32]
    /// U3: the clients whose inputs are in the sum, ascending.
    public let contributors: [Int]

    /// A result from its fields (drivers that assemble results themselves).
    public init(sum: [UInt32], contributors: [Int]) {
        self.sum = sum
        self.contributors = contributors
    }
}
