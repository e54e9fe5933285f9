import ArgumentParser
import Foundation
import MurmurCore
import MurmurP2P
import NIOCore

/// `murmur p2p`: a libp2p node over TCP (Noise + yamux) that interoperates with go/py/rust-libp2p.
struct P2P: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2p",
        abstract: "A libp2p node over TCP (Noise + yamux): identity, listen, ping, gossipsub pub/sub.",
        discussion: """
            Start with `murmur p2p id --key node.key` (creates the key), then
            `murmur p2p listen --key node.key` in one terminal and
            `murmur p2p ping /ip4/127.0.0.1/tcp/PORT/p2p/ID` in another.
            Any libp2p node speaking Noise and yamux can be pinged.

            Pub/sub (gossipsub v1.1): `murmur p2p listen --topic news`, then \
            `murmur p2p sub --peer ADDR news` and `murmur p2p pub --peer ADDR news hello`. \
            See docs/p2p.md.
            """,
        subcommands: [P2PID.self, P2PListen.self, P2PPing.self, P2PPub.self, P2PSub.self]
    )
}

/// Options shared by the p2p commands.
struct P2PKeyOptions: ParsableArguments {
    @Option(help: "Identity key file (libp2p Ed25519 PrivateKey protobuf); created with mode 0600 if missing. Without it, a fresh identity is used for this run only.")
    var key: String?

    /// The identity from --key (created if the file does not exist), or a fresh one.
    func identity() throws -> Identity {
        guard let key else { return Identity() }
        if let data = FileManager.default.contents(atPath: key) {
            do { return try Identity(libp2pPrivateKey: Array(data)) } catch {
                throw ValidationError("\(key) is not a libp2p Ed25519 private key (\(error)); move it away to create a new one")
            }
        }
        let identity = Identity()
        guard FileManager.default.createFile(atPath: key, contents: Data(identity.libp2pPrivateKey), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot create the key file \(key): check that its folder exists and is writable")
        }
        return identity
    }
}

struct P2PID: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id", abstract: "Print the peer id (base58btc, and the CIDv1 form with --json).")

    @OptionGroup var keyOptions: P2PKeyOptions

    @Flag(help: "Print {\"id\", \"cid\", \"publicKey\"} as JSON (publicKey: base64 libp2p PublicKey protobuf).")
    var json = false

    func run() throws {
        let identity = try keyOptions.identity()
        if json {
            let obj: [String: String] = [
                "id": identity.peerID.description, "cid": identity.peerID.cidString,
                "publicKey": Data(identity.publicKey.libp2pProtobuf).base64EncodedString(),
            ]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(identity.peerID)
        }
    }
}

/// Timeouts shared by listen and ping.
struct P2PTimeoutOptions: ParsableArguments {
    @Option(help: "Seconds a connection may take for multistream + Noise + yamux.")
    var handshakeTimeout = 10.0

    @Option(help: "Seconds without traffic after which a connection is closed.")
    var idleTimeout = 120.0

    func apply(_ c: inout P2PHost.Configuration) throws {
        guard handshakeTimeout > 0, idleTimeout > 0 else { throw ValidationError("timeouts must be positive") }
        c.handshakeTimeout = .nanoseconds(Int64(handshakeTimeout * 1e9))
        c.idleTimeout = .nanoseconds(Int64(idleTimeout * 1e9))
    }
}

