import Crypto
import MurmurCore
import NIOCore

/// One libp2p TCP connection as a byte-level state machine, from the first byte to muxed streams.
///
/// Upgrade order (libp2p/specs connections/README.md): multistream-select `/noise` on the raw
/// bytes, the Noise XX handshake, multistream-select `/yamux/1.0.0` inside Noise, then yamux;
/// every yamux stream negotiates its own protocol with multistream-select. Feed it socket bytes
/// and application commands; it returns bytes for the socket and events for the application.
public struct ConnectionMachine: Sendable {
    /// Something the application must hear about.
    public enum Event: Equatable, Sendable {
        /// Noise and yamux are up; the peer proved this id.
        case established(PeerID)
        /// A stream agreed on `protocol` (inbound: the peer opened it).
        case streamReady(UInt32, protocol: String, inbound: Bool)
        /// The peer refused every protocol we proposed on an outbound stream, or broke negotiation.
        case streamFailed(UInt32, P2PError)
        /// Application bytes on a ready stream (call `consumed` once taken).
        case streamData(UInt32, [UInt8])
        /// The peer finished writing on the stream.
        case streamRemoteClosed(UInt32)
        /// The stream was reset.
        case streamReset(UInt32)
        /// The stream is closed both ways and forgotten.
        case streamClosed(UInt32)
        /// A yamux ping was answered.
        case pong(UInt32)
        /// The peer sent GoAway.
        case goAway
    }

    /// What one step produced.
    public struct Output: Sendable {
        /// Bytes for the socket.
        public var send: [UInt8] = []
        /// Events for the application.
        public var events: [Event] = []
    }

    private enum Stage: Sendable {
        case securityInitiator(MultistreamInitiator)
        case securityListener(MultistreamListener)
        case handshake
        case muxerInitiator(MultistreamInitiator)
        case muxerListener(MultistreamListener)
        case muxed
    }

    private enum StreamNegotiation: Sendable {
        case initiator(MultistreamInitiator)
        case listener(MultistreamListener)
    }

    /// Whether we dialed.
    public let isDialer: Bool
    /// Protocols served on inbound streams.
    public var servedProtocols: [String]
    private var stage: Stage
    private var noise: NoiseSession
    private var yamux: YamuxSession
    private var negotiating: [UInt32: StreamNegotiation] = [:]
    /// The authenticated remote peer, once established.
    public private(set) var remotePeer: PeerID?

    /// A connection for `identity`; a dialer may pin the peer id it expects.
    public init(
        isDialer: Bool, identity: Identity, servedProtocols: [String], expectedPeer: PeerID? = nil,
        yamuxConfiguration: YamuxSession.Configuration = .init()
    ) {
        self.isDialer = isDialer
        self.servedProtocols = servedProtocols
        noise = NoiseSession(initiator: isDialer, identity: identity, expectedPeer: expectedPeer)
        yamux = YamuxSession(isClient: isDialer, configuration: yamuxConfiguration)
        stage = isDialer
            ? .securityInitiator(MultistreamInitiator(protocols: [NoiseSession.protocolID]))
            : .securityListener(MultistreamListener(protocols: [NoiseSession.protocolID]))
    }

    /// Whether yamux is up.
    public var isMuxed: Bool { if case .muxed = stage { return true } else { return false } }

    /// The first bytes: our multistream header (and the dialer's `/noise` proposal).
    public func start() -> Output {
        switch stage {
        case .securityInitiator(let m): return Output(send: m.start())
        case .securityListener(let m): return Output(send: m.start())
        default: return Output()
        }
    }

    private mutating func seal(_ plain: [UInt8]) throws -> [UInt8] {
        plain.isEmpty ? [] : try noise.encrypt(plain)
    }

    /// Consumes socket bytes. A thrown error means the connection must be closed.
    public mutating func receive(_ bytes: [UInt8]) throws -> Output {
        if case .muxed = stage {
            var buffer = ByteBuffer(bytes: bytes)
            return try receive(buffer: &buffer)
        }
        var out = Output()
        var pending = bytes
        // Plaintext security negotiation.
        switch stage {
        case .securityInitiator(var m):
            let r = try m.receive(pending)
            out.send += r.send
            guard r.selected != nil else { stage = .securityInitiator(m); return out }
            stage = .handshake
            out.send += try noise.start()
            pending = r.remainder
        case .securityListener(var m):
            let r = try m.receive(pending)
            out.send += r.send
            guard r.selected != nil else { stage = .securityListener(m); return out }
            stage = .handshake
            pending = r.remainder
        default: break
        }
        guard !pending.isEmpty else { return out }
        let n = try noise.receive(pending)
        out.send += n.send
        var plain = n.plaintext
        if let peer = n.established {
            remotePeer = peer
            if isDialer {
                let m = MultistreamInitiator(protocols: [YamuxSession.protocolID])
                stage = .muxerInitiator(m)
                out.send += try seal(m.start())
            } else {
                let m = MultistreamListener(protocols: [YamuxSession.protocolID])
                stage = .muxerListener(m)
                out.send += try seal(m.start())
            }
        }
        // Muxer negotiation inside Noise (reached only after Noise authenticated the peer).
        var plainOut: [UInt8] = []
        let peer = remotePeer
        switch stage {
        case .muxerInitiator(var m) where !plain.isEmpty:
            let r = try m.receive(plain)
            plainOut += r.send
            if r.selected != nil {
                stage = .muxed
                plain = r.remainder
                if let peer { out.events.append(.established(peer)) }
            } else {
                stage = .muxerInitiator(m)
                plain = []
            }
        case .muxerListener(var m) where !plain.isEmpty:
            let r = try m.receive(plain)
            plainOut += r.send
            if r.selected != nil {
                stage = .muxed
                plain = r.remainder
                if let peer { out.events.append(.established(peer)) }
            } else {
                stage = .muxerListener(m)
                plain = []
            }
        default: break
        }
        if case .muxed = stage, !plain.isEmpty {
            let y = try yamux.receive(plain)
            plainOut += y.send
            for e in y.events { plainOut += try handle(e, into: &out.events) }
        }
        out.send += try seal(plainOut)
        return out
    }

