import Foundation
import MurmurCore
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import MurmurP2P

/// Gossipsub over real sockets: 30 `P2PHost`s on 127.0.0.1 in one process, sparse random links.
@Suite(.serialized) struct GossipsubNetworkTests {
    /// One node of the test network.
    struct Node {
        let host: P2PHost
        let pubsub: Gossipsub
        let listener: any Channel
    }

    static func start(_ n: Int, heartbeat: Double, seed: UInt64) async throws -> [Node] {
        var rng = SeededRNG(seed: seed)
        var parameters = GossipsubParameters()
        parameters.heartbeatInterval = heartbeat
        var nodes: [Node] = []
        for _ in 0..<n {
            var config = P2PHost.Configuration()
            Gossipsub.register(in: &config)
            let host = P2PHost(identity: Identity(deterministic: &rng), configuration: config)
            let listener = try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
            nodes.append(Node(host: host, pubsub: try Gossipsub(host: host, parameters: parameters), listener: listener))
        }
        return nodes
    }

    static func stop(_ nodes: [Node]) async {
        for n in nodes {
            n.pubsub.close()
            for p in n.host.connectedPeers {
                for c in n.host.connections(to: p) { await c.close() }
            }
            try? await n.listener.close()
        }
    }

    /// Node i dials node i−1 (a connected chain) and two random earlier nodes: about 3 links
    /// per node, degree 2–12, far from a full mesh.
    static func connect(_ nodes: [Node], seed: UInt64) async throws {
        var rng = SeededRNG(seed: seed)
        for i in 1..<nodes.count {
            var targets: Set<Int> = [i - 1]
            for _ in 0..<2 { targets.insert(Int(rng.next() % UInt64(i))) }
            for t in targets.sorted() {
                let addr = try #require(nodes[t].host.addresses.first)
                _ = try await nodes[i].host.connect(addr)
            }
        }
    }

