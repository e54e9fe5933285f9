import Foundation
import Logging
import MurmurCore
import MurmurP2P
import MurmurSecAgg

/// What a networked SecAgg+ round produced.
public struct SecAggNetworkOutcome: Sendable {
    /// The unmasked sum over U3 and who is in it.
    public var result: SecAggResult
    /// Participants that left (lost connection, refused, timed out or sent invalid messages), with the stage.
    public var dropped: [Int: SecAggStage]
}

/// The aggregator side of `/murmur/secagg/1`: drives a `SecAggServer` with one stream per
/// participant, closing each stage when every live participant answered or the stage deadline
/// passed — the network version of `SecAggSimulation`'s loop.
///
/// A participant whose stream fails, who sends an invalid message, or who misses a deadline is a
/// dropout of that stage; the round completes as long as the server's threshold checks pass
/// (Bonawitz et al. CCS 2017 §4 dropout recovery; Bell et al. CCS 2020 graph).
public struct SecAggCoordinator: Sendable {
    /// The aggregator's host.
    public let host: P2PHost
    /// How long each stage waits for answers.
    public let stageDeadline: Duration
    let logger = Logger(label: "murmur.node.secagg")

    /// A coordinator dialing from `host`.
    public init(host: P2PHost, stageDeadline: Duration = .seconds(60)) {
        self.host = host
        self.stageDeadline = stageDeadline
    }

    enum Event: Sendable {
        case message(Int, SecAggMessage)
        case gone(Int, String)
        case deadline(Int)
    }

    /// Runs one round among `peers` (participant i is `peers[i]`, its key the peer's Ed25519 key).
    public func run(round: UInt64, parameters: SecAggParameters, peers: [PeerID], dimension: Int,
                    graphSeed: UInt64, minimumSurvivors: Int = 0) async throws -> SecAggNetworkOutcome {
        let keys = try peers.map { p -> PublicIdentity in
            guard let k = p.publicKey else { throw SecAggWireError.invalidSetup("peer \(p) has no inline Ed25519 key") }
            return k
        }
        var config = try SecAggRoundConfig(round: round, parameters: parameters, participants: keys, dimension: dimension, graphSeed: graphSeed)
        config.minimumSurvivors = minimumSurvivors
        let limit = SecAggWire.maxFrameLength(participants: peers.count, dimension: dimension)
        let (events, sink) = AsyncStream<Event>.makeStream()
        let streams = StreamTable()
        var tasks = [Task<Void, Never>]()
        let host = self.host
        for (i, peer) in peers.enumerated() {
            let setup = SecAggClientService.frame(SecAggWire.encode(SecAggSetup(config: config, graphSeed: graphSeed, index: i)))
            tasks.append(Task {
                do {
                    let stream = try await host.newStream(to: peer, [SecAggWire.protocolID])
                    streams.set(i, stream)
                    try await stream.write(setup)
                    var reader = FrameReader(stream, limit: limit)
                    while let frame = try await reader.next() {
                        let m = try SecAggMessage(decoding: frame)
                        guard m.client == i else { throw SecAggWireError.wrongSender(expected: i, got: m.client) }
                        sink.yield(.message(i, m))
                    }
                    sink.yield(.gone(i, "closed its stream"))
                } catch {
                    sink.yield(.gone(i, "\(error)"))
                }
            })
        }
        defer {
            for t in tasks { t.cancel() }
            sink.finish()
        }
        let deadline = stageDeadline
        func startTimer(_ stage: Int) {
            tasks.append(Task {
                guard (try? await Task.sleep(for: deadline)) != nil else { return }
                sink.yield(.deadline(stage))
            })
        }

        var server = SecAggServer(config: config)
        var stage = SecAggStage.advertiseKeys
        var expecting = Set(peers.indices)
        var gone = Set<Int>()
        var dropped = [Int: SecAggStage]()
        func drop(_ i: Int, _ why: String) async {
            gone.insert(i)
            expecting.remove(i)
            guard dropped[i] == nil else { return }
            dropped[i] = stage
            logger.info("secagg round \(round): participant \(i) dropped in \(stage): \(why)")
            await streams.take(i)?.reset()
        }
        startTimer(stage.rawValue)
        for await event in events {
            switch event {
            case let .message(i, m):
                guard expecting.contains(i) else {
                    await drop(i, "sent \(m.kind) outside its turn")
                    continue
                }
                do {
                    _ = try server.receive(m)
                    expecting.remove(i)
                } catch {
                    await drop(i, "\(error)")
                }
            case let .gone(i, why):
                // One that already answered this stage is a dropout of the next one.
                if expecting.contains(i) { await drop(i, why) } else { gone.insert(i) }
            case .deadline(let s):
                guard s == stage.rawValue else { continue }
                for i in expecting.sorted() { await drop(i, "missed the \(deadline) stage deadline") }
            }
            // Close stages while nobody alive is left to answer (normally once).
            while expecting.isEmpty {
                for action in try server.closeStage() {
                    switch action {
                    case .finished(let result):
                        for i in peers.indices { try? await streams.take(i)?.closeWrite() }
                        return SecAggNetworkOutcome(result: result, dropped: dropped)
                    case .send(let m):
                        let i = m.client
                        guard let next = SecAggStage(rawValue: stage.rawValue + 1) else { continue }
                        if gone.contains(i) {
                            if dropped[i] == nil { dropped[i] = next }
                            continue
                        }
                        guard let stream = streams.get(i) else { continue }
                        expecting.insert(i)
                        let frame = SecAggClientService.frame(m.encoded())
                        tasks.append(Task {
                            do { try await stream.write(frame) } catch { sink.yield(.gone(i, "write failed: \(error)")) }
                        })
                    }
                }
                guard let next = SecAggStage(rawValue: stage.rawValue + 1) else {
                    throw SecAggError.unexpectedMessage(kind: "closeStage", stage: "\(server.state)")
                }
                stage = next
                startTimer(stage.rawValue)
            }
        }
        throw SecAggError.unexpectedMessage(kind: "end of events", stage: "\(server.state)")
    }
}

/// The participants' streams by index.
final class StreamTable: @unchecked Sendable {
    // @unchecked: `streams` is only touched under `lock`.
    private let lock = NSLock()
    private var streams: [Int: P2PStream] = [:]

    func set(_ i: Int, _ s: P2PStream) { lock.withLock { streams[i] = s } }
    func get(_ i: Int) -> P2PStream? { lock.withLock { streams[i] } }
    /// Removes and returns the stream (so it is closed or reset once).
    func take(_ i: Int) -> P2PStream? { lock.withLock { streams.removeValue(forKey: i) } }
}
