/// Errors of the Kademlia DHT, each saying what to check.
///
/// Wire-level problems (bad protobuf, oversize frames, closed streams) stay `P2PError`s.
public enum KademliaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A record failed validation or a size limit.
    case invalidRecord(String)
    /// A store is full.
    case limitExceeded(String)
    /// No value for the key was found in the DHT.
    case notFound(String)
    /// The routing table is empty: bootstrap from at least one known peer first.
    case noPeers
    /// A peer answered with a message of the wrong type or key.
    case unexpectedResponse(String)
    /// A value was stored at no peer at all.
    case storeFailed(String)

    /// The message shown to users.
    public var description: String {
        switch self {
        case .invalidRecord(let m): return "invalid DHT record: \(m)"
        case .limitExceeded(let m): return "DHT limit exceeded: \(m)"
        case .notFound(let m): return "not found in the DHT: \(m)"
        case .noPeers: return "the DHT routing table is empty: call bootstrap(peers:) with at least one reachable peer"
        case .unexpectedResponse(let m): return "unexpected DHT response: \(m)"
        case .storeFailed(let m): return "DHT store failed: \(m)"
        }
    }
}
