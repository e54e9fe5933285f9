import Foundation
import MurmurCore

/// A Kademlia DHT record: a key, its value and when the storing node received it.
///
/// Spec: libp2p/specs kad-dht/README.md, "RPC messages" (`Record`: key = 1, value = 2,
/// timeReceived = 5; the legacy author = 3 and signature = 4 are skipped when decoding),
/// generated from Proto/kad.proto (proto3).
public struct KademliaRecord: Equatable, Sendable {
    /// The record's key (e.g. `/pk/<multihash>` or an application namespace).
    public var key: [UInt8]
    /// The value.
    public var value: [UInt8]
    /// RFC 3339 time the storing node received the record (set by servers, empty on puts).
    public var timeReceived: String

    /// A record of `key` → `value`.
    public init(key: [UInt8], value: [UInt8], timeReceived: String = "") {
        self.key = key
        self.value = value
        self.timeReceived = timeReceived
    }

    /// Decodes a record; unknown fields are skipped.
    public init(decoding bytes: [UInt8]) throws {
        self.init(try Kad_Record(p2pDecoding: bytes, "kad Record"))
    }

    init(_ r: Kad_Record) { self.init(key: Array(r.key), value: Array(r.value), timeReceived: r.timeReceived) }

    /// The generated message (proto3: empty fields are not written).
    var proto: Kad_Record {
        var r = Kad_Record()
        r.key = Data(key)
        r.value = Data(value)
        r.timeReceived = timeReceived
        return r
    }

    /// The encoding (fields in number order; empty fields omitted, as proto3 does).
    public var encoded: [UInt8] { proto.wireBytes }
}

/// A peer as carried in `closerPeers` and `providerPeers`: id, addresses and connection state.
///
/// Spec: kad-dht `Message.Peer` (id = 1, addrs = 2, connection = 3; signedRecord = 4 is skipped).
public struct KademliaPeer: Equatable, Sendable {
    /// What the sender knows about its connection to the peer.
    public enum Connection: Int, Sendable {
        /// No connection, and none recently.
        case notConnected = 0
        /// A live connection.
        case connected = 1
        /// Recently connected (known addresses).
        case canConnect = 2
        /// Recently failed to connect.
        case cannotConnect = 3
    }

    /// The peer id's multihash bytes.
    public var id: [UInt8]
    /// Its addresses as binary multiaddrs.
    public var addrs: [[UInt8]]
    /// Connection state as the sender sees it.
    public var connection: Connection

    /// A peer entry.
    public init(id: [UInt8], addrs: [[UInt8]] = [], connection: Connection = .notConnected) {
        self.id = id
        self.addrs = addrs
        self.connection = connection
    }

    /// A peer entry for `peer` with its addresses.
    public init(peer: PeerID, addresses: [Multiaddr], connection: Connection) {
        self.init(id: peer.multihash.bytes, addrs: addresses.map { $0.withoutPeer.bytes }, connection: connection)
    }

    /// Decodes a peer; at most `maxAddresses` addresses are kept (the rest are dropped).
    public init(decoding bytes: [UInt8], maxAddresses: Int = KademliaMessage.maxAddressesPerPeer) throws {
        try self.init(try Kad_Message.Peer(p2pDecoding: bytes, "kad Message.Peer"), maxAddresses: maxAddresses)
    }

    init(_ p: Kad_Message.Peer, maxAddresses: Int) throws {
        guard !p.id.isEmpty else { throw P2PError.invalidProtobuf("a kad Message.Peer needs an id") }
        let connection: Connection =
            switch p.connection {
            case .connected: .connected
            case .canConnect: .canConnect
            case .cannotConnect: .cannotConnect
            case .notConnected, .UNRECOGNIZED: .notConnected
            }
        self.init(id: Array(p.id), addrs: p.addrs.prefix(maxAddresses).map { Array($0) }, connection: connection)
    }

    /// The generated message (proto3: connection omitted when `notConnected`).
    var proto: Kad_Message.Peer {
        var p = Kad_Message.Peer()
        p.id = Data(id)
        p.addrs = addrs.map { Data($0) }
        p.connection = Kad_Message.ConnectionType(rawValue: connection.rawValue) ?? .notConnected
        return p
    }

    /// The encoding.
    public var encoded: [UInt8] { proto.wireBytes }

    /// The peer id, if `id` is a valid identity or sha2-256 multihash.
    public var peerID: PeerID? { try? PeerID(multihashBytes: id) }

