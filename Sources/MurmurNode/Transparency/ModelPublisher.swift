import Foundation
import MurmurCore
import MurmurFL
import MurmurLedger
import MurmurLog
import MurmurML
import MurmurP2P

/// The aggregator side of model transparency: for each model version it stores the model as blocks,
/// makes sure a log entry records it, gets the checkpoint cosigned by a quorum of witnesses, gossips
/// the checkpoint and answers with the announcement clients verify.
/// Why: issue 11, item 2 — model distribution by CID and a public, witnessed record of every version.
///
/// The entry is a `ModelVersion` ledger record (docs/ledger.md) signed by the aggregator — round v,
/// parent, model CID, strategy — or an existing record naming the same CID (a genesis `initial_model`
/// or a model-version record another part of the node wrote), so no version is logged twice.
public actor ModelPublisher {
    /// What the witnesses and quorum are.
    public let settings: TransparencySettings
    let model: ModelConfig
    let strategy: String
    let metadata: @Sendable (Int) -> [String: String]
    var published: [Int: ModelAnnouncement] = [:]
    var pending: [Int: Task<ModelAnnouncement, any Error>] = [:]
    var cids: [Int: String] = [:]

    /// A publisher for models of `model`, named with `metadata(version)` (the simulation's model metadata).
    public init(settings: TransparencySettings, model: ModelConfig, strategy: String, metadata: @escaping @Sendable (Int) -> [String: String]) {
        self.settings = settings
        self.model = model
        self.strategy = strategy
        self.metadata = metadata
    }

    /// Publishes model version `version` (parameters `parameters`) once; concurrent callers share the work.
    public func publish(version: Int, parameters: [Float], node: NodeContext, gossip: CheckpointGossip?) async throws -> ModelAnnouncement {
        if let done = published[version] { return done }
        if let running = pending[version] { return try await running.value }
        var parent = cids[version - 1]
        if parent == nil, version > 0 { parent = try await node.ledger.modelVersionCID(round: version - 1) }
        let task = Task { try await Self.make(version: version, parameters: parameters, parent: parent, model: model, strategy: strategy,
                                              metadata: metadata(version), settings: settings, node: node, gossip: gossip) }
        pending[version] = task
        defer { pending[version] = nil }
        let a = try await task.value
        published[version] = a
        cids[version] = a.model
        for v in published.keys where v < version - 2 { published[v] = nil }
        return a
    }

    static func make(version: Int, parameters: [Float], parent: String?, model: ModelConfig, strategy: String, metadata: [String: String],
                     settings: TransparencySettings, node: NodeContext, gossip: CheckpointGossip?) async throws -> ModelAnnouncement {
        let artifact = ModelArtifact(network: try Network(config: model, parameters: parameters), metadata: metadata)
        let cid = try node.store.putModel(artifact).description
        let chunks = try node.store.putWeightChunks(artifact)?.description
        var index = try await node.ledger.modelEntryIndex(cid)
        if index == nil {
            let body = ModelVersion(round: version, parent: parent, model: cid, strategy: strategy, epsilonMicros: 0, participants: [])
            let record: LedgerRecord
            do { record = try LedgerRecord.sign(body, by: node.identity) } catch { throw TransparencyError.storage("signing the model-version record: \(error)") }
            let outcome = try await node.ledger.append([record])
            index = outcome.first?.index
        }
        guard let index else { throw TransparencyError.storage("the model-version entry for \(cid) was not appended") }
        var cosigned = 0
        var failures = [String]()
        for w in settings.witnesses {
            guard let url = w.url else { continue }
            do {
                _ = try await node.ledger.cosign(witness: url, key: w.key)
                cosigned += 1
            } catch {
                failures.append("\(w.key.name): \(error)")
                node.logger.warning("witness \(url) did not cosign: \(error)")
            }
        }
        guard cosigned >= settings.quorum else { throw TransparencyError.quorumNotReached(cosigned: cosigned, quorum: settings.quorum, failures: failures) }
        let (entry, proof, note) = try await node.ledger.inclusion(index: index)
        gossip?.publishCheckpoint(note)
        node.logger.info("model version \(version) \(cid) at log index \(index), checkpoint cosigned by \(cosigned) witness(es)")
        return ModelAnnouncement(round: version + 1, version: version, model: cid, index: index, entry: entry, proof: proof, checkpoint: note,
                                 weightsChunks: chunks)
    }

    /// `transport` with every fit request preceded by the model's announcement to that client
    /// (`/murmur/model/1`); a client that refuses the model is a dropout of the round.
    /// `beforePublish` runs before each publication (the ledger recorder catches up, so its
    /// model-version record is the one reused).
    public nonisolated func wrap(_ transport: any Transport, peers: [ClientID: PeerID], node: NodeContext, gossip: CheckpointGossip?,
                                 deadline: Duration = .seconds(60),
                                 beforePublish: (@Sendable () async -> Void)? = nil) -> any Transport {
        AnnouncingTransport(base: transport, publisher: self, peers: peers, node: node, gossip: gossip, deadline: deadline,
                            beforePublish: beforePublish)
    }
}

