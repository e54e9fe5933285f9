import Foundation
import MurmurCore
import MurmurLog
import MurmurP2P
import NIOConcurrencyHelpers

/// One node's part in model transparency: the stream protocols it serves (gossipsub, `/murmur/blocks/1`
/// from its block index, and for a client `/murmur/model/1`), the checkpoint gossip it runs, and the
/// client's `ModelGate` or the aggregator's `ModelPublisher`.
/// Why: `FederationEngine` (clients, aggregator) and `TransparencyEngine` (witness nodes) share it;
/// docs/node.md, "Checkpoints, witnesses and model distribution".
public final class Transparency: Sendable {
    /// Trusted log, witnesses and quorum (nil on a node that only watches, e.g. a witness).
    public let settings: TransparencySettings?
    /// The client's gate.
    public let gate: ModelGate?
    /// The aggregator's publisher.
    public let publisher: ModelPublisher?
    let store = NIOLockedValueBox<NodeStore?>(nil)
    let gossipBox = NIOLockedValueBox<CheckpointGossip?>(nil)

    /// Transparency with `settings`, for a client (`gate`), an aggregator (`publisher`) or neither.
    public init(settings: TransparencySettings?, gate: ModelGate? = nil, publisher: ModelPublisher? = nil) {
        self.settings = settings
        self.gate = gate
        self.publisher = publisher
    }

    /// Handlers to add to the host before it starts.
    public var protocolHandlers: [String: StreamHandler] {
        var config = P2PHost.Configuration()
        Gossipsub.register(in: &config)
        var handlers = [String: StreamHandler]()
        let gossip = gossipBox
        for (id, serve) in config.handlers where Gossipsub.protocolIDs.contains(id) {
            // A peer may open its pubsub stream before the engine started gossipsub (the node dials its
            // bootstrap peers while the engine starts): wait up to 5 s for it rather than reset the stream.
            handlers[id] = { stream in
                for _ in 0..<100 where gossip.withLockedValue({ $0 }) == nil { try await Task.sleep(for: .milliseconds(50)) }
                try await serve(stream)
            }
        }
        let box = store
        handlers[BlockProtocol.id] = { stream in
            guard let s = box.withLockedValue({ $0 }) else {
                await stream.reset()
                return
            }
            try await BlockProtocol.serve(stream, store: NodeBlockStore(s))
        }
        if let gate { handlers[ModelAnnouncement.protocolID] = gate.handler }
        return handlers
    }

    /// The running gossip, once started.
    public var gossip: CheckpointGossip? { gossipBox.withLockedValue { $0 } }

    /// Starts gossip on the node and attaches the gate and block store; idempotent.
    @discardableResult
    public func start(_ ctx: NodeContext) throws -> CheckpointGossip {
        if let g = gossip { return g }
        store.withLockedValue { $0 = ctx.store }
        gate?.attach(ctx)
        var logs = [VerifierKey]()
        if let k = settings?.logKey { logs.append(k) }
        for k in ctx.config.witnessLogs { if let key = try? VerifierKey(k) { logs.append(key) } }
        if let own = try? VerifierKey(ctx.ledger.verifierKey) { logs.append(own) }
        let g = try CheckpointGossip(ctx: ctx, logs: logs)
        gossipBox.withLockedValue { $0 = g }
        return g
    }

    /// Starts and runs the gossip until cancelled.
    public func run(_ ctx: NodeContext) async throws {
        let g = try start(ctx)
        await g.run()
    }
}

/// A round engine that only runs transparency: a witness node (or any node outside a federation
/// configured with `federation_log`/`witnesses`) joins checkpoint gossip, reports split views and
/// records evidence. Why: witness nodes of `murmur cluster` run no federation.
public struct TransparencyEngine: RoundEngine {
    /// The node's transparency part.
    public let transparency: Transparency

    /// An engine over `transparency`.
    public init(_ transparency: Transparency) { self.transparency = transparency }

    /// Gossipsub and `/murmur/blocks/1` (see `Transparency.protocolHandlers`).
    public var protocolHandlers: [String: StreamHandler] { transparency.protocolHandlers }

    /// Runs the gossip until the node stops.
    public func run(_ node: NodeContext) async throws {
        try await transparency.run(node)
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    /// The engine for a node with the witness role or transparency settings and no federation; nil otherwise.
    public static func from(_ config: NodeConfig) throws -> TransparencyEngine? {
        let settings = try TransparencySettings.from(config)
        guard settings != nil || config.has(.witness) else { return nil }
        return TransparencyEngine(Transparency(settings: settings))
    }
}
