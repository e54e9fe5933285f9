import NIOCore

/// A yamux 1.0 session as a byte-level state machine: streams, windows, ping, GoAway.
///
/// Spec: libp2p/specs yamux/README.md over hashicorp/yamux spec.md. The dialer ("client") opens
/// odd stream ids, the listener even ones. Each direction of a stream starts with a 256 KiB
/// window; a sender never has more unacknowledged bytes in flight than the window, and the
/// receiver grants more (window update) only as the application consumes data, so a peer
/// that never reads stalls its sender instead of growing our memory. A stream whose reader
/// keeps up has its window doubled with each update up to `maxReceiveWindow` (16 MiB, as
/// go-yamux and rust-yamux), within a per-session growth budget: one stream over a fast link is
/// not held to a 256 KiB round trip, and memory stays bounded.
public struct YamuxSession: Sendable {
    /// The multistream protocol id.
    public static let protocolID = "/yamux/1.0.0"
    /// The spec's initial window per stream and direction.
    public static let initialWindow: UInt32 = 256 * 1024

    /// Limits of a session.
    public struct Configuration: Sendable {
        /// Streams open at once (both directions); a SYN beyond it is answered with RST.
        public var maxStreams = 1024
        /// The largest data frame we send: 65507 bytes, so that a full frame and its 12-byte header
        /// fill one Noise transport message (65519 bytes of plaintext) exactly.
        public var maxFrameData = 65507
        /// The largest receive window a stream grows to while its reader keeps up.
        public var maxReceiveWindow: UInt32 = 16 << 20
        /// Window growth beyond the initial 256 KiB shared by all streams of the session.
        public var windowGrowthBudget: UInt32 = 64 << 20
        /// When true, queued data is framed only by `drain(budget:)` (the NIO layer calls it
        /// while the socket is writable), so window updates and other control frames are never
        /// stuck behind megabytes of data in the socket's send queue.
        public var drainExplicitly = false
        /// The defaults: 1024 streams, frames of one Noise message, windows up to 16 MiB.
        public init() {}
    }

    /// Something the application must hear about.
    public enum Event: Equatable, Sendable {
        /// The peer opened stream `id`.
        case streamOpened(UInt32)
        /// Bytes arrived on a stream (call `consumed` when the application has taken them).
        case data(UInt32, [UInt8])
        /// The peer half-closed the stream: no more data will arrive.
        case remoteClosed(UInt32)
        /// The stream was reset (by the peer, or by the session on a limit).
        case reset(UInt32)
        /// The stream is fully closed in both directions and forgotten.
        case streamClosed(UInt32)
        /// A ping we sent was answered.
        case pong(UInt32)
        /// The peer is going away: open no new streams.
        case goAway(YamuxHeader.GoAwayCode)
    }

    /// What one step produced.
    public struct Output: Sendable {
        /// Bytes to send to the peer.
        public var send: [UInt8] = []
        /// Events for the application.
        public var events: [Event] = []
    }

    struct Stream: Sendable {
        var sendWindow = YamuxSession.initialWindow
        var receiveWindow = YamuxSession.initialWindow
        /// The window granted when everything is consumed: grows from the initial 256 KiB.
        var receiveCapacity = YamuxSession.initialWindow
        var unacknowledgedConsumed: UInt32 = 0
        /// The application's writes not yet framed, each array as it was written (never joined:
        /// framing reads across them), and how far the first one has been framed.
        var queue = CircularBuffer<[UInt8]>()
        var queueHead = 0
        var finPending = false
        var localClosed = false
        var remoteClosed = false
        /// Bytes of application data handed to `write` and framed, for completing writes.
        var framedTotal: UInt64 = 0
        var queuedTotal: UInt64 = 0
        /// Bytes written but not yet framed (those in `queue` after `queueHead`).
        var queuedCount: Int { Int(queuedTotal - framedTotal) }
    }