    /// The addresses that parse as multiaddrs (others are ignored, as go-libp2p does).
    public var multiaddrs: [Multiaddr] { addrs.compactMap { try? Multiaddr(bytes: $0) } }
}

/// A kad-dht RPC message (`/ipfs/kad/1.0.0`), request and response alike.
///
/// Spec: libp2p/specs kad-dht/README.md, "RPC messages": type = 1, key = 2, record = 3,
/// closerPeers = 8, providerPeers = 9, clusterLevelRaw = 10. py-libp2p's senderRecord = 11
/// (a signed peer record) is skipped. Decoding is bounded: each list keeps at most
/// `maxPeers` entries, each peer at most `maxAddressesPerPeer` addresses.
public struct KademliaMessage: Equatable, Sendable {
    /// The RPC kind.
    public enum MessageType: Int, Sendable {
        /// Store a record at the receiver.
        case putValue = 0
        /// Fetch a record (and closer peers).
        case getValue = 1
        /// Announce the sender as a provider of `key`.
        case addProvider = 2
        /// Fetch providers of `key` (and closer peers).
        case getProviders = 3
        /// Fetch the peers closest to `key`.
        case findNode = 4
        /// Deprecated liveness check.
        case ping = 5
    }

    /// Peers kept per list when decoding (go and py send at most k = 20, plus the target).
    public static let maxPeers = 64
    /// Addresses kept per peer when decoding.
    public static let maxAddressesPerPeer = 16
    /// The largest frame accepted on a kad stream (py-libp2p's MAX_DHT_MESSAGE_SIZE is 4 MiB).
    public static let maxFrameLength = 4 * 1024 * 1024

    /// The RPC kind.
    public var type: MessageType
    /// The key (a peer id for FIND_NODE, a record key, or a CID's multihash).
    public var key: [UInt8]
    /// The record for PUT_VALUE and GET_VALUE responses.
    public var record: KademliaRecord?
    /// Peers closer to `key` than the responder.
    public var closerPeers: [KademliaPeer]
    /// Providers of `key` (ADD_PROVIDER: the sender itself).
    public var providerPeers: [KademliaPeer]
    /// Unused by the spec; kept for round-trips.
    public var clusterLevelRaw: Int32

    /// A message of `type` for `key`.
    public init(
        type: MessageType, key: [UInt8] = [], record: KademliaRecord? = nil,
        closerPeers: [KademliaPeer] = [], providerPeers: [KademliaPeer] = [], clusterLevelRaw: Int32 = 0
    ) {
        self.type = type
        self.key = key
        self.record = record
        self.closerPeers = closerPeers
        self.providerPeers = providerPeers
        self.clusterLevelRaw = clusterLevelRaw
    }

    /// Decodes a message; throws on malformed protobuf or an unknown message type.
    ///
    /// The caller bounds the frame (`maxFrameLength`); each peer list then keeps its first
    /// `maxPeers` entries, each peer its first `maxAddressesPerPeer` addresses.
    public init(decoding bytes: [UInt8]) throws {
        let m = try Kad_Message(p2pDecoding: bytes, "kad Message")
        guard let type = MessageType(rawValue: m.type.rawValue) else {
            throw P2PError.invalidProtobuf("unknown kad message type \(m.type.rawValue)")
        }
        self.init(
            type: type, key: Array(m.key), record: m.hasRecord ? KademliaRecord(m.record) : nil,
            closerPeers: try m.closerPeers.prefix(Self.maxPeers).map { try KademliaPeer($0, maxAddresses: Self.maxAddressesPerPeer) },
            providerPeers: try m.providerPeers.prefix(Self.maxPeers).map { try KademliaPeer($0, maxAddresses: Self.maxAddressesPerPeer) },
            clusterLevelRaw: m.clusterLevelRaw)
    }

    /// The encoding: fields in number order, proto3 defaults (type 0, empty key, level 0) omitted.
    public var encoded: [UInt8] {
        var m = Kad_Message()
        m.type = Kad_Message.MessageType(rawValue: type.rawValue) ?? .putValue
        m.key = Data(key)
        if let record { m.record = record.proto }
        m.closerPeers = closerPeers.map(\.proto)
        m.providerPeers = providerPeers.map(\.proto)
        m.clusterLevelRaw = clusterLevelRaw
        return m.wireBytes
    }
}
