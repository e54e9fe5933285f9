import ArgumentParser
import Foundation
import MurmurCore
import MurmurP2P

/// Connects a fresh gossipsub node to `--peer` for `murmur p2p pub|sub`.
struct P2PPubSubOptions: ParsableArguments {
    @Option(help: "A node in the pub/sub network, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW… (from `murmur p2p listen`).")
    var peer: String

    @Option(help: "Seconds between gossipsub heartbeats.")
    var heartbeat = 1.0

    @OptionGroup var keyOptions: P2PKeyOptions
    @OptionGroup var timeouts: P2PTimeoutOptions

    /// A host running gossipsub, connected to `--peer`.
    func start() async throws -> (P2PHost, Gossipsub, P2PConnection) {
        let addr: Multiaddr
        do { addr = try Multiaddr(peer) } catch { throw ValidationError("--peer: \(error)") }
        guard heartbeat > 0 else { throw ValidationError("--heartbeat must be positive") }
        var config = P2PHost.Configuration()
        try timeouts.apply(&config)
        Gossipsub.register(in: &config)
        let host = P2PHost(identity: try keyOptions.identity(), configuration: config)
        var parameters = GossipsubParameters()
        parameters.heartbeatInterval = heartbeat
        let pubsub = try Gossipsub(host: host, parameters: parameters)
        do {
            let conn = try await host.connect(addr)
            return (host, pubsub, conn)
        } catch let error as P2PError {
            throw P2PCommandFailure(description: "cannot connect to \(peer): \(error)")
        } catch {
            throw P2PCommandFailure(description: "cannot reach \(peer): \(error) (is a node listening there?)")
        }
    }
}

/// Waits up to `seconds` for `condition`, checking every 50 ms.
func waitUntil(seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return true
}

struct P2PPub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pub",
        abstract: "Publish one message on a gossipsub topic through a peer, then exit.",
        discussion: """
            Connects to --peer, waits (up to --wait seconds) until a peer subscribed to TOPIC is \
            known, publishes MESSAGE (signed with --key, or a fresh identity) and exits once it \
            is sent.

            Example: murmur p2p pub --peer /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW… news "hello"
            """)

    @OptionGroup var options: P2PPubSubOptions

    @Option(help: "Seconds to wait for a subscriber of the topic before publishing anyway.")
    var wait = 5.0

    @Argument(help: "The topic.")
    var topic: String

    @Argument(help: "The message (sent as its UTF-8 bytes).")
    var message: String

    func run() async throws {
        let (_, pubsub, conn) = try await options.start()
        let peer = conn.remotePeer.map(\.description) ?? "?"
        let ready = await waitUntil(seconds: wait) { !pubsub.topicPeers(topic).isEmpty }
        if !ready {
            FileHandle.standardError.write(Data("warning: no subscriber of \(topic) known after \(wait) s; publishing anyway\n".utf8))
        }
        let sent: PubsubMessage
        do { sent = try pubsub.publish(topic, Array(message.utf8)) } catch {
            throw P2PCommandFailure(description: "publish failed: \(error)")
        }
        let flushed = await pubsub.flush(timeout: .seconds(10))
        pubsub.close()
        await conn.close()
        guard flushed else { throw P2PCommandFailure(description: "the message was not sent to \(peer) within 10 s") }
        print("published seqno=\(sent.sequenceNumber.map(String.init) ?? "?") topic=\(topic) to=\(pubsub.topicPeers(topic).count) peer(s) via \(peer)")
    }
}

struct P2PSub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sub",
        abstract: "Subscribe to a gossipsub topic through a peer and print each message as a line.",
        discussion: """
            Prints the message data as UTF-8 when it is valid UTF-8 without newlines, else as \
            hex; with --json one object per line: {"data","from","hex","seqno","topic"}. Runs \
            until Ctrl-C or --count messages.

            Example: murmur p2p sub --peer /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW… news --count 1
            """)

    @OptionGroup var options: P2PPubSubOptions

    @Option(help: "Exit after this many messages (0: run until Ctrl-C).")
    var count = 0

    @Flag(help: "Print JSON lines with from, seqno, topic, data (UTF-8 or hex) and hex.")
    var json = false

    @Argument(help: "The topic.")
    var topic: String

    func run() async throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 or more") }
        let (_, pubsub, conn) = try await options.start()
        let messages = pubsub.subscribe(topic)
        let peer = conn.remotePeer.map(\.description) ?? "?"
        let json = json
        let count = count
        let topic = topic
        let reader = Task {
            var seen = 0
            for await m in messages {
                FileHandle.standardOutput.write(Data((Self.line(m, json: json) + "\n").utf8))
                seen += 1
                if count > 0, seen >= count { return }
            }
        }
        Task {
            if await waitUntil(seconds: 30, { !pubsub.meshPeers(topic).isEmpty }) {
                FileHandle.standardError.write(Data("joined the mesh of \(topic) via \(peer)\n".utf8))
            }
        }
        if count > 0 {
            await reader.value
        } else {
            await waitForInterrupt()
            reader.cancel()
        }
        pubsub.close()
        await conn.close()
    }

    /// One output line for `m`.
    static func line(_ m: PubsubMessage, json: Bool) -> String {
        let hex = m.data.map { String(format: "%02x", $0) }.joined()
        let text = String(validating: m.data, as: UTF8.self).flatMap { $0.contains(where: \.isNewline) ? nil : $0 }
        guard json else { return text ?? hex }
        let seqno: Any = m.sequenceNumber.map { NSNumber(value: $0) } ?? m.seqno.map { String(format: "%02x", $0) }.joined()
        let obj: [String: Any] = ["from": m.from.description, "seqno": seqno, "topic": m.topic, "data": text ?? hex, "hex": hex]
        guard let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]) else { return hex }
        return String(decoding: data, as: UTF8.self)
    }
}

/// `murmur p2p listen --topic T`: gossipsub on the listening host, logging messages of T.
struct P2PListenTopics {
    /// Starts gossipsub on `host` and prints every message of `topics` to standard output as
    /// `pubsub topic=T from=ID seqno=N data=TEXT` (TEXT as `sub` prints it).
    static func start(_ host: P2PHost, topics: [String], heartbeat: Double) throws -> Gossipsub {
        var parameters = GossipsubParameters()
        parameters.heartbeatInterval = heartbeat
        let pubsub = try Gossipsub(host: host, parameters: parameters)
        for topic in topics {
            let messages = pubsub.subscribe(topic)
            Task {
                for await m in messages {
                    let seqno = m.sequenceNumber.map(String.init) ?? "?"
                    let line = "pubsub topic=\(m.topic) from=\(m.from) seqno=\(seqno) data=\(P2PSub.line(m, json: false))\n"
                    FileHandle.standardOutput.write(Data(line.utf8))
                }
            }
        }
        return pubsub
    }
}