    /// Whether we dialed (odd stream ids).
    public let isClient: Bool
    /// Limits.
    public let configuration: Configuration
    private var streams: [UInt32: Stream] = [:]
    private var nextStreamID: UInt32
    private var lastDrained: UInt32 = 0
    /// The start of a frame split across `receive` calls, else empty.
    private var buffer: [UInt8] = []
    /// Window growth granted to open streams (against `windowGrowthBudget`).
    private var windowGrowth: UInt32 = 0
    /// True once either side sent GoAway: no new streams.
    public private(set) var goingAway = false
    /// True after a GoAway from the peer.
    public private(set) var remoteWentAway = false

    /// A session for the dialer (`isClient`) or the listener.
    public init(isClient: Bool, configuration: Configuration = .init()) {
        self.isClient = isClient
        self.configuration = configuration
        nextStreamID = isClient ? 1 : 2
    }

    /// Streams currently open.
    public var streamCount: Int { streams.count }

    /// Whether some stream has data (or a FIN) not yet framed.
    public var hasQueuedData: Bool { streams.values.contains { $0.queuedCount > 0 || $0.finPending } }

    /// Bytes of `id`'s writes framed so far (to complete write promises in order).
    public func framedTotal(_ id: UInt32) -> UInt64? { streams[id]?.framedTotal }

    /// Bytes of `id`'s writes accepted so far.
    public func queuedTotal(_ id: UInt32) -> UInt64? { streams[id]?.queuedTotal }

    /// Opens a stream: a window update with SYN.
    public mutating func openStream() throws -> (id: UInt32, send: [UInt8]) {
        guard !goingAway, !remoteWentAway else { throw P2PError.closed("the yamux session is going away; open a new connection") }
        guard streams.count < configuration.maxStreams else {
            throw P2PError.limitExceeded("\(configuration.maxStreams) yamux streams are already open")
        }
        guard nextStreamID <= UInt32.max - 2 else { throw P2PError.limitExceeded("yamux stream ids exhausted") }
        let id = nextStreamID
        nextStreamID += 2
        streams[id] = Stream()
        return (id, YamuxHeader(type: .windowUpdate, flags: .syn, streamID: id, length: 0).encoded)
    }

    /// Queues `data` on stream `id` and frames as much as the window allows.
    public mutating func write(_ id: UInt32, _ data: [UInt8]) throws -> [UInt8] {
        guard let i = streams.index(forKey: id) else { throw P2PError.closed("stream \(id) is not open") }
        guard !streams.values[i].localClosed, !streams.values[i].finPending else {
            throw P2PError.closed("stream \(id) was closed for writing")
        }
        // The array joins the queue as it is (no copy; in place through `values[i]`).
        if !data.isEmpty { streams.values[i].queue.append(data) }
        streams.values[i].queuedTotal += UInt64(data.count)
        return flush(id)
    }

    /// Half-closes our direction: FIN after the queued data.
    public mutating func closeWrite(_ id: UInt32) -> (send: [UInt8], events: [Event]) {
        guard var s = streams[id], !s.localClosed, !s.finPending else { return ([], []) }
        s.finPending = true
        streams[id] = s
        let bytes = flush(id)
        return (bytes, reapIfDone(id))
    }

    /// Resets stream `id` (RST) and forgets it.
    public mutating func reset(_ id: UInt32) -> [UInt8] {
        guard forget(id) else { return [] }
        return YamuxHeader(type: .windowUpdate, flags: .rst, streamID: id, length: 0).encoded
    }

    /// The application consumed `count` bytes of `id`: grant window back once half is used,
    /// doubling the stream's window (up to `maxReceiveWindow`, within the session's growth budget).
    public mutating func consumed(_ id: UInt32, _ count: Int) -> [UInt8] {
        guard let i = streams.index(forKey: id), !streams.values[i].remoteClosed else { return [] }
        streams.values[i].unacknowledgedConsumed += UInt32(clamping: count)
        let s = streams.values[i]
        guard s.unacknowledgedConsumed >= s.receiveCapacity / 2 else { return [] }
        // The reader took half the window before the peer ran dry: a bigger window would have kept
        // the link busy (go-yamux grows on a time test; consumption alone is enough to bound memory).
        let budgetLeft = Int(configuration.windowGrowthBudget) - Int(windowGrowth)
        let room = min(Int(configuration.maxReceiveWindow) - Int(s.receiveCapacity), budgetLeft)
        let growth = UInt32(max(0, min(Int(s.receiveCapacity), room)))
        let delta = s.unacknowledgedConsumed + growth
        streams.values[i].receiveCapacity += growth
        streams.values[i].receiveWindow += delta
        streams.values[i].unacknowledgedConsumed = 0
        windowGrowth += growth
        return YamuxHeader(type: .windowUpdate, streamID: id, length: delta).encoded
    }

