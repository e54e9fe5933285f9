import Crypto
import Foundation
import MurmurCore
import NIOCore

/// `/ipfs/ping/1.0.0`: the dialer writes 32 random bytes, the listener echoes them.
///
/// Spec: libp2p/specs ping/ping.md. One stream can carry many pings in a row.
public enum PingProtocol {
    /// The protocol id.
    public static let id = "/ipfs/ping/1.0.0"
    /// The payload size.
    public static let payloadSize = 32

    /// Serves pings until the peer closes the stream.
    @Sendable public static func serve(_ stream: P2PStream) async throws {
        do {
            while true {
                let payload = try await stream.read(exactly: payloadSize)
                try await stream.write(payload)
            }
        } catch P2PError.closed {
            try? await stream.closeWrite()
        }
    }

    /// Sends `count` pings on one stream; returns each round-trip time.
    public static func ping(_ connection: P2PConnection, count: Int = 1) async throws -> [Duration] {
        let stream = try await connection.openStream([id])
        var rtts: [Duration] = []
        let clock = ContinuousClock()
        for _ in 0..<count {
            let payload = (0..<payloadSize).map { _ in UInt8.random(in: 0...255) }
            let start = clock.now
            try await stream.write(payload)
            let answer = try await stream.read(exactly: payloadSize)
            guard answer == payload else { throw P2PError.negotiationFailed("the ping answer differs from the payload") }
            rtts.append(clock.now - start)
        }
        try await stream.closeWrite()
        return rtts
    }
}

/// `/ipfs/id/1.0.0` and `/ipfs/id/push/1.0.0`: a peer's key, addresses and protocols.
///
/// Spec: libp2p/specs identify/README.md. The message is written once, varint-length-prefixed
/// (go-libp2p and py-libp2p ≥ 0.3 both do), and the stream closed; a bare message is accepted too.
public enum IdentifyProtocol {
    /// The query protocol id.
    public static let id = "/ipfs/id/1.0.0"
    /// The push protocol id.
    public static let pushID = "/ipfs/id/push/1.0.0"
    /// The protocol version we announce.
    public static let protocolVersion = "ipfs/0.1.0"
    /// The largest identify message accepted.
    public static let maxMessageLength = 64 * 1024

    /// Our identify message as seen by `connection`'s peer.
    static func message(host: P2PHost, connection: P2PConnection) -> IdentifyMessage {
        var m = IdentifyMessage()
        m.publicKey = host.identity.publicKey.libp2pProtobuf
        m.listenAddrs = host.addresses.map { Multiaddr(Array($0.components.dropLast())).bytes }
        m.protocols = host.servedProtocols
        m.observedAddr = connection.remoteAddress?.bytes
        m.protocolVersion = protocolVersion
        m.agentVersion = host.configuration.agentVersion
        return m
    }

    /// Answers an identify query.
    static func serve(_ stream: P2PStream, host: P2PHost) async throws {
        let m = message(host: host, connection: stream.connection)
        try await stream.write(LengthPrefixedDecoder.frame(m.encoded))
        try await stream.closeWrite()
    }

    /// Takes a push: one length-prefixed identify message (possibly partial: the spec lets a
    /// push carry only the fields that changed). Its key must match the peer proven in Noise.
    /// The connection's `peerInfo` then shows it (fields it lacks keep their old values) and its
    /// listen addresses join the host's address book. A malformed push throws (the host resets
    /// the stream and reports it to `onStreamError`, which a node scores).
    @Sendable static func servePush(_ stream: P2PStream) async throws {
        let raw = try await stream.readToEnd(limit: maxMessageLength + 10)
        if !raw.isEmpty {
            guard let body = try LengthPrefixedDecoder.single(raw) else {
                throw P2PError.invalidFrame("an identify push must be one length-prefixed message")
            }
            stream.connection.learned(try checked(body, from: stream.connection), merging: true)
        }
        try await stream.closeWrite()
    }

    /// Decodes an identify message from `connection`'s peer and checks its key against the
    /// peer id proven in the Noise handshake.
    static func checked(_ body: [UInt8], from connection: P2PConnection) throws -> IdentifyMessage {
        let m = try IdentifyMessage(decoding: body)  // throws P2PError.invalidProtobuf
        if let key = m.publicKey, let peer = connection.remotePeer, PeerID(publicKeyProtobuf: key) != peer {
            throw P2PError.handshakeFailed("identify's public key does not match the peer id proven in Noise")
        }
        return m
    }

    /// Asks the peer who it is; checks that its key matches the authenticated peer id. The
    /// answer is also kept as the connection's `peerInfo` and its listen addresses go to the
    /// host's address book.
    public static func identify(_ connection: P2PConnection) async throws -> IdentifyMessage {
        let stream = try await connection.openStream([id])
        try await stream.closeWrite()
        let raw = try await stream.readToEnd(limit: maxMessageLength + 10)
        // Length-prefixed (go-libp2p, py-libp2p ≥ 0.3), or a bare message.
        let m = try checked((try? LengthPrefixedDecoder.single(raw)).flatMap { $0 } ?? raw, from: connection)
        connection.learned(m, merging: false)
        return m
    }

    /// Tells `connection`'s peer our current identify message on `/ipfs/id/push/1.0.0` (the
    /// spec's push: after our addresses or protocols changed). `P2PHost.pushIdentify()` does it
    /// for every connection.
    public static func push(_ connection: P2PConnection) async throws {
        let stream = try await connection.openStream([pushID])
        try await stream.write(LengthPrefixedDecoder.frame(message(host: connection.host, connection: connection).encoded))
        try await stream.closeWrite()
        // The peer closes its side once it has taken the message.
        _ = try await stream.readToEnd(limit: 0)
    }
}

/// `/murmur/echo/1.0.0`: writes back every byte until the peer closes its side, then closes.
///
/// For interop tests and `murmur p2p listen`; lets a peer check streams end to end.
public enum EchoProtocol {
    /// The protocol id.
    public static let id = "/murmur/echo/1.0.0"

    /// Echoes until end of stream.
    @Sendable public static func serve(_ stream: P2PStream) async throws {
        while let chunk = try await stream.read() { try await stream.write(chunk) }
        try await stream.closeWrite()
    }

    /// Sends `payload` on a new stream and returns what came back.
    public static func echo(_ connection: P2PConnection, _ payload: [UInt8]) async throws -> [UInt8] {
        let stream = try await connection.openStream([id])
        async let back = stream.readToEnd(limit: payload.count + 1)
        try await stream.write(payload)
        try await stream.closeWrite()
        return try await back
    }
}
