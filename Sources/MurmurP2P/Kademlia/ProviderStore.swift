import MurmurCore

/// Provider records this node keeps for others: who announced which key, until when.
///
/// Spec: libp2p/specs kad-dht/README.md, "Content provider advertisement and discovery":
/// providers expire (go-libp2p: 48 h validity, republished every 22 h). Bounded: at most
/// `maxProvidersPerKey` per key (the most recent announcements win) and `maxKeys` keys.
public struct ProviderStore: Sendable {
    /// One announcement.
    public struct Provider: Equatable, Sendable {
        /// Who holds the content.
        public var peer: PeerID
        /// Where to reach it (as announced).
        public var addresses: [Multiaddr]
        /// When the announcement stops counting.
        public var expires: ContinuousClock.Instant
    }

    /// How long an announcement counts.
    public var validity: Duration
    /// Providers kept per key.
    public var maxProvidersPerKey: Int
    /// Keys kept.
    public var maxKeys: Int
    private var providers: [[UInt8]: [Provider]] = [:]

    /// A store with go-libp2p's 48 h validity.
    public init(validity: Duration = .seconds(48 * 3600), maxProvidersPerKey: Int = 64, maxKeys: Int = 100_000) {
        self.validity = validity
        self.maxProvidersPerKey = max(1, maxProvidersPerKey)
        self.maxKeys = max(1, maxKeys)
    }

    /// Records that `peer` provides `key` from `now` on (a repeat refreshes the expiry).
    public mutating func add(key: [UInt8], peer: PeerID, addresses: [Multiaddr], now: ContinuousClock.Instant = .now) throws {
        if providers[key] == nil, providers.count >= maxKeys {
            expire(now: now)
            guard providers.count < maxKeys else {
                throw KademliaError.limitExceeded("the provider store holds its maximum of \(maxKeys) keys")
            }
        }
        var list = (providers[key] ?? []).filter { $0.peer != peer && $0.expires > now }
        list.append(Provider(peer: peer, addresses: Array(addresses.prefix(KademliaMessage.maxAddressesPerPeer)), expires: now + validity))
        providers[key] = Array(list.suffix(maxProvidersPerKey))
    }

    /// Unexpired providers of `key`, most recent announcement last.
    public func providers(for key: [UInt8], now: ContinuousClock.Instant = .now) -> [Provider] {
        (providers[key] ?? []).filter { $0.expires > now }
    }

    /// Drops expired announcements.
    public mutating func expire(now: ContinuousClock.Instant = .now) {
        for (k, list) in providers {
            let live = list.filter { $0.expires > now }
            providers[k] = live.isEmpty ? nil : live
        }
    }

    /// Keys with at least one announcement (expired ones included until `expire`).
    public var keyCount: Int { providers.count }
}