    /// Removes stream `id` and returns its window growth to the budget; false if it was not open.
    private mutating func forget(_ id: UInt32) -> Bool {
        guard let s = streams.removeValue(forKey: id) else { return false }
        windowGrowth -= s.receiveCapacity - Self.initialWindow
        return true
    }

    /// A ping with `opaque`; its answer is a `.pong(opaque)` event.
    public func ping(_ opaque: UInt32) -> [UInt8] {
        YamuxHeader(type: .ping, flags: .syn, streamID: 0, length: opaque).encoded
    }

    /// GoAway: tells the peer we open and accept no new streams.
    public mutating func goAway(_ code: YamuxHeader.GoAwayCode = .normal) -> [UInt8] {
        goingAway = true
        return YamuxHeader(type: .goAway, streamID: 0, length: code.rawValue).encoded
    }

    /// Frames up to about `budget` bytes of queued data, one frame per stream in turn.
    public mutating func drain(budget: Int) -> (send: [UInt8], events: [Event]) {
        let (out, events) = drainFrames(budget: budget)
        return (out.bytes, events)
    }

    /// `drain(budget:)` as pieces: the data stays in the streams' queues until it is sealed.
    mutating func drainFrames(budget: Int) -> (send: YamuxOutgoing, events: [Event]) {
        var out = YamuxOutgoing()
        var events: [Event] = []
        var progress = true
        while out.count < budget && progress {
            progress = false
            let ready = streams.filter { ($0.value.queuedCount > 0 && $0.value.sendWindow > 0) || $0.value.finPending }.keys.sorted()
            guard !ready.isEmpty else { break }
            let start = ready.firstIndex { $0 > lastDrained } ?? 0
            for id in ready[start...] + ready[..<start] where out.count < budget {
                let before = out.count
                flush(id, maxBytes: configuration.maxFrameData, force: true, into: &out)
                if out.count > before { progress = true }
                events += reapIfDone(id)
                lastDrained = id
            }
        }
        return (out, events)
    }

    /// Frames queued data of `id` within its send window (at most `maxBytes`), then a pending FIN.
    private mutating func flush(_ id: UInt32, maxBytes: Int = .max, force: Bool = false) -> [UInt8] {
        var out = YamuxOutgoing()
        flush(id, maxBytes: maxBytes, force: force, into: &out)
        return out.isEmpty ? [] : out.bytes
    }

    /// `flush`, appending the frames to `out`; the stream is mutated in place (`values[i]`), so
    /// framing never copies its queue.
    private mutating func flush(_ id: UInt32, maxBytes: Int, force: Bool, into out: inout YamuxOutgoing) {
        guard let i = streams.index(forKey: id), force || !configuration.drainExplicitly else { return }
        Self.frame(&streams.values[i], id: id, maxBytes: maxBytes, maxFrameData: configuration.maxFrameData, into: &out)
    }

