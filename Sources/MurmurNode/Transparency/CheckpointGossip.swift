import Foundation
import MurmurCore
import MurmurLog
import MurmurP2P
import NIOConcurrencyHelpers

/// Checkpoint gossip: every node of a federation subscribes to `/murmur/checkpoints/1` (signed,
/// cosigned checkpoint notes of the federation log) and `/murmur/evidence/1` (split-view evidence,
/// `SplitViewEvidence` canonical JSON) over gossipsub v1.1.
/// Why: a log that shows different trees to different nodes is caught when the views meet
/// (c2sp.org/tlog-witness; "Gossip" in RFC 9162 §1; issue 11, items 2 and 6).
///
/// Validators drop (and score down the sender of) checkpoints that the watched log did not sign and
/// evidence that does not verify. A witness node compares each checkpoint with the others of the same
/// size it has seen and with the one it cosigned: the same size with another root is a split view; it
/// signs `EquivocationEvidence` with its witness key, stores it and gossips it. It also gossips the
/// evidence its tlog-witness endpoint recorded (an inconsistent consistency proof). Every node stores
/// valid evidence it receives (`GET /v1/evidence`); `ModelGate` then refuses models from that log.
public final class CheckpointGossip: Sendable {
    /// The checkpoint topic.
    public static let checkpointTopic = "/murmur/checkpoints/1"
    /// The evidence topic.
    public static let evidenceTopic = "/murmur/evidence/1"
    /// Checkpoints of one size remembered per log (older sizes are forgotten first).
    static let rememberedSizes = 1024

    /// The gossipsub service on the node's host.
    public let pubsub: Gossipsub
    let ctx: NodeContext
    /// Watched logs by origin.
    let logs: [String: VerifierKey]
    /// The witness's cosigning key and its folder (witness role), which sign evidence.
    let reporter: (cosigner: Cosigner, directory: WitnessDirectory)?
    let seen = NIOLockedValueBox<[String: [UInt64: Note]]>([:])

    /// Starts gossipsub on the node's host (its handlers were registered by `Transparency`) for `logs`.
    init(ctx: NodeContext, logs: [VerifierKey]) throws {
        self.ctx = ctx
        self.logs = Dictionary(logs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        if ctx.config.has(.witness) {
            let dir = WitnessDirectory(path: ctx.config.witnessPath)
            reporter = (try dir.cosigner(), dir)
        } else {
            reporter = nil
        }
        pubsub = try Gossipsub(host: ctx.host)
        let watched = self.logs
        pubsub.addValidator(Self.checkpointTopic) { m in
            guard let note = try? Note(parsing: m.data), let cp = try? Checkpoint(text: note.text) else { return .reject }
            guard let key = watched[cp.origin] else { return .ignore }
            guard let v = try? key.verifier(), (try? note.verify([v])) != nil else { return .reject }
            return .accept
        }
        pubsub.addValidator(Self.evidenceTopic) { m in (try? SplitViewEvidence(json: m.data)) == nil ? .reject : .accept }
    }

    /// Gossips a checkpoint note (the aggregator after each cosigned model version).
    public func publishCheckpoint(_ note: String) {
        do { try pubsub.publish(Self.checkpointTopic, Array(note.utf8)) } catch { ctx.logger.warning("cannot gossip the checkpoint: \(error)") }
    }

    /// Stores evidence and, if new, gossips it.
    public func report(_ e: SplitViewEvidence) {
        do {
            guard try ctx.store.putEvidence(e) else { return }
            ctx.logger.error("split view of log \(e.origin): evidence \(e.cid) stored and gossiped")
            try pubsub.publish(Self.evidenceTopic, e.json)
        } catch { ctx.logger.warning("cannot record evidence \(e.cid): \(error)") }
    }

    /// Processes both topics until cancelled; a witness also forwards its tlog-witness evidence.
    public func run() async {
        let checkpoints = pubsub.subscribe(Self.checkpointTopic)
        let evidence = pubsub.subscribe(Self.evidenceTopic)
        await withTaskGroup(of: Void.self) { g in
            g.addTask {
                for await m in checkpoints {
                    guard let note = try? Note(parsing: m.data) else { continue }
                    self.observe(note)
                }
            }
            g.addTask {
                for await m in evidence {
                    guard m.from != self.ctx.host.peerID, let e = try? SplitViewEvidence(json: m.data) else { continue }
                    do {
                        if try self.ctx.store.putEvidence(e) {
                            self.ctx.logger.error("split view of log \(e.origin): evidence \(e.cid) received from \(m.from)")
                        }
                    } catch { self.ctx.logger.warning("cannot store evidence \(e.cid): \(error)") }
                }
            }
            if let witness = ctx.witness {
                g.addTask {
                    while !Task.isCancelled {
                        for e in await witness.evidence() {
                            if let s = try? SplitViewEvidence(e) { self.report(s) }
                        }
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                }
            }
            await g.next()
            g.cancelAll()
        }
        pubsub.close()
    }

    /// Remembers a log-signed checkpoint; a witness reports one that conflicts with another of the same size.
    func observe(_ note: Note) {
        guard let cp = try? Checkpoint(text: note.text), let key = logs[cp.origin],
              let v = try? key.verifier(), (try? note.verify([v])) != nil else { return }
        let conflicting: Note? = seen.withLockedValue { s in
            var sizes = s[cp.origin, default: [:]]
            defer { s[cp.origin] = sizes }
            if let other = sizes[cp.size] {
                return (try? Checkpoint(text: other.text))?.root == cp.root ? nil : other
            }
            sizes[cp.size] = note
            if sizes.count > Self.rememberedSizes, let smallest = sizes.keys.min() { sizes[smallest] = nil }
            return nil
        }
        guard let reporter else { return }
        var first = conflicting
        if first == nil, let mine = try? reporter.directory.load(logs: [key]).latestNote(origin: cp.origin),
           let mcp = try? Checkpoint(text: mine.text), mcp.size == cp.size, mcp.root != cp.root {
            first = mine
        }
        guard let first else { return }
        do {
            let e = try EquivocationEvidence.make(logKey: key, first: first, second: note, proof: [], reporter: reporter.cosigner)
            report(try SplitViewEvidence(e))
        } catch { ctx.logger.warning("conflicting checkpoints of \(cp.origin) at size \(cp.size), but no evidence: \(error)") }
    }
}
