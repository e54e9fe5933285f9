import Crypto
import Foundation
import MurmurCore

/// The server role of SecAgg+ as a state machine: the driver feeds client messages to
/// `receive(_:)` and calls `closeStage()` when a stage's deadline passes (or all have answered).
///
/// Bonawitz et al. (CCS 2017, Fig. 4) with Bell et al.'s (CCS 2020) graph: U1 ⊇ U2 ⊇ U3 ⊇ U4 are
/// the clients that completed stages 1–4; the result is Σ_{u∈U3} x_u whenever every needed
/// secret has t shares, else a typed abort.
public struct SecAggServer: Sendable {
    /// Which client messages the server is collecting.
    public enum State: Sendable, Equatable {
        /// Stage 1: AdvertiseKeys.
        case collectingKeys
        /// Stage 2: EncryptedShares.
        case collectingShares
        /// Stage 3: MaskedInput.
        case collectingInputs
        /// Stage 4: UnmaskResponse.
        case collectingUnmasks
        /// The sum was produced (or the round aborted); nothing more is accepted.
        case finished
    }

    /// The current stage.
    public private(set) var state: State = .collectingKeys
    /// The round's public configuration.
    public let config: SecAggRoundConfig

    private let generator: MaskGenerator
    private var keys: [Int: AdvertisedKeys] = [:]
    private var shares: [Int: [EncryptedShare]] = [:]
    /// The clients whose masked input arrived (U3 once stage 3 closes).
    private var inputSenders: Set<Int> = []
    /// Their masked inputs added up (mod 2^32) as they arrive: the server keeps one vector, not n.
    private var inputSum: [UInt32] = []
    private var responses: [Int: (selfShares: [OwnedShare], keyShares: [OwnedShare])] = [:]
    private var survivors: Set<Int> = []
    private var dropped: Set<Int> = []

    /// Threads for the unmasking stage's mask expansions (default: up to 2 of the machine's cores).
    public var unmaskWorkers: Int

    /// A server for one round.
    public init(config: SecAggRoundConfig, prg: MaskPRG = .protocolDefault,
                unmaskWorkers: Int = min(2, ProcessInfo.processInfo.activeProcessorCount)) {
        self.config = config
        self.generator = MaskGenerator(prg: prg)
        self.unmaskWorkers = max(1, unmaskWorkers)
    }

    /// U1 … U4 so far: the clients that completed each stage.
    public var stageSurvivors: [Int] {
        switch state {
        case .collectingKeys: return keys.keys.sorted()
        case .collectingShares: return shares.keys.sorted()
        case .collectingInputs: return inputSenders.sorted()
        case .collectingUnmasks, .finished: return responses.keys.sorted()
        }
    }

    /// Validates and stores one client message; replays, forgeries and out-of-stage messages throw
    /// and leave the state unchanged. Returns no actions: stages advance in `closeStage()`.
    public mutating func receive(_ message: SecAggMessage) throws -> [SecAggAction] {
        guard message.round == config.round else { throw SecAggError.wrongRound(expected: config.round, got: message.round) }
        let u = message.client
        try config.check(u)
        switch (state, message) {
        case (.collectingKeys, .advertiseKeys(let a)):
            guard keys[u] == nil else { throw SecAggError.duplicateMessage(kind: message.kind, sender: u) }
            try a.verify(identity: config.participants[u])
            keys[u] = a
        case (.collectingShares, .encryptedShares(_, _, let list)):
            guard keys[u] != nil else { throw SecAggError.unexpectedMessage(kind: message.kind, stage: "\(state) (sender skipped stage 1)") }
            guard shares[u] == nil else { throw SecAggError.duplicateMessage(kind: message.kind, sender: u) }
            // A client must share with exactly its neighbours in U1, or some pair's masks would not cancel.
            let expected = Set(config.graph.neighbors[u].filter { keys[$0] != nil })
            guard list.allSatisfy({ $0.sender == u }), Set(list.map(\.recipient)) == expected, list.count == expected.count else {
                throw SecAggError.malformed("client \(u) must send one share to each of its \(expected.count) advertised neighbours")
            }
            shares[u] = list
        case (.collectingInputs, .maskedInput(_, _, let vector)):
            guard shares[u] != nil else { throw SecAggError.unexpectedMessage(kind: message.kind, stage: "\(state) (sender skipped stage 2)") }
            guard !inputSenders.contains(u) else { throw SecAggError.duplicateMessage(kind: message.kind, sender: u) }
            guard vector.count == config.dimension else {
                throw SecAggError.malformed("masked input of client \(u) has \(vector.count) values, expected \(config.dimension)")
            }
            inputSenders.insert(u)
            if inputSum.isEmpty {
                inputSum = vector
            } else {
                inputSum.withUnsafeMutableBufferPointer { acc in
                    vector.withUnsafeBufferPointer { y in for i in 0..<acc.count { acc[i] &+= y[i] } }
                }
            }
        case (.collectingUnmasks, .unmaskResponse(_, _, let selfShares, let keyShares)):
            guard survivors.contains(u) else { throw SecAggError.unexpectedMessage(kind: message.kind, stage: "\(state) (sender not in U3)") }
            guard responses[u] == nil else { throw SecAggError.duplicateMessage(kind: message.kind, sender: u) }
            guard Set(selfShares.map(\.owner)).count == selfShares.count, Set(keyShares.map(\.owner)).count == keyShares.count else {
                throw SecAggError.malformed("client \(u) sent two shares for one owner")
            }
            let heldFor = Set(config.graph.neighbors[u].filter { shares[$0] != nil })
            for s in selfShares where !(survivors.contains(s.owner) && heldFor.contains(s.owner)) || s.share.x != UInt64(u + 1) {
                throw SecAggError.malformed("client \(u) sent a self-mask share for \(s.owner) it cannot hold")
            }
            for s in keyShares where !(dropped.contains(s.owner) && heldFor.contains(s.owner)) || s.share.x != UInt64(u + 1) {
                throw SecAggError.malformed("client \(u) sent a mask-key share for \(s.owner) it cannot hold")
            }
            responses[u] = (selfShares, keyShares)
        default:
            throw SecAggError.unexpectedMessage(kind: message.kind, stage: "\(state)")
        }
        return []
    }