    private static func frame(_ s: inout Stream, id: UInt32, maxBytes: Int, maxFrameData: Int, into out: inout YamuxOutgoing) {
        var budget = maxBytes
        while s.queuedCount > 0 && s.sendWindow > 0 && budget > 0 {
            let n = min(s.queuedCount, Int(s.sendWindow), maxFrameData, budget)
            budget -= n
            let last = n == s.queuedCount && s.finPending
            out.append(YamuxHeader(type: .data, flags: last ? .fin : [], streamID: id, length: UInt32(n)))
            // The frame's data: slices of one or more of the queued writes.
            var left = n
            while left > 0, let first = s.queue.first {
                let take = min(left, first.count - s.queueHead)
                out.append(first, s.queueHead..<(s.queueHead + take))
                s.queueHead += take
                left -= take
                if s.queueHead == first.count {
                    s.queue.removeFirst()
                    s.queueHead = 0
                }
            }
            s.sendWindow -= UInt32(n)
            s.framedTotal += UInt64(n)
            if last {
                s.finPending = false
                s.localClosed = true
            }
        }
        if s.finPending && s.queuedCount == 0 {
            out.append(YamuxHeader(type: .windowUpdate, flags: .fin, streamID: id, length: 0))
            s.finPending = false
            s.localClosed = true
        }
    }

    private mutating func reapIfDone(_ id: UInt32) -> [Event] {
        guard let s = streams[id], s.localClosed, s.remoteClosed, s.queuedCount == 0 else { return [] }
        _ = forget(id)
        return [.streamClosed(id)]
    }

    /// Consumes bytes from the peer. A protocol violation throws after queueing nothing: the
    /// caller sends `goAway(.protocolError)` and closes the connection.
    public mutating func receive(_ bytes: [UInt8]) throws -> Output {
        try bytes.withUnsafeBytes { try receive($0) }
    }

    /// `receive` on borrowed bytes (the data path: Noise plaintext read where it lies). Whole
    /// frames are decoded in place; only a frame split across calls is copied to wait for its end.
    mutating func receive(_ bytes: UnsafeRawBufferPointer) throws -> Output {
        var out = Output()
        try receive(bytes, appendingTo: &out)
        return out
    }

    /// `receive` appending to `out`; with `chunkCapacity` > 0 a data frame that follows a data
    /// frame of the same stream is appended to that event's bytes (reserving `chunkCapacity` bytes
    /// when it first grows): the frames of one socket read reach a stream's reader as one chunk,
    /// copied once.
    mutating func receive(_ bytes: UnsafeRawBufferPointer, appendingTo out: inout Output, chunkCapacity: Int = 0) throws {
        guard buffer.isEmpty else {
            var joined = buffer
            joined.append(contentsOf: bytes)
            buffer = []
            return try joined.withUnsafeBytes { try decodeFrames($0, into: &out, chunkCapacity: chunkCapacity) }
        }
        try decodeFrames(bytes, into: &out, chunkCapacity: chunkCapacity)
    }

