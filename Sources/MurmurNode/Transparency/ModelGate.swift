import Foundation
import MurmurCore
import MurmurFL
import MurmurLedger
import MurmurLog
import MurmurML
import MurmurP2P
import NIOConcurrencyHelpers

/// The client side of model transparency: verifies an announced model version against a
/// witness-cosigned checkpoint, fetches it by CID over `/murmur/blocks/1`, and lets a fit request
/// through only when its parameters are that accepted model.
/// Why: issue 11 — "a client accepts a model only when its version is in a checkpoint with enough
/// witness cosignatures"; refusals are typed (`ModelRefusal`).
///
/// Checks, in order: no stored split-view evidence against the log; the checkpoint verifies with the
/// log's key and has `quorum` distinct witness cosignatures (`WitnessPolicy`); the entry's RFC 9162
/// inclusion proof leads to the checkpoint's root; the entry is a ledger record signed by the
/// announcing aggregator naming this CID for this version (`ModelVersion`, or `Genesis.initialModel`
/// for version 0); the fetched manifest hashes to the CID and its weights to the manifest's `weights`.
public final class ModelGate: Sendable {
    /// What the gate trusts.
    public let settings: TransparencySettings
    /// The federation log's key.
    public let logKey: VerifierKey
    /// The only peer whose announcements are considered.
    public let aggregator: PeerID
    let context = NIOLockedValueBox<NodeContext?>(nil)
    let accepted = NIOLockedValueBox<[Int: (cid: String, parameters: [Float])]>([:])
    let fetchTimeout: Duration

    /// A gate for models logged in `settings.logKey`'s log by `aggregator`.
    public init(settings: TransparencySettings, aggregator: PeerID, fetchTimeout: Duration = .seconds(30)) throws(TransparencyError) {
        guard let key = settings.logKey else { throw .invalidSetting("a client checking models needs federation_log (the aggregator's log key)") }
        self.settings = settings
        logKey = key
        self.aggregator = aggregator
        self.fetchTimeout = fetchTimeout
    }

    /// Attaches the running node (its store and host); announcements before this are refused.
    func attach(_ ctx: NodeContext) { context.withLockedValue { $0 = ctx } }

    /// The `/murmur/model/1` handler.
    var handler: StreamHandler {
        { stream in
            let answer: ModelAnswer
            do {
                guard stream.connection.remotePeer == self.aggregator else {
                    throw ModelRefusal.malformed("announcement from \(stream.connection.remotePeer?.description ?? "an unknown peer"), not the aggregator")
                }
                let a = try await ModelAnnouncementIO.read(ModelAnnouncement.self, from: stream)
                try await self.accept(a)
                answer = ModelAnswer(accepted: true)
            } catch {
                self.context.withLockedValue { $0 }?.logger.warning("\(error)")
                answer = ModelAnswer(accepted: false, reason: "\(error)")
            }
            try await ModelAnnouncementIO.write(answer, to: stream)
        }
    }

    /// The model accepted for fit round `round`, if any.
    public func acceptedModel(round: Int) -> String? { accepted.withLockedValue { $0[round]?.cid } }

    /// Verifies `a` and fetches its model; on success the round's parameters are let through by `check`.
    public func accept(_ a: ModelAnnouncement) async throws(ModelRefusal) {
        guard let ctx = context.withLockedValue({ $0 }) else { throw .malformed("the node is not started yet") }
        let convicted: Bool
        do { convicted = try ctx.store.evidence().contains { $0.logKey == logKey } } catch { throw .malformed("reading evidence: \(error)") }
        guard !convicted else { throw .logConvicted(log: logKey.name) }
        let note: Note
        do { note = try Note(parsing: a.checkpoint) } catch { throw .checkpointRejected("\(error)") }
        let cp: Checkpoint
        do { cp = try settings.policy(for: logKey).accept(note) } catch let e as ModelRefusal { throw e } catch {
            throw .checkpointRejected("\(error)")
        }
        guard let entry = Data(base64Encoded: a.entry).map(Array.init) else { throw .malformed("entry is not base64") }
        var proof = [LogHash]()
        for p in a.proof {
            guard let h = LogHash(base64: p) else { throw .malformed("proof hash '\(p.prefix(20))' is not base64") }
            proof.append(h)
        }
        do {
            try MerkleProof.verifyInclusion(index: a.index, size: cp.size, leaf: RFC9162.leafHash(entry), proof: proof, root: cp.root)
        } catch { throw .notInLog("entry \(a.index) in the tree of size \(cp.size): \(error)") }
        try Self.checkEntry(entry, model: a.model, version: a.version, author: aggregator)
        guard a.round == a.version + 1 else { throw .malformed("fit round \(a.round) does not train model version \(a.version)") }
        let parameters = try await fetch(a.model, weightsChunks: a.weightsChunks, ctx: ctx)
        accepted.withLockedValue { m in
            m[a.round] = (a.model, parameters)
            for r in m.keys where r < a.round - 2 { m[r] = nil }
        }
        ctx.logger.info("accepted model \(a.model) for round \(a.round) (log entry \(a.index), checkpoint size \(cp.size), \(note.signatures.count - 1) cosignatures)")
    }

