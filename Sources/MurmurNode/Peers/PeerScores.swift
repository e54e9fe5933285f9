import Foundation

/// A kind of misbehaviour the node holds against a peer, with its weight.
/// Why: a peer that breaks the protocols the node serves loses standing until it is disconnected
/// and refused (issue 11, item 6); honest peers make none of these by accident.
public enum PeerOffense: Sendable, Equatable {
    /// A stream frame that does not parse on a protocol the node serves (`/murmur/fl/1`,
    /// `/murmur/secagg/1`, `/murmur/blocks/1`, gossipsub, kad, identify push).
    case malformedMessage(protocol: String)
    /// Bytes that break the connection layer (multistream, Noise, yamux): the connection is closed.
    case brokenTransport(String)
    /// A well-formed request the peer may not make, e.g. a fit request from a peer that is not the aggregator.
    case unauthorizedRequest(protocol: String)
    /// A protocol's own penalty, e.g. gossipsub's invalid-message or Kademlia's malformed-RPC count.
    case protocolPenalty(protocol: String, weight: Double)

    /// How much the score drops (score points; the disconnect threshold is `PeerScorePolicy.disconnectBelow`).
    public var weight: Double {
        switch self {
        case .malformedMessage: 40
        case .brokenTransport: 60
        case .unauthorizedRequest: 10
        case .protocolPenalty(_, let w): max(0, w)
        }
    }

    /// A short label for logs and `GET /v1/peers`.
    public var label: String {
        switch self {
        case .malformedMessage(let p): "malformed message on \(p)"
        case .brokenTransport(let why): "broken transport: \(why)"
        case .unauthorizedRequest(let p): "unauthorized request on \(p)"
        case .protocolPenalty(let p, _): "penalty from \(p)"
        }
    }
}

/// When a peer is disconnected and for how long it is refused.
/// Why: the thresholds are the node's policy, separate from the bookkeeping (libp2p's connection
/// gater and gossipsub v1.1's graylist threshold play the same role).
public struct PeerScorePolicy: Sendable, Equatable {
    /// A peer whose score falls below this is disconnected and refused for a back-off period.
    public var disconnectBelow: Double = -100
    /// An address (IP) whose score falls below this is refused before the handshake; garbage
    /// before Noise has no peer id, so it is scored by address.
    public var refuseAddressBelow: Double = -300
    /// Scores decay toward 0 with this half-life (seconds): old offenses are forgiven.
    public var halfLife: Double = 600
    /// The first refusal lasts this long (seconds); each further one doubles it, up to `maxBackoff`.
    public var backoff: Double = 60
    /// The longest refusal (seconds).
    public var maxBackoff: Double = 3600
    /// Whether loopback addresses may be refused: every local process shares 127.0.0.1 and ::1, so
    /// refusing one would refuse the honest local peers too (a local cluster); off by default.
    public var refuseLoopbackAddresses = false
    /// At most this many peers and addresses are tracked (the least recently offending go first).
    public var capacity = 4096

    /// The defaults.
    public init() {}
}

/// One scored peer (or address) as `GET /v1/peers` shows it.
public struct PeerScoreRecord: Codable, Sendable, Equatable {
    /// The peer id, or `ip4/…`/`ip6/…` for misbehaviour before the handshake.
    public var peer: String
    /// The decayed score at `updated` (0 = clean; lower is worse).
    public var score: Double
    /// Offenses counted so far.
    public var offenses: Int
    /// The last offense, e.g. "malformed message on /murmur/fl/1".
    public var lastOffense: String?
    /// Unix seconds of the last offense.
    public var updated: Int64
    /// Refused until then (Unix seconds), if refused now or before.
    public var refusedUntil: Int64?
    /// How many times it was refused.
    public var refusals: Int

    enum CodingKeys: String, CodingKey {
        case peer, score, offenses, lastOffense = "last_offense", updated, refusedUntil = "refused_until", refusals
    }
}

/// The node's scores of its peers: offenses lower a score that decays back toward 0; below the
/// policy's threshold the peer is disconnected and refused for a back-off that doubles per refusal.
/// Why: a node must keep serving honest peers while a hostile one sends garbage (issue 11, item 6).
public final class PeerScores: @unchecked Sendable {
    // @unchecked: `entries` is only touched under `lock`.
    private let lock = NSLock()
    private var entries: [String: PeerScoreRecord] = [:]
    /// The thresholds.
    public let policy: PeerScorePolicy

