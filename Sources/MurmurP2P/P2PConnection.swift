import MurmurCore
import NIOConcurrencyHelpers
import NIOCore

/// A libp2p connection over one TCP channel: drives a `ConnectionMachine` from NIO.
///
/// Open streams with `openStream(_:)`, or let the host's handlers serve inbound ones.
/// Concurrency: mutable state is touched only on `eventLoop` (the channel's); public async
/// methods hop there, so the `@unchecked Sendable` is sound.
public final class P2PConnection: @unchecked Sendable {
    /// The channel's event loop, which owns all mutable state.
    public let eventLoop: any EventLoop
    /// Whether we dialed.
    public let isDialer: Bool
    let host: P2PHost
    private var machine: ConnectionMachine
    private var channel: (any Channel)?
    private var streams: [UInt32: P2PStream] = [:]
    private var pendingOpens: [UInt32: (protocols: [String], promise: EventLoopPromise<P2PStream>)] = [:]
    private var pendingPings: [UInt32: EventLoopPromise<Void>] = [:]
    private var nextPing: UInt32 = 1
    private var closedError: P2PError?
    let established: EventLoopPromise<PeerID>
    private var handshakeTimer: Scheduled<Void>?
    /// The peer, once authenticated.
    public private(set) var remotePeer: PeerID?
    /// The peer's TCP address as a multiaddr, if known.
    public private(set) var remoteAddress: Multiaddr?
    private let identified = NIOLockedValueBox<IdentifyMessage?>(nil)
    /// What the peer last told us about itself: its identify answer (`IdentifyProtocol.identify`)
    /// updated by its pushes (`/ipfs/id/push/1.0.0`); nil before either.
    public var peerInfo: IdentifyMessage? { identified.withLockedValue { $0 } }
    /// Runs tasks on this connection's event loop: a task that prefers it
    /// (`withTaskExecutorPreference(connection.taskExecutor) { … }`) reads and writes this
    /// connection's streams without a thread hand-off per call. For code that only moves bytes.
    public let taskExecutor: EventLoopTaskExecutor

    init(host: P2PHost, eventLoop: any EventLoop, isDialer: Bool, expectedPeer: PeerID?) {
        self.host = host
        self.eventLoop = eventLoop
        self.isDialer = isDialer
        var yamux = host.configuration.yamux
        yamux.drainExplicitly = true  // data is framed only while the socket is writable (pumpSends)
        machine = ConnectionMachine(
            isDialer: isDialer, identity: host.identity, servedProtocols: host.servedProtocols,
            expectedPeer: expectedPeer, yamuxConfiguration: yamux)
        established = eventLoop.makePromise(of: PeerID.self)
        taskExecutor = EventLoopTaskExecutor(eventLoop)
    }

    // MARK: public API

