import Foundation
import MurmurCore
import MurmurLedger
import MurmurML
import MurmurP2P
import MurmurVerify

/// The verifier role: every `interval` it pulls the receipts its connected peers issued since the
/// last pull (`/murmur/receipts/1`), re-executes a seeded random fraction of them (MurmurVerify
/// `SpotCheck.choose`, `ReceiptVerifier`), and per device and batch appends a `reputation` record
/// to the node's ledger, keeps a tally for `GET /v1/spot-checks`, and scores a device that lied down
/// in `PeerScores`. Why: issue 10 item 4 and issue 11 item 1 — a device lying in a share s of its
/// receipts is caught with probability 1 − (1 − f)^(s·n) (`SpotCheck.detectionProbability`).
///
/// A receipt's model is loaded from the block index or fetched by CID from the device over
/// `/murmur/blocks/1`; when neither works the receipt counts as "model unavailable", not as a failure.
public actor SpotChecker {
    /// How the verifier works.
    public struct Settings: Sendable {
        /// Time between check batches.
        public var interval: Duration
        /// The probability that a pulled receipt is re-executed.
        public var fraction: Double
        /// Seeds the choice of receipts (a device must not predict which are checked).
        public var seed: UInt64
        /// Receipts pulled per peer and batch at most (the rest wait for the next batch).
        public var maxPerBatch = 256
        /// Deadline of one `/murmur/receipts/1` request and of one block request.
        public var requestDeadline: Duration = .seconds(10)

        /// Settings with a random seed.
        public init(interval: Duration, fraction: Double, seed: UInt64 = UInt64.random(in: .min ... .max)) {
            self.interval = interval; self.fraction = fraction; self.seed = seed
        }

        /// The node configuration's `spot_check_interval` and `spot_check_percent`.
        public static func from(_ config: NodeConfig) -> Settings {
            Settings(interval: .seconds(config.spotCheckInterval), fraction: Double(config.spotCheckPercent) / 100)
        }
    }

    /// The reputation penalty per failed receipt, in `PeerScores` points (a malformed message costs 40).
    public static let penaltyPerFailure = 20.0

    let ctx: NodeContext
    /// The settings.
    public let settings: Settings
    var rng: SeededRNG
    /// Loaded models by CID (a handful, like the API's model cache).
    var networks = LoadedNetworks()
    /// Whether a batch is under way (the actor is reentrant at its awaits; batches must not overlap).
    var checking = false

    /// A verifier for the node `context`.
    public init(context: NodeContext, settings: Settings) {
        ctx = context
        self.settings = settings
        rng = SeededRNG(seed: settings.seed)
    }

    /// Checks a batch every `interval` until cancelled.
    public func run() async {
        while !Task.isCancelled {
            guard (try? await Task.sleep(for: settings.interval)) != nil else { return }
            await checkOnce()
        }
    }

    /// Pulls, checks and records one batch from every connected peer; returns the reputation records
    /// of the batch (one per device with at least one receipt checked), or none while another batch runs.
    @discardableResult
    public func checkOnce() async -> [ReputationRecord] {
        guard !checking else { return [] }
        checking = true
        defer { checking = false }
        let me = ctx.identity.peerID
        let tallies = Dictionary(((try? ctx.store.spotChecks()) ?? []).map { ($0.device, $0) }, uniquingKeysWith: { a, _ in a })
        var records = [ReputationRecord]()
        for peer in ctx.host.connectedPeers.filter({ $0 != me }).sorted(by: { $0.description < $1.description }) {
            if Task.isCancelled { break }
            var tally = tallies[peer.description] ?? SpotCheckTally(device: peer.description)
            // Nothing new (or no answer): nothing to check or store.
            guard let (entries, cursor) = await pull(peer, after: tally.cursor), !entries.isEmpty || cursor != tally.cursor else { continue }
            tally.cursor = cursor
            let batch = await check(entries, from: peer)
            if batch.checked + batch.unavailable > 0 { tally.lastCheck = Int64(Date().timeIntervalSince1970) }
            tally.modelUnavailable += batch.unavailable
            if batch.checked > 0 {
                let record = ReputationRecord(device: peer.description, checked: batch.checked, failed: batch.failed, reasons: batch.reasons.sorted())
                tally.checked += record.checked
                tally.failed += record.failed
                tally.reasons = Set(tally.reasons).union(record.reasons).sorted()
                tally.reputation += record.delta
                records.append(record)
                if record.failed > 0 {
                    ctx.logger.warning("spot check: \(peer) failed \(record.failed) of \(record.checked) receipts (\(record.reasons.joined(separator: ", ")))")
                    ctx.peerGuard.report(.protocolPenalty(protocol: ReceiptsProtocol.id, weight: Self.penaltyPerFailure * Double(record.failed)), by: peer)
                }
            }
            do { try ctx.store.saveSpotCheck(tally) } catch { ctx.logger.warning("spot check: \(error)") }
        }
        await appendToLedger(records)
        return records
    }

    /// The receipts `peer` issued after `cursor` (up to `maxPerBatch`) and the new cursor; nil when the
    /// peer does not answer (it may not serve the protocol) or answers garbage (scored).
    func pull(_ peer: PeerID, after cursor: Int64) async -> ([ReceiptsProtocol.Entry], Int64)? {
        var entries = [ReceiptsProtocol.Entry]()
        var since = cursor
        var restarted = false
        while entries.count < settings.maxPerBatch {
            let answer: ReceiptsProtocol.Response
            do {
                answer = try await ReceiptsProtocol.fetch(from: peer, host: ctx.host, since: since, limit: ReceiptsProtocol.maxLimit,
                                                          deadline: settings.requestDeadline)
            } catch {
                if case .malformedAnswer = error {
                    ctx.peerGuard.report(.malformedMessage(protocol: ReceiptsProtocol.id), by: peer)
                }
                ctx.logger.debug("spot check: no receipts from \(peer): \(error)")
                return entries.isEmpty ? nil : (entries, since)
            }
            // A peer whose journal is behind the cursor started afresh (a new data directory): start over once.
            if answer.receipts.isEmpty, answer.latest < since, !restarted {
                restarted = true
                since = 0
                continue
            }
            entries += answer.receipts
            since = answer.receipts.last?.seq ?? since
            if answer.receipts.count < ReceiptsProtocol.maxLimit { break }
        }
        return (entries, since)
    }

    /// What one batch of one device came to.
    struct Batch {
        var checked = 0, failed = 0, unavailable = 0
        var reasons = Set<String>()
    }

    /// Re-executes the chosen share of `entries`, all served by `peer`.
    func check(_ entries: [ReceiptsProtocol.Entry], from peer: PeerID) async -> Batch {
        var batch = Batch()
        let chosen = SpotCheck.choose(count: entries.count, fraction: settings.fraction, rng: &rng)
        var verifier = ReceiptVerifier(models: [:])
        var missing = Set<String>()
        func fail(_ code: String) {
            batch.checked += 1
            batch.failed += 1
            batch.reasons.insert(code)
        }
        for (entry, pick) in zip(entries, chosen) where pick {
            // What the peer serves must be its own, well-formed receipts.
            guard let input = entry.inputValues else { fail("malformed_input"); continue }
            let receipt: Receipt
            do { receipt = try Receipt(jsonLine: entry.receipt) } catch { fail(error.code); continue }
            guard receipt.device == peer.description else { fail("foreign_device"); continue }
            if verifier.models[receipt.model] == nil, !missing.contains(receipt.model) {
                if let n = await network(receipt.model, from: peer) { verifier.models[receipt.model] = n } else { missing.insert(receipt.model) }
            }
            guard verifier.models[receipt.model] != nil else { batch.unavailable += 1; continue }
            do {
                try verifier.verify(receipt, input: input)
                batch.checked += 1
            } catch {
                fail(error.code)
            }
        }
        return batch
    }

    /// Model `cid` from the block index, or fetched from `peer` over `/murmur/blocks/1` (and kept in
    /// the block index); nil when neither works.
    func network(_ cid: String, from peer: PeerID) async -> Network? {
        if let n = networks[cid] { return n }
        var loaded: Network?
        do {
            if let m = try ctx.store.model(cid) {
                loaded = try Network(config: m.manifest.config, safetensors: m.weights)
            } else if let (manifest, weights) = await fetchModel(cid, from: peer) {
                loaded = try Network(config: manifest.config, safetensors: weights)
            }
        } catch {
            ctx.logger.warning("spot check: model \(cid) does not load: \(error)")
        }
        guard let loaded else { return nil }
        networks.insert(loaded, for: cid)
        return loaded
    }

    /// Fetches model `cid` from `peer` (`ModelGate.fetchModel`: hashes checked, kept in the block index).
    func fetchModel(_ cid: String, from peer: PeerID) async -> (ModelManifest, [UInt8])? {
        guard let model = try? CID(cid), model.codec == CID.jsonCodec else { return nil }
        do {
            return try await ModelGate.fetchModel(model, weightsChunks: nil, from: peer, ctx: ctx, timeout: settings.requestDeadline)
        } catch {
            ctx.logger.info("spot check: model \(cid) unavailable from \(peer): \(error)")
            return nil
        }
    }

    /// Appends one `reputation` record per device. A node whose ledger is empty starts it with a genesis
    /// naming itself member, coordinator and verifier, unless it is an aggregator (whose ledger the
    /// federation's genesis starts; it may write reputation records as coordinator). A ledger where
    /// this node is neither verifier nor coordinator is left alone (the tallies still count).
    func appendToLedger(_ records: [ReputationRecord]) async {
        guard !records.isEmpty else { return }
        let me = ctx.identity.peerID.description
        do {
            let state = await ctx.ledger.state
            if !state.started {
                guard !ctx.config.has(.aggregator) else {
                    ctx.logger.info("spot check: the ledger has no genesis yet; \(records.count) reputation record(s) not logged")
                    return
                }
                let genesis = Genesis(federation: ctx.ledger.origin, members: [me], coordinators: [me], verifiers: [me])
                if let rejection = try await ctx.ledger.append([LedgerRecord.sign(genesis, by: ctx.identity)]).first?.rejection {
                    ctx.logger.warning("spot check: the verifier's ledger genesis was rejected: \(rejection)")
                    return
                }
            } else if !state.verifiers.contains(me), !state.coordinators.contains(me) {
                ctx.logger.info("spot check: this node is no verifier of ledger '\(state.federation)'; \(records.count) reputation record(s) not logged")
                return
            }
            let signed = try records.map {
                try LedgerRecord.sign(Reputation(device: $0.device, checked: $0.checked, failed: $0.failed, reasons: $0.reasons), by: ctx.identity)
            }
            for bad in try await ctx.ledger.append(signed) where !bad.accepted {
                ctx.logger.warning("spot check: a reputation record was rejected: \(bad.rejection.map { "\($0)" } ?? "")")
            }
        } catch {
            ctx.logger.error("spot check: reputation records not logged: \(error)")
        }
    }
}
