import MurmurCore
import NIOConcurrencyHelpers

/// Provider records shared by the hosts of one process, standing in for the DHT.
///
/// For tests, benchmarks and single-process clusters: `routing(for:)` gives each host a
/// `ProviderRouting` whose `provide` records the host's listen addresses and whose
/// `findProviders` copies them into the asking host's address book, as a DHT lookup would.
public final class LocalProviderTable: Sendable {
    private let records = NIOLockedValueBox<[[UInt8]: [(peer: PeerID, addresses: [Multiaddr])]]>([:])

    /// An empty table.
    public init() {}

    /// The routing `host` uses to announce and find content in this table.
    public func routing(for host: P2PHost) -> any ProviderRouting { LocalProviderRouting(table: self, host: host) }

    /// Records `peer` (reachable at `addresses`) as a provider of `key`, replacing an older record.
    public func add(_ key: [UInt8], peer: PeerID, addresses: [Multiaddr]) {
        records.withLockedValue { r in
            var list = r[key] ?? []
            list.removeAll { $0.peer == peer }
            list.append((peer, addresses))
            r[key] = list
        }
    }

    /// Forgets `peer` as a provider of every key (a node that left).
    public func remove(_ peer: PeerID) {
        records.withLockedValue { r in
            for key in r.keys { r[key]?.removeAll { $0.peer == peer } }
        }
    }

    /// The providers of `key`, oldest record first, at most `limit`.
    public func providers(_ key: [UInt8], limit: Int) -> [(peer: PeerID, addresses: [Multiaddr])] {
        records.withLockedValue { Array(($0[key] ?? []).prefix(max(0, limit))) }
    }
}

/// One host's view of a `LocalProviderTable`.
struct LocalProviderRouting: ProviderRouting {
    let table: LocalProviderTable
    let host: P2PHost

    func provide(_ key: [UInt8]) async throws {
        table.add(key, peer: host.peerID, addresses: host.addresses.map(\.withoutPeer))
    }

    func findProviders(_ key: [UInt8], limit: Int) async throws -> [PeerID] {
        table.providers(key, limit: limit).map { record in
            if record.peer != host.peerID { host.addAddresses(record.addresses, for: record.peer) }
            return record.peer
        }
    }
}