    /// Opens a stream speaking the first of `protocols` the peer accepts.
    public func openStream(_ protocols: [String]) async throws -> P2PStream {
        try await eventLoop.flatSubmit { () -> EventLoopFuture<P2PStream> in
            if let e = self.closedError { return self.eventLoop.makeFailedFuture(e) }
            do {
                let (id, out) = try self.machine.openStream(protocols: protocols)
                let p = self.eventLoop.makePromise(of: P2PStream.self)
                self.pendingOpens[id] = (protocols, p)
                self.apply(out)
                return p.futureResult
            } catch {
                return self.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }

    /// A yamux-level ping (not `/ipfs/ping/1.0.0`): resolves when the peer answers.
    public func muxerPing() async throws {
        try await eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            if let e = self.closedError { return self.eventLoop.makeFailedFuture(e) }
            let v = self.nextPing
            self.nextPing &+= 1
            let p = self.eventLoop.makePromise(of: Void.self)
            self.pendingPings[v] = p
            do { self.apply(try self.machine.ping(v)) } catch { self.pendingPings[v] = nil; p.fail(error) }
            return p.futureResult
        }.get()
    }

    /// Closes the connection without losing what was written: once every stream's queued data
    /// has been framed (which may need the peer's window), GoAway follows, the socket's write side
    /// is shut down after everything queued in it, and the peer's close is awaited; all of it
    /// within `linger`, after which the socket is closed as it is. (Closing a socket with unread
    /// bytes from the peer makes the kernel send RST, and a peer that gets RST can drop data it had
    /// not read yet: a message written just before `close` was lost that way.)
    public func close(linger: TimeAmount = .seconds(2)) async {
        let closed: EventLoopFuture<Void>? = try? await eventLoop.submit { () -> EventLoopFuture<Void>? in
            guard let channel = self.channel, self.closedError == nil else { return nil }
            let timer = self.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
            channel.closeFuture.whenComplete { _ in timer.cancel() }
            self.closeWhenDrained = true
            self.finishCloseIfDrained()
            return channel.closeFuture
        }.get()
        try? await closed?.get()
    }

    private var closeWhenDrained = false
    private var closeSent = false

    /// The rest of `close` once no stream has data waiting to be framed.
    private func finishCloseIfDrained() {
        guard closeWhenDrained, !closeSent, let channel, !machine.hasQueuedData else { return }
        closeSent = true
        if let out = try? machine.goAway() { apply(out) }
        channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
    }

    /// Resolves when the TCP connection has closed.
    public func waitClosed() async {
        guard let f = try? await eventLoop.submit({ self.channel?.closeFuture }).get() else { return }
        try? await f.get()
    }

    /// Keeps an identify answer (`merging` false) or push (true: the fields it carries replace
    /// ours, as the spec allows partial pushes) and adds its listen addresses to the address book.
    func learned(_ m: IdentifyMessage, merging: Bool) {
        identified.withLockedValue { known in
            guard merging, var merged = known else {
                known = m
                return
            }
            if m.publicKey != nil { merged.publicKey = m.publicKey }
            if !m.listenAddrs.isEmpty { merged.listenAddrs = m.listenAddrs }
            if !m.protocols.isEmpty { merged.protocols = m.protocols }
            if m.observedAddr != nil { merged.observedAddr = m.observedAddr }
            if m.protocolVersion != nil { merged.protocolVersion = m.protocolVersion }
            if m.agentVersion != nil { merged.agentVersion = m.agentVersion }
            if m.signedPeerRecord != nil { merged.signedPeerRecord = m.signedPeerRecord }
            known = merged
        }
        if let peer = remotePeer {
            let addresses = m.listenAddrs.compactMap { try? Multiaddr(bytes: $0) }
            if !addresses.isEmpty { host.addAddresses(addresses, for: peer) }
        }
    }

    // MARK: stream operations (event loop)

    /// Queues `bytes` on stream `id`; returns the stream's framed total at which the write is
    /// done (at most `sendBuffer` of its bytes left unframed). The data is framed and sealed right
    /// away only once more than `sendBuffer` bytes of the stream wait; below that, at the end of
    /// this turn of the loop, so that small writes (libp2p's perf writes 64 KiB) leave in 512 KiB
    /// socket writes instead of one each.
    func write(_ id: UInt32, _ bytes: [UInt8]) throws -> UInt64 {
        if let e = closedError { throw e }
        let out = try machine.write(id, bytes)
        let queued = machine.queuedTotal(id) ?? 0
        let done = queued - min(queued, UInt64(Self.sendBuffer))
        if (machine.framedTotal(id) ?? queued) < done || !out.send.isEmpty || !out.events.isEmpty {
            apply(out)
        } else {
            schedulePump()
        }
        return done
    }

    /// Bytes of a stream that may wait unframed after its `write` returned (its send buffer).
    static let sendBuffer = 512 * 1024

    private var pumpScheduled = false

    /// Frames queued data once the loop has run what is queued now.
    private func schedulePump() {
        guard !pumpScheduled else { return }
        pumpScheduled = true
        eventLoop.execute {
            self.pumpScheduled = false
            self.pumpSends()
        }
    }

    func framedTotal(_ id: UInt32) -> UInt64? { machine.framedTotal(id) }

    func closeWrite(_ id: UInt32) throws {
        if let e = closedError { throw e }
        apply(try machine.closeWrite(id))
    }

    func reset(_ id: UInt32) {
        if let out = try? machine.reset(id) { apply(out) }
        streams[id] = nil
    }

    func consumed(_ id: UInt32, _ count: Int) {
        guard closedError == nil, let out = try? machine.consumed(id, count) else { return }
        apply(out)
    }

    // MARK: channel side (event loop)

    func channelActive(_ channel: any Channel) {
        self.channel = channel
        try? channel.syncOptions?.setOption(.recvAllocator, value: Self.receiveAllocator)
        if let a = channel.remoteAddress { remoteAddress = try? Multiaddr(socketAddress: a) }
        let timeout = host.configuration.handshakeTimeout
        handshakeTimer = eventLoop.scheduleTask(in: timeout) { [weak self] in
            self?.shutdown(.timeout("the connection was not upgraded (Noise + yamux) within \(timeout)"))
        }
        apply(machine.start())
    }

    func channelRead(_ buffer: inout ByteBuffer) {
        guard closedError == nil else { return }
        do {
            apply(try machine.receive(buffer: &buffer))
        } catch {
            let e = error as? P2PError ?? .muxerProtocolError("\(error)")
            if machine.isMuxed, let out = try? machine.goAway() { apply(out) }
            host.configuration.onProtocolViolation?(self, e)
            shutdown(e)
        }
    }

    func shutdown(_ error: P2PError) {
        guard closedError == nil else { return }
        closedError = error
        handshakeTimer?.cancel()
        established.fail(error)
        for (_, o) in pendingOpens { o.promise.fail(error) }
        pendingOpens = [:]
        for (_, p) in pendingPings { p.fail(error) }
        pendingPings = [:]
        for (_, s) in streams { s.fail(error) }
        streams = [:]
        channel?.close(promise: nil)
    }

    /// Bytes framed per `drain` call while the socket is writable.
    static let drainBudget = 512 * 1024
    /// Socket reads grow up to 512 KiB, so that most 65537-byte Noise messages arrive whole
    /// (NIO's default stops at 64 KiB, which splits nearly every message across two reads), and
    /// the read buffer and the chunk opened from it stay within a 1 MiB L2 cache.
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 * 1024, maximum: 512 * 1024)

