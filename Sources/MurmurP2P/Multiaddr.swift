import MurmurCore

/// A self-describing network address such as `/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…`.
///
/// Spec: https://github.com/multiformats/multiaddr (binary form: varint protocol code, then the
/// value, fixed-size or varint-length-prefixed). Supports ip4, ip6, dns, dns4, dns6, tcp and p2p.
public struct Multiaddr: Hashable, Sendable, CustomStringConvertible {
    /// One protocol component with its value.
    public enum Component: Hashable, Sendable {
        /// IPv4 address (code 4), 4 bytes.
        case ip4([UInt8])
        /// IPv6 address (code 41), 16 bytes.
        case ip6([UInt8])
        /// A DNS name resolved to any address family (code 53).
        case dns(String)
        /// A DNS name resolved to IPv4 (code 54).
        case dns4(String)
        /// A DNS name resolved to IPv6 (code 55).
        case dns6(String)
        /// TCP port (code 6), 2 bytes big-endian.
        case tcp(UInt16)
        /// A peer id (code 421), its multihash bytes.
        case p2p(PeerID)
    }

    /// The components in order.
    public var components: [Component]

    /// An address from its components.
    public init(_ components: [Component]) { self.components = components }

    /// Parses the text form.
    public init(_ text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[0].isEmpty else {
            throw P2PError.invalidMultiaddr("'\(text)' must start with '/' and name at least one protocol with its value")
        }
        var out: [Component] = []
        var i = 1
        while i < parts.count {
            let name = parts[i]
            guard i + 1 < parts.count else { throw P2PError.invalidMultiaddr("'\(name)' in '\(text)' has no value") }
            let value = parts[i + 1]
            switch name {
            case "ip4": out.append(.ip4(try Self.parseIPv4(value)))
            case "ip6": out.append(.ip6(try Self.parseIPv6(value)))
            case "dns", "dns4", "dns6":
                guard !value.isEmpty, value.utf8.count <= 255 else { throw P2PError.invalidMultiaddr("DNS name in '\(text)' must be 1…255 bytes") }
                out.append(name == "dns" ? .dns(value) : name == "dns4" ? .dns4(value) : .dns6(value))
            case "tcp":
                guard let port = UInt16(value) else { throw P2PError.invalidMultiaddr("TCP port '\(value)' is not in 0…65535") }
                out.append(.tcp(port))
            case "p2p", "ipfs": out.append(.p2p(try PeerID(parsing: value)))
            default:
                throw P2PError.invalidMultiaddr("unsupported protocol '\(name)' (supported: ip4, ip6, dns, dns4, dns6, tcp, p2p)")
            }
            i += 2
        }
        components = out
    }

    /// Parses the binary form.
    public init(bytes: [UInt8]) throws {
        var out: [Component] = []
        var i = 0
        func take(_ n: Int) throws -> [UInt8] {
            guard n >= 0, bytes.count - i >= n else { throw P2PError.invalidMultiaddr("binary multiaddr is truncated") }
            defer { i += n }
            return Array(bytes[i..<i + n])
        }
        func varint() throws -> UInt64 {
            guard let (v, n) = try UnsignedVarint.decode(bytes[i...]) else { throw P2PError.invalidMultiaddr("truncated varint") }
            i += n
            return v
        }
        func lengthPrefixed() throws -> [UInt8] {
            let n = try varint()
            guard n <= UInt64(bytes.count - i) else { throw P2PError.invalidMultiaddr("value length runs past the end") }
            return try take(Int(n))
        }
        guard !bytes.isEmpty else { throw P2PError.invalidMultiaddr("empty binary multiaddr") }
        while i < bytes.count {
            let code = try varint()
            switch code {
            case 4: out.append(.ip4(try take(4)))
            case 41: out.append(.ip6(try take(16)))
            case 6:
                let p = try take(2)
                out.append(.tcp(UInt16(p[0]) << 8 | UInt16(p[1])))
            case 53, 54, 55:
                let raw = try lengthPrefixed()
                // A name must survive the text form: valid UTF-8, not empty, no '/', ≤ 255 bytes.
                guard let name = String(validating: raw, as: UTF8.self), !name.isEmpty, raw.count <= 255, !raw.contains(0x2F) else {
                    throw P2PError.invalidMultiaddr("a DNS name must be 1…255 bytes of UTF-8 without '/'")
                }
                out.append(code == 53 ? .dns(name) : code == 54 ? .dns4(name) : .dns6(name))
            case 421: out.append(.p2p(try PeerID(multihashBytes: try lengthPrefixed())))
            default: throw P2PError.invalidMultiaddr("unsupported protocol code \(code)")
            }
        }
        components = out
    }

