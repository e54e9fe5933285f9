import MurmurCore

/// Where to find peers that hold content: the DHT's provider records (or a test double).
public protocol ProviderRouting: Sendable {
    /// Announces that this node holds the content named by `key` (a CID's multihash bytes).
    func provide(_ key: [UInt8]) async throws
    /// Peers that announced `key`, at most `limit`, with their addresses added to the host's address book.
    func findProviders(_ key: [UInt8], limit: Int) async throws -> [PeerID]
}