    /// Consumes socket bytes where NIO read them (all of `buffer`): once yamux is up, each Noise
    /// message is opened from the buffer and its yamux frames decoded from the plaintext in place;
    /// the data frames of one stream in one read become one chunk (one wake-up of its reader).
    mutating func receive(buffer: inout ByteBuffer) throws -> Output {
        guard case .muxed = stage else {
            let bytes = Array(buffer.readableBytesView)
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return try receive(bytes)
        }
        var out = Output()
        var y = YamuxSession.Output()
        let readSize = buffer.readableBytes
        if readSize >= Self.routedReadMinimum {
            try receiveRouted(&buffer, into: &y)
        } else {
            try noise.receiveTransport(&buffer) { try yamux.receive($0, appendingTo: &y, chunkCapacity: readSize) }
        }
        var plainOut = y.send
        for e in y.events { plainOut += try handle(e, into: &out.events) }
        out.send = try seal(plainOut)
        return out
    }

    /// Reads of at least this many bytes open data frames straight into the reader's chunk.
    static let routedReadMinimum = 32 * 1024

    /// The large-read path of `receive(buffer:)`: a Noise message that is one whole yamux data
    /// frame (as full frames from Murmur, go- and rust-yamux are) has its header opened first,
    /// then its payload straight into the chunk the stream's reader gets, so each byte is
    /// written once, by the cipher. The frames of one stream go into one chunk; everything else
    /// (control frames, other streams, a message split across reads or frames split across
    /// messages) takes the general path. Once a message took the general path after a routed
    /// frame, the rest of the read does too, so a stream's bytes stay in order.
    private mutating func receiveRouted(_ buffer: inout ByteBuffer, into y: inout YamuxSession.Output) throws {
        let readSize = buffer.readableBytes
        var routedID: UInt32?
        var placeholder: Int?
        var routing = true
        let chunk = try [UInt8](unsafeUninitializedCapacity: readSize) { chunk, filled in
            filled = 0
            try noise.receiveTransport(
                &buffer, prefix: YamuxHeader.size,
                route: { prefix, rest in
                    // Plaintexts are shorter than the read's ciphertext, so the chunk has room.
                    guard routing, let h = try? YamuxHeader(decoding: prefix), routedID == nil || routedID == h.streamID,
                        yamux.acceptsRouted(h, length: rest), filled + rest <= chunk.count, let base = chunk.baseAddress
                    else { return nil }
                    return UnsafeMutableRawPointer(base + filled)
                }
            ) { plain, routedLength in
                guard let routedLength else {
                    if placeholder != nil { routing = false }
                    try yamux.receive(plain, appendingTo: &y, chunkCapacity: placeholder == nil ? readSize : 0)
                    return
                }
                let h = try YamuxHeader(decoding: plain)
                yamux.receivedRouted(h)
                filled += routedLength
                if placeholder == nil {
                    routedID = h.streamID
                    placeholder = y.events.count
                    y.events.append(.data(h.streamID, []))
                }
            }
        }
        if let placeholder, let routedID { y.events[placeholder] = .data(routedID, chunk) }
    }