    /// Ends the current stage: checks the survivor count against t and emits the next stage's
    /// messages, or after stage 4 the unmasked sum.
    public mutating func closeStage() throws -> [SecAggAction] {
        let round = config.round
        switch state {
        case .collectingKeys:
            try require(keys.count, stage: "AdvertiseKeys")
            state = .collectingShares
            return keys.keys.sorted().map { u in
                let roster = config.graph.neighbors[u].compactMap { keys[$0] }
                return .send(.keyRoster(round: round, recipient: u, keys: roster))
            }
        case .collectingShares:
            try require(shares.count, stage: "ShareKeys")
            state = .collectingInputs
            var bundles = [Int: [EncryptedShare]]()
            for list in shares.values {
                for s in list where shares[s.recipient] != nil { bundles[s.recipient, default: []].append(s) }
            }
            return shares.keys.sorted().map { v in
                .send(.shareBundle(round: round, recipient: v, shares: (bundles[v] ?? []).sorted { $0.sender < $1.sender }))
            }
        case .collectingInputs:
            try require(inputSenders.count, stage: "MaskedInput")
            if inputSenders.count < config.minimumSurvivors {
                state = .finished
                throw SecAggError.tooFewSurvivors(stage: "MaskedInput", survivors: inputSenders.count, threshold: config.minimumSurvivors)
            }
            survivors = inputSenders
            dropped = Set(shares.keys).subtracting(survivors)
            state = .collectingUnmasks
            let s = survivors.sorted(), d = dropped.sorted()
            return s.map { .send(.unmaskRequest(round: round, recipient: $0, survivors: s, dropped: d)) }
        case .collectingUnmasks:
            try require(responses.count, stage: "Unmasking")
            let sum = try unmask()
            state = .finished
            return [.finished(SecAggResult(sum: sum, contributors: survivors.sorted()))]
        case .finished:
            throw SecAggError.unexpectedMessage(kind: "closeStage", stage: "\(state)")
        }
    }

    private mutating func require(_ count: Int, stage: String) throws {
        let t = config.parameters.threshold
        if count < t {
            state = .finished
            throw SecAggError.tooFewSurvivors(stage: stage, survivors: count, threshold: t)
        }
    }

