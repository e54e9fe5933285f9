import Crypto
import MurmurCore

/// The client role of SecAgg+ as a state machine: messages in, actions out, no I/O.
///
/// Follows Bonawitz et al. (CCS 2017, Fig. 4, active variant with signed keys) restricted to the
/// neighbours of a k-regular graph as in Bell et al. (CCS 2020, Alg. 2). A client answers at most
/// one unmask request and never reveals both secrets of one neighbour.
public struct SecAggClient: Sendable {
    /// Where the client is in the four stages.
    public enum State: Sendable, Equatable {
        /// Created; `start()` advertises keys.
        case ready
        /// Stage 1 done; waiting for the neighbours' keys.
        case advertised
        /// Stage 2 done; waiting for the shares addressed to this client.
        case sharedKeys
        /// Stage 3 done; waiting for the unmask request.
        case sentInput
        /// Stage 4 done; the client will answer nothing more this round.
        case finished
    }

    /// The current stage.
    public private(set) var state: State = .ready
    /// This client's participant index.
    public let index: Int
    /// The round's public configuration.
    public let config: SecAggRoundConfig

    private let identity: Identity
    private let input: [UInt32]
    private let generator: MaskGenerator
    private let encryptionKey = Curve25519.KeyAgreement.PrivateKey()
    private let maskKey = Curve25519.KeyAgreement.PrivateKey()
    private let selfMaskSeed: [UInt8]
    private var roster: [Int: AdvertisedKeys] = [:]
    private var held: [Int: (selfShare: ShamirShare, keyShare: ShamirShare)] = [:]