    /// Routes a yamux event through per-stream negotiation; returns plaintext to send.
    private mutating func handle(_ event: YamuxSession.Event, into events: inout [Event]) throws -> [UInt8] {
        switch event {
        case .streamOpened(let id):
            let m = MultistreamListener(protocols: servedProtocols)
            negotiating[id] = .listener(m)
            return try yamux.write(id, m.start())
        case .data(let id, let bytes):
            guard let neg = negotiating[id] else {
                events.append(.streamData(id, bytes))
                return []
            }
            var send = yamux.consumed(id, bytes.count)
            do {
                switch neg {
                case .listener(var m):
                    let r = try m.receive(bytes)
                    send += try yamux.write(id, r.send)
                    if let p = r.selected {
                        negotiating[id] = nil
                        events.append(.streamReady(id, protocol: p, inbound: true))
                        if !r.remainder.isEmpty { events.append(.streamData(id, r.remainder)) }
                    } else {
                        negotiating[id] = .listener(m)
                    }
                case .initiator(var m):
                    let r = try m.receive(bytes)
                    send += try yamux.write(id, r.send)
                    if let p = r.selected {
                        negotiating[id] = nil
                        events.append(.streamReady(id, protocol: p, inbound: false))
                        if !r.remainder.isEmpty { events.append(.streamData(id, r.remainder)) }
                    } else {
                        negotiating[id] = .initiator(m)
                    }
                }
            } catch let error as P2PError {
                negotiating[id] = nil
                if case .initiator = neg { events.append(.streamFailed(id, error)) }
                return send + yamux.reset(id)
            }
            return send
        case .remoteClosed(let id):
            if let neg = negotiating.removeValue(forKey: id) {
                if case .initiator = neg {
                    events.append(.streamFailed(id, .negotiationFailed("the peer closed the stream during negotiation")))
                }
                return yamux.reset(id)
            }
            events.append(.streamRemoteClosed(id))
        case .reset(let id):
            if let neg = negotiating.removeValue(forKey: id) {
                if case .initiator = neg { events.append(.streamFailed(id, .negotiationFailed("the peer reset the stream during negotiation"))) }
                return []
            }
            events.append(.streamReset(id))
        case .streamClosed(let id):
            events.append(.streamClosed(id))
        case .pong(let v): events.append(.pong(v))
        case .goAway: events.append(.goAway)
        }
        return []
    }

    private func requireMuxed() throws {
        guard case .muxed = stage else { throw P2PError.closed("the connection is not upgraded yet") }
    }

    /// Opens a stream and proposes `protocols`; `.streamReady` or `.streamFailed` follows.
    public mutating func openStream(protocols: [String]) throws -> (id: UInt32, output: Output) {
        try requireMuxed()
        let (id, syn) = try yamux.openStream()
        let m = MultistreamInitiator(protocols: protocols)
        negotiating[id] = .initiator(m)
        let bytes = syn + (try yamux.write(id, m.start()))
        return (id, Output(send: try seal(bytes)))
    }

    /// Writes application bytes on a ready stream (queued beyond the peer's window).
    public mutating func write(_ id: UInt32, _ data: [UInt8]) throws -> Output {
        try requireMuxed()
        guard negotiating[id] == nil else { throw P2PError.closed("stream \(id) is still negotiating") }
        return Output(send: try seal(try yamux.write(id, data)))
    }

    /// Half-closes a stream (FIN after queued data).
    public mutating func closeWrite(_ id: UInt32) throws -> Output {
        let (bytes, events) = yamux.closeWrite(id)
        return Output(send: try seal(bytes), events: events.compactMap { if case .streamClosed(let i) = $0 { return .streamClosed(i) } else { return nil } })
    }

    /// Resets a stream.
    public mutating func reset(_ id: UInt32) throws -> Output {
        negotiating[id] = nil
        return Output(send: try seal(yamux.reset(id)))
    }

    /// The application took `count` bytes of `id` (window updates follow as needed).
    public mutating func consumed(_ id: UInt32, _ count: Int) throws -> Output {
        Output(send: try seal(yamux.consumed(id, count)))
    }

    /// A yamux ping with `opaque` (answered by `.pong`).
    public mutating func ping(_ opaque: UInt32) throws -> Output {
        try requireMuxed()
        return Output(send: try seal(yamux.ping(opaque)))
    }

    /// GoAway: no new streams either way.
    public mutating func goAway() throws -> Output {
        guard case .muxed = stage else { return Output() }
        return Output(send: try seal(yamux.goAway()))
    }

    /// Bytes of `id`'s writes framed and sent so far.
    public func framedTotal(_ id: UInt32) -> UInt64? { yamux.framedTotal(id) }

    /// Frames up to about `budget` bytes of queued stream data (with `drainExplicitly`).
    public mutating func drain(budget: Int) throws -> Output {
        guard case .muxed = stage else { return Output() }
        let (bytes, events) = yamux.drain(budget: budget)
        return Output(send: try seal(bytes), events: events.compactMap { event -> Event? in
            if case .streamClosed(let id) = event { return .streamClosed(id) }
            return nil
        })
    }

    /// `drain(budget:)` sealing straight into `buffer` (the NIO write path): the cipher reads each
    /// frame's data from the stream's queue and writes the ciphertext into `buffer`, no copy in
    /// between. Full yamux frames fill Noise messages exactly (`maxFrameData`).
    mutating func drain(budget: Int, into buffer: inout ByteBuffer) throws -> [Event] {
        guard case .muxed = stage else { return [] }
        let (pieces, events) = yamux.drainFrames(budget: budget)
        try noise.encrypt(pieces, into: &buffer)
        return events.compactMap { event -> Event? in
            if case .streamClosed(let id) = event { return .streamClosed(id) }
            return nil
        }
    }

    /// Bytes of `id`'s writes accepted so far.
    public func queuedTotal(_ id: UInt32) -> UInt64? { yamux.queuedTotal(id) }

    /// Streams open now.
    public var streamCount: Int { yamux.streamCount }

    /// Whether some stream has data (or a FIN) not yet framed.
    public var hasQueuedData: Bool { yamux.hasQueuedData }
}