    /// Σ_{u∈U3} y_u − Σ_{u∈U3} PRG(b_u) − Σ_{u∈U2∖U3} Σ_{v∈N(u)∩U3} (±PRG(s_vu) as v added it).
    ///
    /// Secrets are reconstructed (and checked) first; the mask expansions — one per survivor and
    /// one X25519 + one expansion per (dropped, surviving neighbour) pair — then run on
    /// `workers` threads, each into its own accumulator, added at the end (addition mod 2^32
    /// commutes, so the result does not depend on the split).
    private mutating func unmask() throws -> [UInt32] {
        let t = config.parameters.threshold
        var selfShares = [Int: [ShamirShare]](), keyShares = [Int: [ShamirShare]]()
        for (_, r) in responses.sorted(by: { $0.key < $1.key }) {
            for s in r.selfShares { selfShares[s.owner, default: []].append(s.share) }
            for s in r.keyShares { keyShares[s.owner, default: []].append(s.share) }
        }
        // The survivors' masked inputs, already added up as they arrived.
        var sum = inputSum.isEmpty ? [UInt32](repeating: 0, count: config.dimension) : inputSum
        inputSum = []
        var jobs = [MaskJob]()
        for u in survivors.sorted() {
            let have = selfShares[u] ?? []
            guard have.count >= t else {
                state = .finished
                throw SecAggError.cannotReconstruct(client: u, shares: have.count, threshold: t)
            }
            jobs.append(.selfMask(seed: try Shamir.reconstruct(have, threshold: t, byteCount: 32)))
        }
        for u in dropped.sorted() {
            let have = keyShares[u] ?? []
            guard have.count >= t else {
                state = .finished
                throw SecAggError.cannotReconstruct(client: u, shares: have.count, threshold: t)
            }
            let raw = try Shamir.reconstruct(have, threshold: t, byteCount: 32)
            let sk: Curve25519.KeyAgreement.PrivateKey
            do { sk = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) } catch {
                throw SecAggError.inconsistentShares(client: u)
            }
            guard let advertised = keys[u], Array(sk.publicKey.rawRepresentation) == advertised.maskKey else {
                throw SecAggError.inconsistentShares(client: u)
            }
            // v ∈ U3 masked with u iff u's share reached v, i.e. u ∈ U2 and they are neighbours.
            for v in config.graph.neighbors[u] where survivors.contains(v) {
                guard let peer = keys[v] else { continue }
                // v added +PRG(s_vu) when v < u and −PRG when v > u; undo it.
                jobs.append(.pairwise(key: sk, peer: peer.maskKey, peerIndex: v, subtract: v < u))
            }
        }
        try Self.apply(jobs, to: &sum, generator: generator, round: config.round, workers: unmaskWorkers)
        let ring = config.parameters.quantizer.ringMask
        for i in sum.indices { sum[i] &= ring }
        return sum
    }

    /// One mask to remove: a survivor's self mask, or a pairwise mask a dropped client's
    /// reconstructed key shares with a surviving neighbour.
    enum MaskJob: Sendable {
        case selfMask(seed: [UInt8])
        case pairwise(key: Curve25519.KeyAgreement.PrivateKey, peer: [UInt8], peerIndex: Int, subtract: Bool)
    }

    /// Per-worker result slots for `apply`: raw memory, one element per worker, so that workers
    /// never mutate a shared Array (whose copy-on-write bookkeeping is not thread-safe).
    /// @unchecked Sendable: worker i writes only element i, and `concurrentPerform` returns only
    /// after every worker has finished, so no element is ever accessed by two threads at once.
    final class WorkerSlots: @unchecked Sendable {
        let partials: UnsafeMutableBufferPointer<[UInt32]>
        let errors: UnsafeMutableBufferPointer<SecAggError?>
        init(_ count: Int) {
            partials = .allocate(capacity: count)
            partials.initialize(repeating: [])
            errors = .allocate(capacity: count)
            errors.initialize(repeating: nil)
        }
        deinit {
            partials.deinitialize()
            partials.deallocate()
            errors.deinitialize()
            errors.deallocate()
        }
    }

    /// Removes jobs worker, worker + stride, … from `acc`.
    @Sendable static func run(
        _ jobs: [MaskJob], worker: Int, stride: Int, into acc: inout [UInt32], generator: MaskGenerator, round: UInt64
    ) throws {
        var i = worker
        while i < jobs.count {
            switch jobs[i] {
            case .selfMask(let seed):
                try generator.accumulate(seed: seed, into: &acc, subtract: true)
            case .pairwise(let key, let peer, let v, let subtract):
                let seed = try PairwiseKeys.maskSeed(key, peer: peer, round: round, peerIndex: v)
                try generator.accumulate(seed: seed, into: &acc, subtract: subtract)
            }
            i += stride
        }
    }

    /// Removes `jobs` from `sum` on `workers` threads (job i goes to worker i mod workers).
    static func apply(_ jobs: [MaskJob], to sum: inout [UInt32], generator: MaskGenerator, round: UInt64, workers: Int) throws {
        let w = max(1, min(workers, jobs.count))
        if w == 1 {
            try run(jobs, worker: 0, stride: 1, into: &sum, generator: generator, round: round)
            return
        }
        let d = sum.count
        let slots = WorkerSlots(w)
        DispatchQueue.concurrentPerform(iterations: w) { worker in
            var acc = [UInt32](repeating: 0, count: d)
            do {
                try run(jobs, worker: worker, stride: w, into: &acc, generator: generator, round: round)
            } catch let e as SecAggError {
                slots.errors[worker] = e
            } catch {
                slots.errors[worker] = .malformed("unmasking failed: \(error)")
            }
            slots.partials[worker] = acc
        }
        if let e = slots.errors.compactMap({ $0 }).first { throw e }
        sum.withUnsafeMutableBufferPointer { out in
            for p in slots.partials {
                p.withUnsafeBufferPointer { src in for i in 0..<d { out[i] &+= src[i] } }
            }
        }
    }
}
