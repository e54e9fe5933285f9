import CMurmurOpenSSL
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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

    /// The application's write size on the benchmark stream, ours and py-libp2p's: 64 KiB, the
    /// block size of libp2p's `/perf/1.0.0` (py-libp2p's `WRITE_BLOCK_SIZE`, go-libp2p's perf).
    public static let writeSize = 64 * 1024

    /// Sends `bytes` on one yamux stream over Noise on loopback in writes of `chunk` bytes;
    /// returns bytes/s (until the sink's answer).
    public static func streamBytesPerSecond(bytes: Int, chunk: Int = writeSize) async throws -> Double {
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

    /// One run of `streamBytesPerSecond` with the CPU time (user + system, whole process: both
    /// ends and the kernel's TCP work) it took.
    public static func measureStream(bytes: Int, chunk: Int = writeSize) async throws -> (bytesPerSecond: Double, cpuSeconds: Double) {
        let before = CPUTime.process()
        let rate = try await streamBytesPerSecond(bytes: bytes, chunk: chunk)
        return (rate, CPUTime.process() - before)
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

    /// This machine's floor for the stream's work without libp2p: one thread seals 65519-byte
    /// messages with the transport's cipher (2-byte length prefix, Noise's framing) into writes
    /// of the transport's size (512 KiB) on a loopback TCP socket, another reads as much as the
    /// transport does (512 KiB) at a time and opens each message
    /// where it lies; no yamux, multistream, NIO or Swift concurrency, two plain threads. Returns
    /// plaintext bytes per second (wall clock, `bytes` rounded up to whole messages). What the
    /// stream reaches beyond this is what libp2p's framing and our code cost.
    public static func floorBytesPerSecond(bytes: Int) throws -> Double {
        let listener = try LoopbackSocket.listen()
        defer { close(listener.fd) }
        let key = (0..<32).map { UInt8($0) }
        let messages = (bytes + NoiseSession.maxPlaintextLength - 1) / NoiseSession.maxPlaintextLength
        let expected = messages * NoiseSession.maxPlaintextLength
        let receiver = FloorReceiver(listener: listener.fd, key: key)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            receiver.run()
            done.signal()
        }
        thread.start()
        let fd = try LoopbackSocket.connect(port: listener.port)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            defer { close(fd) }
            var cipher = try NoiseTransportCipher(key: key, sealing: true)
            let plain = [UInt8](repeating: 0xA5, count: NoiseSession.maxPlaintextLength)
            let perWrite = P2PConnection.drainBudget / NoiseSession.maxPlaintextLength
            var out = [UInt8](repeating: 0, count: perWrite * (NoiseSession.maxMessageLength + 2))
            var sent = 0
            try plain.withUnsafeBytes { plain in
                try out.withUnsafeMutableBytes { out in
                    while sent < messages {
                        let batch = min(perWrite, messages - sent)
                        var used = 0
                        for _ in 0..<batch {
                            let body = UnsafeMutableRawBufferPointer(rebasing: out[(used + 2)...])
                            let n = try cipher.seal(plain, into: body)
                            out[used] = UInt8(n >> 8)
                            out[used + 1] = UInt8(n & 0xFF)
                            used += n + 2
                        }
                        try LoopbackSocket.writeAll(fd, UnsafeRawBufferPointer(rebasing: out[..<used]))
                        sent += batch
                    }
                }
            }
        }
        done.wait()
        let elapsed = seconds(clock.now - start)
        if let failure = receiver.failure { throw failure }
        guard receiver.received == expected else {
            throw P2PError.closed("the floor's receiver opened \(receiver.received) of \(expected) bytes")
        }
        return Double(expected) / elapsed
    }
}

/// The receiving thread of `P2PBenchmark.floorBytesPerSecond`.
private final class FloorReceiver: @unchecked Sendable {
    let listener: Int32
    let key: [UInt8]
    /// Plaintext bytes opened; read after the thread finished.
    var received = 0
    var failure: (any Error)?

    init(listener: Int32, key: [UInt8]) {
        self.listener = listener
        self.key = key
    }

    func run() {
        do { try receive() } catch { failure = error }
    }

    private func receive() throws {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { throw P2PError.closed("floor accept: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var cipher = try NoiseTransportCipher(key: key, sealing: false)
        let readSize = P2PConnection.receiveAllocator.maximum
        var buffer = [UInt8](repeating: 0, count: readSize + NoiseSession.maxMessageLength + 2)
        var plain = [UInt8](repeating: 0, count: NoiseSession.maxMessageLength)
        var have = 0
        try buffer.withUnsafeMutableBytes { buffer in
            try plain.withUnsafeMutableBytes { plain in
                while true {
                    let r = read(fd, buffer.baseAddress! + have, readSize)
                    if r == 0 { break }
                    if r < 0 {
                        if errno == EINTR { continue }
                        throw P2PError.closed("floor read: \(String(cString: strerror(errno)))")
                    }
                    have += r
                    var offset = 0
                    while have - offset >= 2 {
                        let length = Int(buffer[offset]) << 8 | Int(buffer[offset + 1])
                        guard have - offset - 2 >= length else { break }
                        let body = UnsafeRawBufferPointer(rebasing: buffer[(offset + 2)..<(offset + 2 + length)])
                        received += try cipher.open(body, into: plain)
                        offset += 2 + length
                    }
                    if offset > 0 {
                        memmove(buffer.baseAddress!, buffer.baseAddress! + offset, have - offset)
                        have -= offset
                    }
                }
            }
        }
    }
}

/// Blocking loopback TCP sockets for `P2PBenchmark.floorBytesPerSecond`.
private enum LoopbackSocket {
    static func failure(_ what: String) -> P2PError { .closed("floor \(what): \(String(cString: strerror(errno)))") }

    static func address(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return a
    }

    static func withSockaddr<R>(_ a: inout sockaddr_in, _ body: (UnsafeMutablePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }

    /// A socket listening on 127.0.0.1 at a free port.
    static func listen() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw failure("socket") }
        var a = address(port: 0)
        guard withSockaddr(&a, { bind(fd, $0, $1) }) == 0, Glibc.listen(fd, 1) == 0 else {
            close(fd)
            throw failure("bind")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard withSockaddr(&a, { address, _ in getsockname(fd, address, &length) }) == 0 else {
            close(fd)
            throw failure("getsockname")
        }
        return (fd, UInt16(bigEndian: a.sin_port))
    }

    /// A socket connected to 127.0.0.1:`port`, with TCP_NODELAY as the libp2p host sets it.
    static func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw failure("socket") }
        var a = address(port: port)
        guard withSockaddr(&a, { Glibc.connect(fd, $0, $1) }) == 0 else {
            close(fd)
            throw failure("connect")
        }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let w = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if w < 0 {
                if errno == EINTR { continue }
                throw failure("write")
            }
            done += w
        }
    }
}
