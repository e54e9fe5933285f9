import MurmurCore

/// The server side of `/ipfs/kad/1.0.0`: answers FIND_NODE, GET_VALUE, PUT_VALUE, ADD_PROVIDER,
/// GET_PROVIDERS and PING on inbound streams.
///
/// Spec: libp2p/specs kad-dht/README.md, "RPC messages". A stream may carry several requests
/// in turn (go and py send one); any malformed or invalid request resets the stream.
extension Kademlia {
    /// Largest key accepted in ADD_PROVIDER (py-libp2p's limit; a multihash is ~34 bytes).
    static let maxProviderKey = 80

    /// Serves one inbound kad stream until the peer closes it.
    func serve(_ stream: P2PStream) async throws {
        guard let peer = stream.connection.remotePeer else {
            await stream.reset()
            return
        }
        var decoder = LengthPrefixedDecoder(maxLength: KademliaMessage.maxFrameLength)
        do {
            while let request = try await KademliaRPC.readMessage(stream, decoder: &decoder) {
                if let response = try handle(request, from: peer) {
                    try await stream.write(LengthPrefixedDecoder.frame(response.encoded))
                }
            }
            try await stream.closeWrite()
        } catch {
            await stream.reset()
            throw error
        }
    }

    /// The answer to `request` from `peer` (nil: none is sent, as for ADD_PROVIDER).
    func handle(_ request: KademliaMessage, from peer: PeerID) throws -> KademliaMessage? {
        switch request.type {
        case .ping:
            return KademliaMessage(type: .ping)
        case .findNode:
            guard !request.key.isEmpty else { throw KademliaError.unexpectedResponse("FIND_NODE without a key") }
            var closer = closerPeers(to: request.key, excluding: peer)
            // Spec: the target itself is included when known, even if it is not a DHT server.
            if let target = try? PeerID(multihashBytes: request.key), target != peer, let entry = peerEntry(target) {
                closer.removeAll { $0.id == entry.id }
                closer.insert(entry, at: 0)
            }
            return KademliaMessage(type: .findNode, key: request.key, closerPeers: closer)
        case .getValue:
            guard !request.key.isEmpty, request.key.count <= records.maxKeySize else {
                throw KademliaError.invalidRecord("GET_VALUE key of \(request.key.count) bytes")
            }
            return KademliaMessage(
                type: .getValue, key: request.key, record: records.get(request.key),
                closerPeers: closerPeers(to: request.key, excluding: peer))
        case .putValue:
            guard let record = request.record, record.key == request.key else {
                throw KademliaError.invalidRecord("PUT_VALUE needs a record whose key is the message key")
            }
            try records.put(key: record.key, value: record.value)
            return KademliaMessage(type: .putValue, key: request.key, record: records.get(record.key) ?? record)
        case .addProvider:
            guard !request.key.isEmpty, request.key.count <= Self.maxProviderKey else {
                throw KademliaError.invalidRecord("ADD_PROVIDER key of \(request.key.count) bytes")
            }
            // Spec: only the sender may announce itself.
            for p in request.providerPeers where p.peerID == peer {
                let addrs = p.multiaddrs
                if !addrs.isEmpty { host.addAddresses(addrs, for: peer) }
                try providers.add(key: request.key, peer: peer, addresses: addrs.isEmpty ? host.addresses(for: peer) : addrs)
            }
            return nil
        case .getProviders:
            guard !request.key.isEmpty, request.key.count <= 128 else {
                throw KademliaError.invalidRecord("GET_PROVIDERS key of \(request.key.count) bytes")
            }
            let found = providers.providers(for: request.key).suffix(configuration.k).map { p in
                KademliaPeer(peer: p.peer, addresses: p.addresses.isEmpty ? addresses(of: p.peer) : p.addresses, connection: connection(to: p.peer))
            }
            return KademliaMessage(
                type: .getProviders, key: request.key, closerPeers: closerPeers(to: request.key, excluding: peer),
                providerPeers: Array(found))
        }
    }

    /// Our addresses for `peer` (our listen addresses for ourselves).
    func addresses(of peer: PeerID) -> [Multiaddr] {
        peer == host.peerID ? host.addresses.map(\.withoutPeer) : host.addresses(for: peer)
    }

    private func connection(to peer: PeerID) -> KademliaPeer.Connection {
        if peer == host.peerID || !host.connections(to: peer).isEmpty { return .connected }
        return host.addresses(for: peer).isEmpty ? .notConnected : .canConnect
    }

    private func peerEntry(_ peer: PeerID) -> KademliaPeer? {
        let addrs = addresses(of: peer)
        return addrs.isEmpty ? nil : KademliaPeer(peer: peer, addresses: addrs, connection: connection(to: peer))
    }

    /// The k peers of our routing table nearest `key` that we can give addresses for, minus `excluded`.
    func closerPeers(to key: [UInt8], excluding excluded: PeerID) -> [KademliaPeer] {
        table.closest(to: KademliaKey(key), count: configuration.k + 1)
            .filter { $0 != excluded }
            .prefix(configuration.k)
            .compactMap { peerEntry($0) }
    }
}