    /// The binary form.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        for c in components {
            switch c {
            case .ip4(let a): out += UnsignedVarint.encode(4) + a
            case .ip6(let a): out += UnsignedVarint.encode(41) + a
            case .tcp(let p): out += UnsignedVarint.encode(6) + [UInt8(p >> 8), UInt8(p & 0xFF)]
            case .dns(let n): out += UnsignedVarint.encode(53) + LengthPrefixedDecoder.frame(Array(n.utf8))
            case .dns4(let n): out += UnsignedVarint.encode(54) + LengthPrefixedDecoder.frame(Array(n.utf8))
            case .dns6(let n): out += UnsignedVarint.encode(55) + LengthPrefixedDecoder.frame(Array(n.utf8))
            case .p2p(let id): out += UnsignedVarint.encode(421) + LengthPrefixedDecoder.frame(id.multihash.bytes)
            }
        }
        return out
    }

    /// The text form.
    public var description: String {
        components.map { c -> String in
            switch c {
            case .ip4(let a): return "/ip4/" + a.map(String.init).joined(separator: ".")
            case .ip6(let a): return "/ip6/" + Self.formatIPv6(a)
            case .tcp(let p): return "/tcp/\(p)"
            case .dns(let n): return "/dns/\(n)"
            case .dns4(let n): return "/dns4/\(n)"
            case .dns6(let n): return "/dns6/\(n)"
            case .p2p(let id): return "/p2p/\(id)"
            }
        }.joined()
    }

    /// The peer id in a trailing `/p2p/…`, if any.
    public var peerID: PeerID? {
        if case .p2p(let id)? = components.last { return id }
        return nil
    }

    /// The address with `/p2p/<id>` appended (or replacing an existing one).
    public func with(peer: PeerID) -> Multiaddr {
        var c = components
        if case .p2p = c.last { c.removeLast() }
        return Multiaddr(c + [.p2p(peer)])
    }

    /// The address without a trailing `/p2p/<id>`.
    public var withoutPeer: Multiaddr {
        var c = components
        if case .p2p = c.last { c.removeLast() }
        return Multiaddr(c)
    }

    /// Host and port to dial: the first ip4/ip6/dns component and the tcp port after it.
    public func tcpEndpoint() throws -> (host: String, port: Int) {
        guard components.count >= 2, case .tcp(let port) = components[1] else {
            throw P2PError.invalidMultiaddr("'\(self)' is not an /ip4|/ip6|/dns…/tcp address")
        }
        switch components[0] {
        case .ip4(let a): return (a.map(String.init).joined(separator: "."), Int(port))
        case .ip6(let a): return (Self.formatIPv6(a), Int(port))
        case .dns(let n), .dns4(let n), .dns6(let n): return (n, Int(port))
        default: throw P2PError.invalidMultiaddr("'\(self)' does not start with an address")
        }
    }

    static func parseIPv4(_ s: String) throws -> [UInt8] {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { throw P2PError.invalidMultiaddr("'\(s)' is not a dotted IPv4 address") }
        return try parts.map { p in
            guard !p.isEmpty, p.count <= 3, let v = UInt8(p), p == "0" || !p.hasPrefix("0") else {
                throw P2PError.invalidMultiaddr("'\(s)' is not a dotted IPv4 address")
            }
            return v
        }
    }

    static func parseIPv6(_ s: String) throws -> [UInt8] {
        let bad = P2PError.invalidMultiaddr("'\(s)' is not an IPv6 address")
        var text = s
        var tail4: [UInt8] = []
        if let lastColon = text.lastIndex(of: ":"), text[lastColon...].contains(".") {
            tail4 = try parseIPv4(String(text[text.index(after: lastColon)...]))
            text = String(text[...lastColon]) + "0:0"
        }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { throw bad }
        func groups(_ h: String) throws -> [UInt16] {
            if h.isEmpty { return [] }
            return try h.split(separator: ":", omittingEmptySubsequences: false).map { g in
                guard (1...4).contains(g.count), let v = UInt16(g, radix: 16) else { throw bad }
                return v
            }
        }
        let head = try groups(halves[0])
        let tail = halves.count == 2 ? try groups(halves[1]) : []
        let missing = 8 - head.count - tail.count
        guard halves.count == 2 ? missing >= 1 : missing == 0 else { throw bad }
        let all = head + [UInt16](repeating: 0, count: max(0, missing)) + tail
        var out = all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        if !tail4.isEmpty { out.replaceSubrange(12..<16, with: tail4) }
        return out
    }

    /// RFC 5952 text: lowercase hex, leading zeros dropped, the longest run of ≥ 2 zero groups as "::".
    static func formatIPv6(_ a: [UInt8]) -> String {
        let g = (0..<8).map { UInt16(a[2 * $0]) << 8 | UInt16(a[2 * $0 + 1]) }
        var best = (start: -1, len: 0)
        var i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > best.len && j - i >= 2 { best = (i, j - i) }
                i = j
            } else { i += 1 }
        }
        let hex = g.map { String($0, radix: 16) }
        if best.start < 0 { return hex.joined(separator: ":") }
        return hex[0..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.len)...].joined(separator: ":")
    }
}