    /// A client holding the quantized `input` (length `config.dimension`, values in Z_{2^b}).
    public init(index: Int, identity: Identity, config: SecAggRoundConfig, input: [UInt32], prg: MaskPRG = .protocolDefault) throws {
        try config.check(index)
        guard identity.publicKey == config.participants[index] else {
            throw SecAggError.invalidParameters("identity does not match participant \(index) of the round")
        }
        guard input.count == config.dimension else {
            throw SecAggError.invalidParameters("input has \(input.count) values, round dimension is \(config.dimension)")
        }
        self.index = index
        self.identity = identity
        self.config = config
        self.input = input
        self.generator = MaskGenerator(prg: prg)
        var rng = SystemRandomNumberGenerator()
        selfMaskSeed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// Stage 1: advertise (c^PK, s^PK) signed with the client's identity.
    public mutating func start() throws -> [SecAggAction] {
        guard state == .ready else { throw SecAggError.unexpectedMessage(kind: "start", stage: "\(state)") }
        let c = Array(encryptionKey.publicKey.rawRepresentation), s = Array(maskKey.publicKey.rawRepresentation)
        let signed = AdvertisedKeys.signedBytes(round: config.round, sender: index, encryptionKey: c, maskKey: s)
        let signature: [UInt8]
        do { signature = try identity.sign(signed) } catch { throw SecAggError.malformed("signing failed: \(error)") }
        state = .advertised
        return [.send(.advertiseKeys(AdvertisedKeys(round: config.round, sender: index, encryptionKey: c, maskKey: s, signature: signature)))]
    }

    /// Handles one server message and returns the messages to send back.
    public mutating func receive(_ message: SecAggMessage) throws -> [SecAggAction] {
        guard message.round == config.round else { throw SecAggError.wrongRound(expected: config.round, got: message.round) }
        guard message.client == index else { throw SecAggError.wrongRecipient(expected: index, got: message.client) }
        switch (state, message) {
        case (.advertised, .keyRoster(_, _, let keys)):
            return try shareKeys(keys)
        case (.sharedKeys, .shareBundle(_, _, let shares)):
            return try maskInput(shares)
        case (.sentInput, .unmaskRequest(_, _, let survivors, let dropped)):
            return try unmask(survivors: survivors, dropped: dropped)
        default:
            throw SecAggError.unexpectedMessage(kind: message.kind, stage: "\(state)")
        }
    }

    /// Stage 2: verify the neighbours' signed keys, Shamir-share b_u and s_u^SK among them
    /// (t-of-|roster|), and encrypt each pair of shares to its holder.
    private mutating func shareKeys(_ keys: [AdvertisedKeys]) throws -> [SecAggAction] {
        var verified = [Int: AdvertisedKeys]()
        for k in keys {
            try config.check(k.sender)
            guard k.round == config.round else { throw SecAggError.wrongRound(expected: config.round, got: k.round) }
            guard config.graph.areNeighbors(index, k.sender) else { throw SecAggError.notNeighbors(index, k.sender) }
            guard verified[k.sender] == nil else { throw SecAggError.duplicateMessage(kind: "AdvertiseKeys", sender: k.sender) }
            try k.verify(identity: config.participants[k.sender])
            verified[k.sender] = k
        }
        let t = config.parameters.threshold
        guard verified.count >= t else { throw SecAggError.tooFewSurvivors(stage: "AdvertiseKeys", survivors: verified.count, threshold: t) }
        let holders = verified.sorted { $0.key < $1.key }.map(\.value)
        let points = holders.map { UInt64($0.sender + 1) }
        var rng = SystemRandomNumberGenerator()
        let selfShares = try Shamir.split(selfMaskSeed, threshold: t, at: points, using: &rng)
        let keyShares = try Shamir.split(Array(maskKey.rawRepresentation), threshold: t, at: points, using: &rng)
        var out = [EncryptedShare]()
        for (i, v) in holders.enumerated() {
            let key = try PairwiseKeys.derive(
                encryptionKey, peer: v.encryptionKey, round: config.round, info: PairwiseKeys.shareInfo, peerIndex: v.sender)
            let box = try PairwiseKeys.seal(
                selfShare: selfShares[i], keyShare: keyShares[i], key: key, round: config.round, sender: index, recipient: v.sender)
            out.append(EncryptedShare(sender: index, recipient: v.sender, ciphertext: box))
        }
        roster = verified
        state = .sharedKeys
        return [.send(.encryptedShares(round: config.round, sender: index, shares: out))]
    }

    /// Stage 3: decrypt the shares held for neighbours (they define U2 ∩ N(u)) and send
    /// y_u = x_u + PRG(b_u) + Σ_v ±PRG(s_uv) mod 2^b, with + when u < v and − when u > v.
    private mutating func maskInput(_ shares: [EncryptedShare]) throws -> [SecAggAction] {
        var received = [Int: (selfShare: ShamirShare, keyShare: ShamirShare)]()
        for s in shares {
            guard s.recipient == index else { throw SecAggError.wrongRecipient(expected: index, got: s.recipient) }
            guard let keys = roster[s.sender] else { throw SecAggError.notNeighbors(index, s.sender) }
            guard received[s.sender] == nil else { throw SecAggError.duplicateMessage(kind: "EncryptedShare", sender: s.sender) }
            let key = try PairwiseKeys.derive(
                encryptionKey, peer: keys.encryptionKey, round: config.round, info: PairwiseKeys.shareInfo, peerIndex: s.sender)
            received[s.sender] = try PairwiseKeys.open(s.ciphertext, key: key, round: config.round, sender: s.sender, recipient: index)
        }
        let t = config.parameters.threshold
        guard received.count >= t else { throw SecAggError.tooFewSurvivors(stage: "ShareKeys", survivors: received.count, threshold: t) }
        var y = input
        try generator.accumulate(seed: selfMaskSeed, into: &y, subtract: false)
        for v in received.keys.sorted() {
            guard let peer = roster[v] else { continue }  // every sender was checked against the roster above
            let seed = try PairwiseKeys.maskSeed(maskKey, peer: peer.maskKey, round: config.round, peerIndex: v)
            try generator.accumulate(seed: seed, into: &y, subtract: index > v)
        }
        let ring = config.parameters.quantizer.ringMask
        for i in y.indices { y[i] &= ring }
        held = received
        state = .sentInput
        return [.send(.maskedInput(round: config.round, sender: index, vector: y))]
    }

    /// Stage 4: reveal b_v shares of survivors and s_v^SK shares of dropped neighbours. Refuses a
    /// request that lists a client in both sets or lists this client as dropped, since either
    /// would let the server learn a client's unmasked input.
    private mutating func unmask(survivors: [Int], dropped: [Int]) throws -> [SecAggAction] {
        let alive = Set(survivors), gone = Set(dropped)
        guard alive.count == survivors.count, gone.count == dropped.count else {
            throw SecAggError.malformed("unmask request repeats a client")
        }
        if let both = alive.intersection(gone).min() { throw SecAggError.conflictingUnmaskRequest(client: both) }
        guard alive.contains(index) else { throw SecAggError.conflictingUnmaskRequest(client: index) }
        let t = config.parameters.threshold
        guard alive.count >= t else { throw SecAggError.tooFewSurvivors(stage: "MaskedInput", survivors: alive.count, threshold: t) }
        guard alive.count >= config.minimumSurvivors else {
            throw SecAggError.tooFewSurvivors(stage: "MaskedInput", survivors: alive.count, threshold: config.minimumSurvivors)
        }
        var selfShares = [OwnedShare](), keyShares = [OwnedShare]()
        for (owner, pair) in held.sorted(by: { $0.key < $1.key }) {
            if alive.contains(owner) { selfShares.append(OwnedShare(owner: owner, share: pair.selfShare)) }
            if gone.contains(owner) { keyShares.append(OwnedShare(owner: owner, share: pair.keyShare)) }
        }
        state = .finished
        held = [:]
        return [.send(.unmaskResponse(round: config.round, sender: index, selfMaskShares: selfShares, maskKeyShares: keyShares))]
    }
}
