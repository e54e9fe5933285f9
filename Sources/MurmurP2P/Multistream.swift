/// multistream-select 1.0: both sides agree on one protocol for a connection or a stream.
///
/// Spec: libp2p/specs connections/README.md "multistream-select" and
/// https://github.com/multiformats/multistream-select. Every message is an unsigned-varint
/// length, the UTF-8 text, and "\n" (counted in the length). The header is
/// "/multistream/1.0.0"; "na" refuses a proposal; "ls" asks for the listener's protocols.
public enum Multistream {
    /// The protocol id of multistream-select itself.
    public static let header = "/multistream/1.0.0"
    /// The refusal.
    public static let notAvailable = "na"
    /// The listing request.
    public static let list = "ls"
    /// The largest message accepted (an `ls` answer can list many protocols).
    public static let maxMessageLength = 64 * 1024

    /// The wire form of one message: varint length, text, newline.
    public static func encode(_ message: String) -> [UInt8] {
        LengthPrefixedDecoder.frame(Array(message.utf8) + [0x0A])
    }

    /// The next message from `decoder`, without its trailing newline.
    static func nextMessage(_ decoder: inout LengthPrefixedDecoder) throws -> String? {
        guard let frame = try decoder.next() else { return nil }
        guard frame.last == 0x0A else { throw P2PError.negotiationFailed("a multistream message must end with a newline") }
        return String(decoding: frame.dropLast(), as: UTF8.self)
    }
}

/// What a multistream step produced: bytes to send, and once done, the outcome and leftover bytes.
public struct MultistreamOutput: Equatable, Sendable {
    /// Bytes to write to the peer now.
    public var send: [UInt8] = []
    /// The agreed protocol, once negotiation finished.
    public var selected: String?
    /// The listener's protocols, when this was an `ls` request.
    public var listed: [String]?
    /// Bytes after the final negotiation message: they belong to the selected protocol.
    public var remainder: [UInt8] = []
}

/// The side that proposes protocols (dialer of a connection, opener of a stream).
///
/// Proposals are pipelined after the header, as go-libp2p and py-libp2p do; on "na" the next
/// candidate is tried, and when none is left negotiation fails.
public struct MultistreamInitiator: Sendable {
    private enum Mode: Sendable { case select([String]), list }
    private var mode: Mode
    private var candidates: [String]
    private var decoder = LengthPrefixedDecoder(maxLength: Multistream.maxMessageLength)
    private var gotHeader = false
    private var done = false

    /// Proposes `protocols` in order of preference.
    public init(protocols: [String]) {
        mode = .select(protocols)
        candidates = protocols
    }

    /// Asks the listener for its protocols with `ls` instead of selecting one.
    public static func listing() -> MultistreamInitiator {
        var m = MultistreamInitiator(protocols: [])
        m.mode = .list
        return m
    }

    /// The first bytes: the header and the first proposal (or `ls`).
    public func start() -> [UInt8] {
        switch mode {
        case .list: return Multistream.encode(Multistream.header) + Multistream.encode(Multistream.list)
        case .select:
            return Multistream.encode(Multistream.header) + (candidates.first.map(Multistream.encode) ?? [])
        }
    }

    /// Consumes bytes from the listener.
    public mutating func receive(_ bytes: [UInt8]) throws -> MultistreamOutput {
        guard !done else { throw P2PError.negotiationFailed("received bytes after negotiation finished") }
        decoder.feed(bytes)
        var out = MultistreamOutput()
        if case .select(let all) = mode, all.isEmpty { throw P2PError.negotiationFailed("no protocol to propose") }
        while true {
            if case .list = mode, gotHeader {
                guard let frame = try decoder.next() else { return out }
                out.listed = Self.parseListing(frame)
                out.remainder = decoder.takeRemainder()
                done = true
                return out
            }
            guard let message = try Multistream.nextMessage(&decoder) else { return out }
            if !gotHeader {
                guard message == Multistream.header else {
                    throw P2PError.negotiationFailed("expected '\(Multistream.header)', got '\(message.prefix(64))'")
                }
                gotHeader = true
                continue
            }
            guard let current = candidates.first else { throw P2PError.negotiationFailed("unexpected message '\(message.prefix(64))'") }
            if message == current {
                out.selected = current
                out.remainder = decoder.takeRemainder()
                done = true
                return out
            }
            guard message == Multistream.notAvailable else {
                throw P2PError.negotiationFailed("proposed '\(current)', the peer answered '\(message.prefix(64))'")
            }
            candidates.removeFirst()
            guard let next = candidates.first else {
                guard case .select(let all) = mode else { return out }
                throw P2PError.negotiationFailed("the peer supports none of \(all)")
            }
            out.send += Multistream.encode(next)
        }
    }

    /// An `ls` answer: go-libp2p nests one delimited message per protocol; py-libp2p sends lines.
    static func parseListing(_ frame: [UInt8]) -> [String] {
        var inner = LengthPrefixedDecoder(maxLength: Multistream.maxMessageLength)
        inner.feed(frame.last == 0x0A ? Array(frame.dropLast()) : frame)
        var nested: [String] = []
        while let entry = try? Multistream.nextMessage(&inner) { nested.append(entry) }
        if !nested.isEmpty && inner.buffered.isEmpty { return nested }
        return String(decoding: frame, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

/// The side that accepts or refuses proposals (listener of a connection, acceptor of a stream).
public struct MultistreamListener: Sendable {
    /// The protocols served, in the order `ls` lists them.
    public let protocols: [String]
    private var decoder = LengthPrefixedDecoder(maxLength: Multistream.maxMessageLength)
    private var gotHeader = false
    private var done = false
    /// Proposals refused so far; a peer that keeps proposing is cut off.
    private var refusals = 0

    /// A listener serving `protocols`.
    public init(protocols: [String]) { self.protocols = protocols }

    /// The first bytes: our header (sent without waiting for the peer's).
    public func start() -> [UInt8] { Multistream.encode(Multistream.header) }

    /// Consumes bytes from the initiator.
    public mutating func receive(_ bytes: [UInt8]) throws -> MultistreamOutput {
        guard !done else { throw P2PError.negotiationFailed("received bytes after negotiation finished") }
        decoder.feed(bytes)
        var out = MultistreamOutput()
        while let message = try Multistream.nextMessage(&decoder) {
            if !gotHeader {
                guard message == Multistream.header else {
                    throw P2PError.negotiationFailed("expected '\(Multistream.header)', got '\(message.prefix(64))'")
                }
                gotHeader = true
            } else if message == Multistream.list {
                let entries = protocols.flatMap { Multistream.encode($0) }
                out.send += LengthPrefixedDecoder.frame(entries + [0x0A])
            } else if protocols.contains(message) {
                out.send += Multistream.encode(message)
                out.selected = message
                out.remainder = decoder.takeRemainder()
                done = true
                return out
            } else {
                refusals += 1
                guard refusals <= 64 else { throw P2PError.negotiationFailed("the peer proposed more than 64 unsupported protocols") }
                out.send += Multistream.encode(Multistream.notAvailable)
            }
        }
        return out
    }
}
