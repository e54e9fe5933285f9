import Foundation
import MurmurCore
import MurmurP2P

/// MurmurP2P's `BlockStore` over the node's block index (`node_block` in node.sqlite), so the aggregator
/// serves the models it stored over `/murmur/blocks/1`.
/// Why: model distribution by CID (issue 11, item 2) without a second copy of the blocks.
///
/// A model's manifest is named by a json-codec CID; `/murmur/blocks/1` fetches a json root as a chunk
/// list, so a client asks for the manifest under the raw-codec CID with the same multihash (the same
/// bytes and digest), which this store answers from the json-named block.
public struct NodeBlockStore: BlockStore {
    /// The node's database.
    public let store: NodeStore

    /// A block store over `store`.
    public init(_ store: NodeStore) { self.store = store }

    /// The bytes of `cid` (or of its json-codec twin for a raw CID), checked against the digest.
    public func get(_ cid: CID) async throws -> [UInt8]? {
        var bytes = try store.block(cid.description)
        if bytes == nil, cid.codec == CID.rawCodec {
            bytes = try store.block(CID(codec: CID.jsonCodec, multihash: cid.multihash).description)
        }
        guard let bytes else { return nil }
        return try Block(verifying: bytes, as: cid).bytes
    }

    /// Stores a verified block.
    public func put(_ block: Block) async throws { try store.putBlock(block.bytes, cid: block.cid, kind: "block") }

    /// Whether `cid` (or its json twin) is held.
    public func has(_ cid: CID) async throws -> Bool { try await get(cid) != nil }
}

/// Provider routing that names fixed peers (the aggregator that announced a model), for a fetch
/// that knows where the blocks are. Why: the federation has no DHT; the announcer provides its models.
public struct FixedProviderRouting: ProviderRouting {
    /// The providers, in the order asked.
    public let peers: [PeerID]

    /// Routing to `peers`.
    public init(_ peers: [PeerID]) { self.peers = peers }

    /// Nothing to announce: the peers are fixed.
    public func provide(_ key: [UInt8]) async throws {}

    /// The fixed peers.
    public func findProviders(_ key: [UInt8], limit: Int) async throws -> [PeerID] { Array(peers.prefix(limit)) }
}