    /// What an offense led to.
    public enum Verdict: Sendable, Equatable {
        /// Scored down; still welcome.
        case scored(Double)
        /// Below the threshold: disconnect now; refused until the given Unix time.
        case refuse(until: Int64)
    }

    /// Empty scores under `policy`, or the persisted `records` (e.g. from the peer book).
    public init(policy: PeerScorePolicy = .init(), records: [PeerScoreRecord] = []) {
        self.policy = policy
        for r in records { entries[r.peer] = r }
    }

    /// Records `offense` by `peer` (a peer id, or `PeerScores.addressKey` of an address) at `now`.
    public func record(_ offense: PeerOffense, by peer: String, now: Date = Date()) -> Verdict {
        let t = Int64(now.timeIntervalSince1970)
        return lock.withLock {
            var e = entries[peer] ?? PeerScoreRecord(peer: peer, score: 0, offenses: 0, lastOffense: nil, updated: t, refusedUntil: nil, refusals: 0)
            e.score = decayed(e, at: now) - offense.weight
            e.offenses += 1
            e.lastOffense = offense.label
            e.updated = t
            let threshold = Self.isAddressKey(peer) ? policy.refuseAddressBelow : policy.disconnectBelow
            var verdict = Verdict.scored(e.score)
            if e.score < threshold, (e.refusedUntil ?? 0) <= t, refusable(peer) {
                let seconds = min(policy.maxBackoff, policy.backoff * pow(2, Double(min(e.refusals, 30))))
                e.refusals += 1
                e.refusedUntil = t + Int64(seconds.rounded(.up))
                // A fresh start after the back-off: the score returns to the threshold's middle ground.
                e.score = threshold / 2
                verdict = .refuse(until: e.refusedUntil!)
            } else if let until = e.refusedUntil, until > t {
                verdict = .refuse(until: until)
            }
            entries[peer] = e
            if entries.count > policy.capacity { evictOldest() }
            return verdict
        }
    }

    /// Whether `peer` (or an address key) is refused at `now`.
    public func isRefused(_ peer: String, now: Date = Date()) -> Bool {
        lock.withLock { (entries[peer]?.refusedUntil ?? 0) > Int64(now.timeIntervalSince1970) }
    }

    /// The current (decayed) score of `peer`; 0 for a peer never scored.
    public func score(_ peer: String, now: Date = Date()) -> Double {
        lock.withLock { entries[peer].map { decayed($0, at: now) } ?? 0 }
    }

    /// Every scored peer and address, worst first, with scores decayed to `now`.
    public func records(now: Date = Date()) -> [PeerScoreRecord] {
        lock.withLock {
            entries.values.map { e -> PeerScoreRecord in
                var e = e
                e.score = (decayed(e, at: now) * 1000).rounded() / 1000
                return e
            }.sorted { ($0.score, $0.peer) < ($1.score, $1.peer) }
        }
    }

    /// The key under which an address's pre-handshake misbehaviour is scored: `ip4/1.2.3.4` or `ip6/…`.
    public static func addressKey(ip: String) -> String { (ip.contains(":") ? "ip6/" : "ip4/") + ip }

    static func isAddressKey(_ key: String) -> Bool { key.hasPrefix("ip4/") || key.hasPrefix("ip6/") }

    func refusable(_ key: String) -> Bool {
        guard Self.isAddressKey(key), !policy.refuseLoopbackAddresses else { return true }
        let ip = key.dropFirst(4)
        return !(ip.hasPrefix("127.") || ip == "::1" || ip == "0:0:0:0:0:0:0:1")
    }

    /// s(t) = s(t₀)·2^(−(t−t₀)/halfLife).
    private func decayed(_ e: PeerScoreRecord, at now: Date) -> Double {
        let dt = max(0, now.timeIntervalSince1970 - Double(e.updated))
        return e.score * pow(2, -dt / max(policy.halfLife, 1))
    }

    private func evictOldest() {
        let t = Int64(Date().timeIntervalSince1970)
        if let victim = entries.values.filter({ ($0.refusedUntil ?? 0) <= t }).min(by: { $0.updated < $1.updated }) ?? entries.values.min(by: { $0.updated < $1.updated }) {
            entries[victim.peer] = nil
        }
    }
}