    private mutating func decodeFrames(_ bytes: UnsafeRawBufferPointer, into out: inout Output, chunkCapacity: Int) throws {
        var head = 0
        defer { if head < bytes.count { buffer = Array(bytes[head...]) } }
        while bytes.count - head >= YamuxHeader.size {
            let header = try YamuxHeader(decoding: bytes[head..<(head + YamuxHeader.size)])
            if header.type == .data {
                // Checked on the header, before buffering the body: memory stays within the window.
                let window = streams[header.streamID]?.receiveWindow ?? Self.initialWindow
                guard header.length <= window else {
                    throw P2PError.muxerProtocolError("stream \(header.streamID) announced \(header.length) bytes with \(window) of window left")
                }
                guard bytes.count - head - YamuxHeader.size >= Int(header.length) else { break }
            }
            let start = head + YamuxHeader.size
            let payloadLength = header.type == .data ? Int(header.length) : 0
            head = start + payloadLength
            switch header.type {
            case .ping:
                if header.flags.contains(.syn) {
                    out.send += YamuxHeader(type: .ping, flags: .ack, streamID: 0, length: header.length).encoded
                } else if header.flags.contains(.ack) {
                    out.events.append(.pong(header.length))
                }
            case .goAway:
                remoteWentAway = true
                out.events.append(.goAway(YamuxHeader.GoAwayCode(rawValue: header.length) ?? .internalError))
            case .data, .windowUpdate:
                try handleStreamFrame(
                    header, payload: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + payloadLength)]), into: &out,
                    chunkCapacity: chunkCapacity)
            }
        }
    }

    /// Whether a data frame with `header`, whose payload is the `length` bytes after it in a
    /// Noise message, may be opened straight into the caller's chunk (`receivedRouted` then
    /// follows): no partial frame is waiting, no flags, a stream open for reading, within its window.
    func acceptsRouted(_ header: YamuxHeader, length: Int) -> Bool {
        guard buffer.isEmpty, header.type == .data, header.flags.isEmpty, length > 0, Int(header.length) == length,
            let s = streams[header.streamID], !s.remoteClosed
        else { return false }
        return header.length <= s.receiveWindow
    }

    /// A data frame `acceptsRouted` allowed arrived (its payload is in the caller's chunk, whose
    /// `.data` event the caller makes): the stream's receive window shrinks as for any data frame.
    mutating func receivedRouted(_ header: YamuxHeader) {
        streams[header.streamID]?.receiveWindow -= header.length
    }

    /// Appends `payload` as a `.data` event, to the previous event's bytes when that is data of the
    /// same stream and `chunkCapacity` > 0 (the NIO data path; the byte-level API keeps one event per frame).
    private static func appendData(_ id: UInt32, _ payload: UnsafeRawBufferPointer, to events: inout [Event], chunkCapacity: Int) {
        guard chunkCapacity > 0, let last = events.indices.last, case .data(let previous, var bytes) = events[last], previous == id else {
            events.append(.data(id, Array(payload)))
            return
        }
        events[last] = .pong(0)  // drop the array's second reference before appending
        if bytes.capacity < bytes.count + payload.count { bytes.reserveCapacity(max(chunkCapacity, bytes.count + payload.count)) }
        bytes.append(contentsOf: payload)
        events[last] = .data(id, bytes)
    }

    private mutating func handleStreamFrame(
        _ h: YamuxHeader, payload: UnsafeRawBufferPointer, into out: inout Output, chunkCapacity: Int
    ) throws {
        let id = h.streamID
        guard id != 0 else { throw P2PError.muxerProtocolError("stream frame on stream 0") }
        if h.flags.contains(.syn) {
            guard streams[id] == nil else { throw P2PError.muxerProtocolError("SYN for stream \(id), which is already open") }
            guard (id % 2 == 1) != isClient else { throw P2PError.muxerProtocolError("SYN for stream \(id) with our parity") }
            if goingAway || streams.count >= configuration.maxStreams {
                out.send += YamuxHeader(type: .windowUpdate, flags: .rst, streamID: id, length: 0).encoded
                return
            }
            streams[id] = Stream()
            out.send += YamuxHeader(type: .windowUpdate, flags: .ack, streamID: id, length: 0).encoded
            out.events.append(.streamOpened(id))
        }
        guard var s = streams[id] else { return }  // late frames for a stream we reset or closed
        if h.flags.contains(.rst) {
            _ = forget(id)
            out.events.append(.reset(id))
            return
        }
        if h.type == .windowUpdate {
            let (sum, overflow) = s.sendWindow.addingReportingOverflow(h.length)
            guard !overflow else { throw P2PError.muxerProtocolError("window update overflows stream \(id)'s window") }
            s.sendWindow = sum
            streams[id] = s
            if h.length > 0 {
                out.send += flush(id)
                out.events += reapIfDone(id)
            }
        } else if !payload.isEmpty {
            guard !s.remoteClosed else { throw P2PError.muxerProtocolError("data on stream \(id) after its FIN") }
            guard UInt32(payload.count) <= s.receiveWindow else {
                throw P2PError.muxerProtocolError("stream \(id) sent \(payload.count) bytes with \(s.receiveWindow) of window left")
            }
            s.receiveWindow -= UInt32(payload.count)
            streams[id] = s
            Self.appendData(id, payload, to: &out.events, chunkCapacity: chunkCapacity)
        }
        if h.flags.contains(.fin), var s = streams[id], !s.remoteClosed {
            s.remoteClosed = true
            streams[id] = s
            out.events.append(.remoteClosed(id))
            out.events += reapIfDone(id)
        }
    }
}
