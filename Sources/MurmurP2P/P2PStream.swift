import NIOCore

/// One negotiated yamux stream of a `P2PConnection`, with async reads and writes.
///
/// Reads return chunks as they arrive and grant the peer more window as they are taken, so a
/// stream nobody reads stops its sender at 256 KiB. Writes complete once at most 512 KiB of the
/// stream's bytes wait to be framed (`P2PConnection.sendBuffer`, like a socket's send buffer;
/// framing needs the peer's window), which back-pressures a fast writer. As with a socket, a
/// completed write is not yet delivered: a failure after it shows at the next write, at
/// `closeWrite` or at the next read.
///
/// Concurrency: every mutable field is touched only on `connection.eventLoop` (public methods
/// hop there first), which is why the `@unchecked Sendable` is sound.
public final class P2PStream: @unchecked Sendable {
    /// The yamux stream id.
    public let id: UInt32
    /// The negotiated protocol id.
    public let protocolID: String
    /// Whether the peer opened it.
    public let isInbound: Bool
    /// The connection it belongs to.
    public let connection: P2PConnection

    private var inbox = CircularBuffer<[UInt8]>()
    private var remoteClosed = false
    private var failure: P2PError?
    private var pendingRead: EventLoopPromise<[UInt8]?>?
    private var pendingWrites: [(target: UInt64, promise: EventLoopPromise<Void>)] = []

    init(id: UInt32, protocolID: String, isInbound: Bool, connection: P2PConnection) {
        self.id = id
        self.protocolID = protocolID
        self.isInbound = isInbound
        self.connection = connection
    }

    private var eventLoop: any EventLoop { connection.eventLoop }

    /// The next chunk of bytes, or `nil` once the peer closed its side and everything was read.
    ///
    /// Called from a task running on the connection's event loop (`P2PConnection.taskExecutor`),
    /// a chunk that is already there is returned without leaving the thread.
    public func read() async throws -> [UInt8]? {
        // Spelled out here and in `write` rather than through a helper taking a closure: the
        // escaping closure would be allocated on every call, also on the loop's own fast path.
        try await (eventLoop.inEventLoop ? startRead() : eventLoop.flatSubmit(startRead)).get()
    }

    private func startRead() -> EventLoopFuture<[UInt8]?> {
        if let chunk = inbox.popFirst() {
            connection.consumed(id, chunk.count)
            return eventLoop.makeSucceededFuture(chunk)
        }
        if let failure { return eventLoop.makeFailedFuture(failure) }
        if remoteClosed { return eventLoop.makeSucceededFuture(nil) }
        guard pendingRead == nil else {
            return eventLoop.makeFailedFuture(P2PError.closed("only one read at a time on stream \(id)"))
        }
        let p = eventLoop.makePromise(of: [UInt8]?.self)
        pendingRead = p
        return p.futureResult
    }

    /// Reads exactly `count` bytes; throws if the stream ends first. Extra bytes stay queued.
    public func read(exactly count: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            guard let chunk = try await read() else {
                throw P2PError.closed("stream \(id) ended after \(out.count) of \(count) bytes")
            }
            let need = count - out.count
            if chunk.count <= need {
                out += chunk
            } else {
                out += chunk.prefix(need)
                await unread(Array(chunk.dropFirst(need)))
            }
        }
        return out
    }

    /// Reads until the peer closes its side; throws past `limit` bytes.
    public func readToEnd(limit: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        while let chunk = try await read() {
            out += chunk
            guard out.count <= limit else { throw P2PError.limitExceeded("stream \(id) sent more than \(limit) bytes") }
        }
        return out
    }

    private func unread(_ bytes: [UInt8]) async {
        try? await eventLoop.submit { self.inbox.prepend(bytes) }.get()
    }

    /// Writes `bytes`; returns when at most 512 KiB of the stream's bytes wait to be framed (the
    /// peer's window allowing framing).
    ///
    /// From a task on the connection's event loop the bytes are framed and handed to the socket
    /// in this call, without a thread hand-off.
    public func write(_ bytes: [UInt8]) async throws {
        try await (eventLoop.inEventLoop ? startWrite(bytes) : eventLoop.flatSubmit { self.startWrite(bytes) }).get()
    }

    private func startWrite(_ bytes: [UInt8]) -> EventLoopFuture<Void> {
        if let failure { return eventLoop.makeFailedFuture(failure) }
        do {
            // Done once at most the send buffer of the stream's bytes waits to be framed.
            let target = try connection.write(id, bytes)
            if connection.framedTotal(id).map({ $0 >= target }) ?? true {
                return eventLoop.makeSucceededVoidFuture()
            }
            let p = eventLoop.makePromise(of: Void.self)
            pendingWrites.append((target, p))
            return p.futureResult
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
    }

    /// Half-closes: the peer reads to the end; we can still read.
    public func closeWrite() async throws {
        try await eventLoop.submit { try self.connection.closeWrite(self.id) }.get()
    }

    /// Resets the stream in both directions.
    public func reset() async {
        try? await eventLoop.submit {
            self.connection.reset(self.id)
            self.fail(.streamReset)
        }.get()
    }

    // MARK: event-loop side, called by P2PConnection

    func deliver(_ bytes: [UInt8]) {
        if let p = pendingRead {
            pendingRead = nil
            connection.consumed(id, bytes.count)
            p.succeed(bytes)
        } else {
            inbox.append(bytes)
        }
    }

    func deliverEnd() {
        remoteClosed = true
        if inbox.isEmpty, let p = pendingRead {
            pendingRead = nil
            p.succeed(nil)
        }
    }

    func fail(_ error: P2PError) {
        guard failure == nil else { return }
        failure = error
        pendingRead?.fail(error)
        pendingRead = nil
        for w in pendingWrites { w.promise.fail(error) }
        pendingWrites = []
    }

    /// Completes writes whose bytes have all been framed; `framed` nil means the stream is gone.
    func completeWrites(framed: UInt64?) {
        guard !pendingWrites.isEmpty else { return }
        guard let framed else {
            for w in pendingWrites { w.promise.succeed() }
            pendingWrites = []
            return
        }
        while let first = pendingWrites.first, first.target <= framed {
            pendingWrites.removeFirst()
            first.promise.succeed()
        }
    }

    var hasPendingWrites: Bool { !pendingWrites.isEmpty }
}