    /// Waits until `condition` holds, checking every 100 ms, or throws after `seconds`.
    static func waitFor(_ what: String, seconds: Double, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while !condition() {
            guard ContinuousClock.now < deadline else { throw P2PError.timeout("\(what) after \(seconds) s") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test(.timeLimit(.minutes(3))) func thirtyNodesEveryNodeGetsEveryMessage() async throws {
        let nodes = try await Self.start(30, heartbeat: 0.5, seed: 30)
        do {
            try await Self.connect(nodes, seed: 31)
            let topic = "murmur/test"
            let streams = nodes.map { $0.pubsub.subscribe(topic) }
            // Every node has a pubsub stream to each of its connected peers and a mesh.
            try await Self.waitFor("meshes form", seconds: 30) {
                nodes.allSatisfy { !$0.pubsub.meshPeers(topic).isEmpty }
            }
            let received = ReceivedLog()
            let readers = streams.enumerated().map { i, s in
                Task {
                    for await m in s { received.add(node: i, data: m.data, from: m.from) }
                }
            }
            defer { for r in readers { r.cancel() } }
            let clock = ContinuousClock()
            let start = clock.now
            // Two publishers at opposite ends of the chain.
            try nodes[0].pubsub.publish(topic, Array("from node 0".utf8))
            try nodes[29].pubsub.publish(topic, Array("from node 29".utf8))
            try await Self.waitFor("all 30 nodes receive both messages", seconds: 60) {
                received.count(Array("from node 0".utf8)) == 30 && received.count(Array("from node 29".utf8)) == 30
            }
            let elapsed = (received.lastArrival ?? clock.now) - start
            print("gossipsub 30 nodes: the last of 60 deliveries came \(elapsed) after publishing")
            #expect(received.authors(Array("from node 0".utf8)) == [nodes[0].host.peerID])
            // Each node got each message once (the seen cache drops duplicates).
            #expect(received.total == 60)
            for n in nodes {
                let mesh = n.pubsub.meshPeers(topic).count
                #expect(mesh >= 1 && mesh <= 12, "mesh of \(mesh)")
                #expect(n.pubsub.stats.invalidSignatures == 0)
            }
            let dups = nodes.map { $0.pubsub.stats.duplicates }.reduce(0, +)
            print("gossipsub 30 nodes: \(dups) duplicate deliveries dropped, mesh sizes \(nodes.map { $0.pubsub.meshPeers(topic).count })")
        } catch {
            await Self.stop(nodes)
            throw error
        }
        await Self.stop(nodes)
    }

    /// A quiet topic keeps its connections although the hosts close idle connections after 1 s.
    @Test(.timeLimit(.minutes(3))) func quietMeshesSurviveTheIdleTimeout() async throws {
        var parameters = GossipsubParameters()
        parameters.heartbeatInterval = 0.1
        var nodes: [Node] = []
        var rng = SeededRNG(seed: 50)
        for _ in 0..<2 {
            var config = P2PHost.Configuration()
            config.idleTimeout = .seconds(1)
            Gossipsub.register(in: &config)
            let host = P2PHost(identity: Identity(deterministic: &rng), configuration: config)
            let listener = try await host.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
            nodes.append(Node(host: host, pubsub: try Gossipsub(host: host, parameters: parameters), listener: listener))
        }
        do {
            _ = try await nodes[1].host.connect(try #require(nodes[0].host.addresses.first))
            let streams = nodes.map { $0.pubsub.subscribe("quiet") }
            try await Self.waitFor("mesh", seconds: 20) { nodes.allSatisfy { $0.pubsub.meshPeers("quiet").count == 1 } }
            try await Task.sleep(for: .seconds(3))  // three idle timeouts without a message
            #expect(nodes[0].host.connectedPeers == [nodes[1].host.peerID])
            try nodes[1].pubsub.publish("quiet", [1])
            let got = try await withDeadline(seconds: 10, "delivery after the quiet period") {
                for await m in streams[0] { return m.data }
                return []
            }
            #expect(got == [1])
        } catch {
            await Self.stop(nodes)
            throw error
        }
        await Self.stop(nodes)
    }

    @Test(.timeLimit(.minutes(3))) func validatorRejectionStopsPropagationAndCostsScore() async throws {
        let nodes = try await Self.start(3, heartbeat: 0.2, seed: 40)
        do {
            // a — b — c: b rejects "bad", so c never sees it and b penalises a.
            _ = try await nodes[1].host.connect(try #require(nodes[0].host.addresses.first))
            _ = try await nodes[2].host.connect(try #require(nodes[1].host.addresses.first))
            nodes[1].pubsub.addValidator("t") { m in m.data == Array("bad".utf8) ? .reject : .accept }
            let streams = nodes.map { $0.pubsub.subscribe("t") }
            try await Self.waitFor("meshes form", seconds: 20) {
                nodes[1].pubsub.meshPeers("t").count == 2 && !nodes[0].pubsub.meshPeers("t").isEmpty
            }
            let received = ReceivedLog()
            let readers = streams.enumerated().map { i, s in Task { for await m in s { received.add(node: i, data: m.data, from: m.from) } } }
            defer { for r in readers { r.cancel() } }
            try nodes[0].pubsub.publish("t", Array("bad".utf8))
            try nodes[0].pubsub.publish("t", Array("good".utf8))
            try await Self.waitFor("c receives the good message", seconds: 20) { received.nodes(Array("good".utf8)) == [0, 1, 2] }
            #expect(received.nodes(Array("bad".utf8)) == [0])
            #expect(nodes[1].pubsub.stats.rejected == 1)
            #expect(nodes[1].pubsub.peerScore(nodes[0].host.peerID) < 0)
        } catch {
            await Self.stop(nodes)
            throw error
        }
        await Self.stop(nodes)
    }
}

/// Messages received per node (filled from reader tasks).
final class ReceivedLog: Sendable {
    private let box = NIOLockedValueBox<[(node: Int, data: [UInt8], from: PeerID)]>([])
    private let last = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
    func add(node: Int, data: [UInt8], from: PeerID) {
        box.withLockedValue { $0.append((node, data, from)) }
        last.withLockedValue { $0 = ContinuousClock.now }
    }
    var lastArrival: ContinuousClock.Instant? { last.withLockedValue { $0 } }
    func count(_ data: [UInt8]) -> Int { Set(box.withLockedValue { $0.filter { $0.data == data }.map(\.node) }).count }
    func nodes(_ data: [UInt8]) -> [Int] { Set(box.withLockedValue { $0.filter { $0.data == data }.map(\.node) }).sorted() }
    func authors(_ data: [UInt8]) -> Set<PeerID> { Set(box.withLockedValue { $0.filter { $0.data == data }.map(\.from) }) }
    var total: Int { box.withLockedValue { $0.count } }
}