struct P2PListen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Listen and serve /ipfs/ping/1.0.0, /ipfs/id/1.0.0, /murmur/echo/1.0.0 and gossipsub until Ctrl-C.",
        discussion: """
            Prints each full address (ending in /p2p/ID) on its own line, then logs connections \
            to standard error. Relays gossipsub (/meshsub/1.1.0) messages; with --topic T it \
            joins T and prints each message as a line `pubsub topic=T from=ID seqno=N data=TEXT`.
            """)

    @Option(help: "Address to listen on; port 0 picks a free one. Use /ip4/0.0.0.0/tcp/4001 to accept other machines.")
    var listen = "/ip4/127.0.0.1/tcp/0"

    @Option(help: "A gossipsub topic to join and log (repeatable).")
    var topic: [String] = []

    @Option(help: "Seconds between gossipsub heartbeats.")
    var heartbeat = 1.0

    @OptionGroup var keyOptions: P2PKeyOptions
    @OptionGroup var timeouts: P2PTimeoutOptions

    func run() async throws {
        guard heartbeat > 0 else { throw ValidationError("--heartbeat must be positive") }
        let address: Multiaddr
        do { address = try Multiaddr(listen) } catch { throw ValidationError("--listen: \(error)") }
        var config = P2PHost.Configuration()
        try timeouts.apply(&config)
        config.handlers[EchoProtocol.id] = EchoProtocol.serve
        config.eventLoopHandlers.insert(EchoProtocol.id)  // only moves bytes: no thread hand-offs
        Gossipsub.register(in: &config)
        config.onInboundConnection = { conn in
            let from = conn.remoteAddress.map { " from \($0)" } ?? ""
            FileHandle.standardError.write(Data("connection: \(conn.remotePeer.map(\.description) ?? "?")\(from)\n".utf8))
        }
        let host = P2PHost(identity: try keyOptions.identity(), configuration: config)
        let channel: any Channel
        do { channel = try await host.listen(address) } catch {
            throw P2PCommandFailure(description: "cannot listen on \(listen): \(error) (port in use, or not an address of this machine?)")
        }
        let pubsub = try P2PListenTopics.start(host, topics: topic, heartbeat: heartbeat)
        // Unbuffered, so a script reading our stdout through a pipe sees the addresses at once.
        FileHandle.standardOutput.write(Data(host.addresses.map { "\($0)\n" }.joined().utf8))
        await waitForInterrupt()
        pubsub.close()
        try? await channel.close()
    }
}

/// Suspends until SIGINT or SIGTERM.
func waitForInterrupt() async {
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    let box = SignalSources()
    await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
        box.start { cont.resume() }
    }
}

/// Holds the signal sources for the life of the wait; resumes once.
final class SignalSources: @unchecked Sendable {
    // Only touched on `queue` (where the sources fire) after start.
    private let queue = DispatchQueue(label: "murmur.p2p.signals")
    private var sources: [any DispatchSourceSignal] = []
    private var fired = false

    func start(_ done: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            s.setEventHandler { [self] in
                guard !fired else { return }
                fired = true
                done()
            }
            s.resume()
            sources.append(s)
        }
    }
}

struct P2PPing: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping", abstract: "Dial a libp2p peer and measure /ipfs/ping/1.0.0 round trips.")

    @Argument(help: "The peer's address, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW… (the /p2p part is checked).")
    var address: String

    @Option(help: "Number of pings.")
    var count = 3

    @OptionGroup var keyOptions: P2PKeyOptions
    @OptionGroup var timeouts: P2PTimeoutOptions

    func run() async throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        let addr: Multiaddr
        do { addr = try Multiaddr(address) } catch { throw ValidationError("\(error)") }
        var config = P2PHost.Configuration()
        try timeouts.apply(&config)
        let host = P2PHost(identity: try keyOptions.identity(), configuration: config)
        do {
            let conn = try await host.dial(addr)
            let peer = conn.remotePeer.map(\.description) ?? "?"
            print("connected to \(peer)")
            let rtts = try await PingProtocol.ping(conn, count: count)
            for (i, rtt) in rtts.enumerated() {
                print(String(format: "pong from %@: seq=%d time=%.3f ms", peer, i + 1, Self.milliseconds(rtt)))
            }
            let ms = rtts.map(Self.milliseconds)
            print(String(format: "%d pings, min/avg/max = %.3f/%.3f/%.3f ms", ms.count, ms.min() ?? 0, ms.reduce(0, +) / Double(ms.count), ms.max() ?? 0))
            await conn.close()
        } catch let error as P2PError {
            throw P2PCommandFailure(description: "ping \(address) failed: \(error)")
        } catch {
            throw P2PCommandFailure(description: "cannot reach \(address): \(error) (is a node listening there?)")
        }
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15
    }
}

/// A run-time failure of a p2p command (printed without the usage text; exit code 1).
struct P2PCommandFailure: Error, CustomStringConvertible {
    var description: String
}
