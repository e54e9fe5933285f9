import CMurmurOpenSSL
import Crypto
import Foundation

import MurmurCore
import NIOCore
import NIOPosix

/// Loopback measurements for `murmur bench p2p`: one yamux stream over Noise, handshakes per
/// second, and the ChaCha20-Poly1305 single-core limit that bounds the stream (swift-crypto's
/// and OpenSSL's, which the transport uses; the faster one is the limit).
///
/// Both hosts live in this process on the same event loop group, so the stream figure pays for
/// encryption and decryption on the machine's cores; the cipher figure is one core sealing
/// 65519-byte Noise-sized messages.
public enum P2PBenchmark {
    /// The sink protocol: reads to the end, then answers with the byte count (8 bytes, big-endian).
    public static let sinkID = "/murmur/bench/sink/1.0.0"

    /// Serves the sink protocol.
    @Sendable public static func serveSink(_ stream: P2PStream) async throws {
        var total: UInt64 = 0
        while let chunk = try await stream.read() { total += UInt64(chunk.count) }
        try await stream.write((0..<8).map { UInt8(truncatingIfNeeded: total >> (56 - 8 * UInt64($0))) })
        try await stream.closeWrite()
    }

    /// The name of the implementation the Noise transport uses here: "OpenSSL x.y.z" or "swift-crypto".
    public static var transportCipher: String {
        ChaChaPolyContext.Backend.preferred == .openSSL ? String(cString: murmur_ossl_version()) : "swift-crypto"
    }

    /// ChaCha20-Poly1305 seal throughput of swift-crypto's `ChaChaPoly` on one core (bytes per
    /// second of this thread's CPU time) over `duration` CPU seconds: 65519-byte messages, each
    /// sealed into a new `SealedBox` (its API).
    public static func chachaPolyBytesPerSecond(duration: Double = 1) throws -> Double {
        let key = SymmetricKey(size: .bits256)
        let message = Data(repeating: 0x5A, count: NoiseSession.maxPlaintextLength)
        let start = CPUTime.thread()
        var bytes = 0
        var counter: UInt64 = 0
        while CPUTime.thread() - start < duration {
            for _ in 0..<16 {
                var n = [UInt8](repeating: 0, count: 12)
                withUnsafeBytes(of: counter.littleEndian) { n.replaceSubrange(4..<12, with: $0) }
                counter += 1
                // An opaque call into BoringSSL: the compiler cannot drop it.
                _ = try ChaChaPoly.seal(message, using: key, nonce: try ChaChaPoly.Nonce(data: n))
                bytes += message.count
            }
        }
        return Double(bytes) / (CPUTime.thread() - start)
    }

    /// ChaCha20-Poly1305 seal throughput of OpenSSL's libcrypto on one core (bytes per second of
    /// this thread's CPU time) over `duration` CPU seconds, as the Noise transport calls it:
    /// 65519-byte messages sealed with the counter nonce into one reused 65535-byte buffer;
    /// nil when libcrypto.so.3 is not installed (the transport then uses swift-crypto).
    public static func openSSLChaChaPolyBytesPerSecond(duration: Double = 1) throws -> Double? {
        guard ChaChaPolyContext.Backend.preferred == .openSSL else { return nil }
        var cipher = try NoiseTransportCipher(key: (0..<32).map { UInt8($0) }, sealing: true, backend: .openSSL)
        let message = [UInt8](repeating: 0x5A, count: NoiseSession.maxPlaintextLength)
        var out = [UInt8](repeating: 0, count: NoiseSession.maxMessageLength)
        let start = CPUTime.thread()
        var bytes = 0
        try message.withUnsafeBytes { plain in
            try out.withUnsafeMutableBytes { out in
                while CPUTime.thread() - start < duration {
                    for _ in 0..<16 {
                        bytes += try cipher.seal(plain, into: out) - NoiseTransportCipher.tagLength
                    }
                }
            }
        }
        return Double(bytes) / (CPUTime.thread() - start)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static let serverLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let clientLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// A listening host serving the sink, and a client host; caller closes the channel.
    static func pair() async throws -> (client: P2PHost, address: Multiaddr, listener: any Channel) {
        var config = P2PHost.Configuration()
        config.handlers[sinkID] = serveSink
        config.eventLoopHandlers = [sinkID]
        // One event loop each, as two processes would have: on the shared group both channels
        // can land on the same thread and the two ends then take turns instead of overlapping.
        let server = P2PHost(identity: Identity(), configuration: config, group: serverLoop)
        let channel = try await server.listen(try Multiaddr("/ip4/127.0.0.1/tcp/0"))
        guard let address = server.addresses.first else { throw P2PError.closed("the benchmark listener has no address") }
        return (P2PHost(identity: Identity(), group: clientLoop), address, channel)
    }

    /// Sends `bytes` on one yamux stream over Noise on loopback; returns bytes/s (until the sink's answer).
    public static func streamBytesPerSecond(bytes: Int, chunk: Int = 1 << 20) async throws -> Double {
        let (client, address, listener) = try await pair()
        defer { listener.close(promise: nil) }
        let conn = try await client.dial(address)
        let stream = try await conn.openStream([sinkID])
        let block = [UInt8](repeating: 0xA5, count: chunk)
        let clock = ContinuousClock()
        let start = clock.now
        // The writer runs on the connection's event loop, as the sink does on the other end.
        let answer = try await withTaskExecutorPreference(conn.taskExecutor) {
            var sent = 0
            while sent < bytes {
                let n = min(chunk, bytes - sent)
                try await stream.write(n == chunk ? block : Array(block.prefix(n)))
                sent += n
            }
            try await stream.closeWrite()
            return try await stream.read(exactly: 8)
        }
        let elapsed = clock.now - start
        let counted = answer.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard counted == UInt64(bytes) else { throw P2PError.closed("the sink counted \(counted) of \(bytes) bytes") }
        await conn.close()
        return Double(bytes) / seconds(elapsed)
    }

    /// Dials and closes `count` connections one after another (full multistream + Noise + yamux); returns per second.
    public static func handshakesPerSecond(count: Int) async throws -> Double {
        let (client, address, listener) = try await pair()
        defer { listener.close(promise: nil) }
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<count {
            let conn = try await client.dial(address)
            await conn.close()
        }
        return Double(count) / seconds(clock.now - start)
    }
}