    private func apply(_ out: ConnectionMachine.Output) {
        if !out.send.isEmpty, let channel {
            channel.writeAndFlush(channel.allocator.buffer(bytes: out.send), promise: nil)
        }
        for event in out.events { handle(event) }
        pumpSends()
    }

    /// Frames queued stream data while the channel is writable; NIO's writability change
    /// (`channelWritabilityChanged`) calls it again once the socket drains.
    func pumpSends() {
        guard let channel, closedError == nil, !pumping else { return }
        pumping = true
        defer { pumping = false }
        while channel.isWritable {
            var buffer = channel.allocator.buffer(capacity: Self.drainBudget + Self.drainBudget / 1024 + 2 * NoiseSession.maxMessageLength)
            guard let events = try? machine.drain(budget: Self.drainBudget, into: &buffer), buffer.readableBytes > 0 else { break }
            channel.writeAndFlush(buffer, promise: nil)
            for event in events { handle(event) }
        }
        for (id, s) in streams where s.hasPendingWrites { s.completeWrites(framed: machine.framedTotal(id)) }
        finishCloseIfDrained()
    }

    private var pumping = false

    private func handle(_ event: ConnectionMachine.Event) {
        switch event {
        case .established(let peer):
            remotePeer = peer
            handshakeTimer?.cancel()
            established.succeed(peer)
        case .streamReady(let id, let proto, let inbound):
            let s = P2PStream(id: id, protocolID: proto, isInbound: inbound, connection: self)
            streams[id] = s
            if inbound {
                if let handler = host.handler(for: proto) {
                    // A handler that fails resets its stream so the peer is not left waiting.
                    let onError = host.configuration.onStreamError
                    let executor: EventLoopTaskExecutor? = host.configuration.eventLoopHandlers.contains(proto) ? taskExecutor : nil
                    Task(executorPreference: executor) {
                        do { try await handler(s) } catch {
                            onError?(s, error)
                            await s.reset()
                        }
                    }
                }
            } else {
                pendingOpens.removeValue(forKey: id)?.promise.succeed(s)
            }
        case .streamFailed(let id, let error):
            pendingOpens.removeValue(forKey: id)?.promise.fail(error)
        case .streamData(let id, let bytes):
            streams[id]?.deliver(bytes)
        case .streamRemoteClosed(let id):
            streams[id]?.deliverEnd()
        case .streamReset(let id):
            streams.removeValue(forKey: id)?.fail(.streamReset)
        case .streamClosed(let id):
            if let s = streams.removeValue(forKey: id) {
                s.completeWrites(framed: nil)
                s.deliverEnd()
            }
        case .pong(let v):
            pendingPings.removeValue(forKey: v)?.succeed()
        case .goAway:
            break
        }
    }
}

/// The NIO handler in front of a `P2PConnection`: bytes in, lifecycle events, idle timeout.
final class P2PConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    // Only used on the channel's event loop (NIO calls handlers there), hence @unchecked.
    let connection: P2PConnection

    init(connection: P2PConnection) { self.connection = connection }

    func channelActive(context: ChannelHandlerContext) {
        connection.channelActive(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        connection.channelRead(&buffer)
    }

    /// Also runs when a dial fails before the channel was ever active: fails pending promises.
    func handlerRemoved(context: ChannelHandlerContext) {
        connection.shutdown(.closed("the TCP connection closed"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.shutdown(.closed("the TCP connection closed"))
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { connection.pumpSends() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            connection.shutdown(.timeout("the connection was idle too long"))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.shutdown(.closed("socket error: \(error)"))
    }
}