    /// The entry must be a ledger record by `author` naming `model` as version `version`.
    static func checkEntry(_ entry: [UInt8], model: String, version: Int, author: PeerID) throws(ModelRefusal) {
        let record: LedgerRecord
        do {
            let parts = try LedgerEntry.split(entry)
            record = try LedgerRecord(bytes: parts.record, signature: parts.signature)
        } catch { throw .entryMismatch("not a ledger entry: \(error)") }
        guard record.author == author.description, record.hasValidSignature() else {
            throw .entryMismatch("the record is not signed by the aggregator \(author)")
        }
        if let v = record.decode(ModelVersion.self), record.kind == .modelVersion {
            guard v.model == model, v.round == version else {
                throw .entryMismatch("it records model \(v.model) for round \(v.round), not \(model) for \(version)")
            }
        } else if let g = record.decode(Genesis.self), record.kind == .genesis {
            guard version == 0, g.initialModel == model else { throw .entryMismatch("the genesis names initial model \(g.initialModel ?? "none"), not \(model)") }
        } else {
            throw .entryMismatch("a \(record.schema) record names no model version")
        }
    }

    /// Fetches the model named `cid` from the aggregator (weights over one block by their chunk list
    /// `weightsChunks`); returns its parameters and keeps it in the block index.
    func fetch(_ cid: String, weightsChunks: String? = nil, ctx: NodeContext) async throws(ModelRefusal) -> [Float] {
        let model: CID
        do { model = try CID(cid) } catch { throw .malformed("'\(cid.prefix(80))' is not a CID") }
        guard model.codec == CID.jsonCodec else { throw .malformed("a model CID names a json manifest") }
        do {
            if let held = try ctx.store.model(cid) {
                return try Network(config: held.manifest.config, safetensors: held.weights).parameters
            }
        } catch {}
        let (manifest, weights) = try await Self.fetchModel(model, weightsChunks: weightsChunks, from: aggregator, ctx: ctx, timeout: fetchTimeout)
        do { return try Network(config: manifest.config, safetensors: weights).parameters } catch {
            throw .fetchFailed("\(cid): \(error)")
        }
    }

    /// Fetches model `model` (a json-codec manifest CID) from `peer` over `/murmur/blocks/1` — the
    /// manifest under its raw twin (`NodeBlockStore`), then the weights, as one raw block or by their
    /// chunk list `weightsChunks` — checks both against their hashes and keeps them in the block index.
    /// Why: the model gate and the verifier role (`SpotChecker`) fetch models the same way.
    static func fetchModel(_ model: CID, weightsChunks: String?, from peer: PeerID, ctx: NodeContext,
                           timeout: Duration) async throws(ModelRefusal) -> (manifest: ModelManifest, weights: [UInt8]) {
        var config = BlockExchange.Configuration()
        config.requestTimeout = timeout
        let exchange = BlockExchange(host: ctx.host, store: MemoryBlockStore(), routing: FixedProviderRouting([peer]), configuration: config)
        do {
            let manifestBytes = try await exchange.fetch(CID(codec: CID.rawCodec, multihash: model.multihash))
            guard CID.json(manifestBytes) == model else { throw ModelRefusal.fetchFailed("the manifest's bytes do not hash to \(model)") }
            let manifest = try JSONDecoder().decode(ModelManifest.self, from: Data(manifestBytes))
            guard manifest.weights.codec == CID.rawCodec else { throw ModelRefusal.fetchFailed("the manifest's weights are not a raw block") }
            let weights: [UInt8]
            if let weightsChunks {
                let root: CID
                do { root = try CID(weightsChunks) } catch { throw ModelRefusal.malformed("weights_chunks '\(weightsChunks.prefix(80))' is not a CID") }
                guard root.codec == CID.jsonCodec else { throw ModelRefusal.malformed("weights_chunks names a chunk list (a json CID)") }
                weights = try await exchange.fetch(root)
            } else {
                weights = try await exchange.fetch(manifest.weights)
            }
            guard CID.raw(weights) == manifest.weights else { throw ModelRefusal.fetchFailed("the weights do not hash to \(manifest.weights)") }
            try ctx.store.putBlock(weights, cid: manifest.weights, kind: "weights")
            try ctx.store.putBlock(manifestBytes, cid: model, kind: "manifest")
            return (manifest, weights)
        } catch let e as ModelRefusal { throw e } catch {
            throw .fetchFailed("\(model): \(error)")
        }
    }

    /// The instruction to train: with no parameters (the model was announced by CID), the model
    /// accepted for its round; with parameters, only when they are bit for bit that model.
    /// Throws `notAccepted` otherwise.
    public func check(_ instruction: FitInstruction) throws(ModelRefusal) -> FitInstruction {
        guard let a = accepted.withLockedValue({ $0[instruction.round] }) else { throw .notAccepted(round: instruction.round) }
        if instruction.parameters.isEmpty {
            var filled = instruction
            filled.parameters = a.parameters
            return filled
        }
        guard a.parameters.count == instruction.parameters.count,
              zip(a.parameters, instruction.parameters).allSatisfy({ $0.bitPattern == $1.bitPattern })
        else { throw .notAccepted(round: instruction.round) }
        return instruction
    }

    /// `app` behind the gate: fit requests pass only for accepted models (evaluation is not gated).
    public func wrap(_ app: any ClientApp) -> any ClientApp { GatedClientApp(base: app, gate: self) }
}

/// A `ClientApp` that trains only models its `ModelGate` accepted.
struct GatedClientApp: ClientApp {
    let base: any ClientApp
    let gate: ModelGate

    func fit(_ instruction: FitInstruction) throws -> FitResult {
        try base.fit(try gate.check(instruction))
    }

    func evaluate(_ instruction: EvaluateInstruction) throws -> EvaluateResult { try base.evaluate(instruction) }
}