/// A `Transport` that announces the round's model (logged, cosigned) to a client before its fit request.
struct AnnouncingTransport: Transport {
    let base: any Transport
    let publisher: ModelPublisher
    let peers: [ClientID: PeerID]
    let node: NodeContext
    let gossip: CheckpointGossip?
    let deadline: Duration
    let beforePublish: (@Sendable () async -> Void)?

    func onlineClients() async -> [ClientID] { await base.onlineClients() }

    func fit(_ instruction: FitInstruction, client: ClientID) async throws -> FitResult {
        await beforePublish?()
        let a = try await publisher.publish(version: instruction.round - 1, parameters: instruction.parameters, node: node, gossip: gossip)
        guard let peer = peers[client] else { throw FLError.clientDropped(client) }
        let answer: ModelAnswer
        do { answer = try await ModelAnnouncementIO.announce(a.forRound(instruction.round), to: peer, host: node.host, deadline: deadline) } catch {
            node.logger.warning("client \(client): model announcement failed: \(error)")
            throw FLError.clientDropped(client)
        }
        guard answer.accepted else {
            node.logger.warning("client \(client) refused model \(a.model): \(answer.reason ?? "no reason")")
            throw FLError.clientDropped(client)
        }
        // The client accepted the model by CID and holds its verified copy: the fit request
        // carries no parameters (an empty field 6), so the model crosses the network once.
        var lean = instruction
        lean.parameters = []
        return try await base.fit(lean, client: client)
    }

    func evaluate(_ instruction: EvaluateInstruction, client: ClientID) async throws -> EvaluateResult {
        try await base.evaluate(instruction, client: client)
    }
}

extension NodeLedger {
    /// The index of the last entry that records model `cid` (a model-version record, or a genesis naming it the initial model).
    func modelEntryIndex(_ cid: String) throws(NodeError) -> UInt64? {
        do {
            var i = log.size
            while i > 0 {
                i -= 1
                let parts = try LedgerEntry.split(try log.entry(at: i))
                guard let record = try? LedgerRecord(bytes: parts.record, signature: parts.signature) else { continue }
                if record.kind == .modelVersion, record.decode(ModelVersion.self)?.model == cid { return i }
                if record.kind == .genesis, record.decode(Genesis.self)?.initialModel == cid { return i }
            }
            return nil
        } catch { throw .storage("scanning the node log: \(error)") }
    }

    /// The model CID the last model-version record for `round` names (after a restart, the publisher's parent).
    func modelVersionCID(round: Int) throws(NodeError) -> String? {
        do {
            var i = log.size
            while i > 0 {
                i -= 1
                let parts = try LedgerEntry.split(try log.entry(at: i))
                guard let record = try? LedgerRecord(bytes: parts.record, signature: parts.signature), record.kind == .modelVersion,
                      let v = record.decode(ModelVersion.self), v.round == round else { continue }
                return v.model
            }
            return nil
        } catch { throw .storage("scanning the node log: \(error)") }
    }

    /// Entry `index`, its inclusion proof and the latest (cosigned) checkpoint note the proof is against.
    func inclusion(index: UInt64) throws(NodeError) -> (entry: [UInt8], proof: [LogHash], note: String) {
        do {
            guard let text = try log.latestCheckpoint() else { throw NodeError.storage("no checkpoint published yet") }
            let size = try Checkpoint(text: try Note(parsing: text).text).size
            return (try log.entry(at: index), try log.inclusionProof(index: index, size: size), text)
        } catch let e as NodeError { throw e } catch { throw .storage("proving entry \(index): \(error)") }
    }

    /// The latest checkpoint note (with any cosignatures), or nil before the first.
    func latestCheckpointNote() throws(NodeError) -> String? {
        do { return try log.latestCheckpoint() } catch { throw .storage("reading the checkpoint: \(error)") }
    }
}
