import MurmurCore
import NIOConcurrencyHelpers

/// The client side: iterative lookups and the operations built on them.
///
/// Spec: libp2p/specs kad-dht/README.md, "Peer routing", "Value storage and retrieval",
/// "Content provider advertisement and discovery".
extension Kademlia {
    /// Runs an iterative lookup of `key` sending `request` to each peer; `onReply` sees every
    /// answer and returns true to stop early. Returns the k closest peers that answered.
    func lookup(
        _ key: [UInt8], request: KademliaMessage,
        onReply: @escaping @Sendable (PeerID, KademliaMessage) -> Bool = { _, _ in false }
    ) async throws -> [PeerID] {
        let target = KademliaKey(key)
        let seeds = table.closest(to: target, count: configuration.k)
        guard !seeds.isEmpty else { throw KademliaError.noPeers }
        let host = host
        let timeout = configuration.requestTimeout
        let local = host.peerID
        let start = KademliaLookup(target: target, seeds: seeds, local: local, k: configuration.k, alpha: configuration.alpha)
        let finished = await start.run { peer in
            do {
                guard let response = try await KademliaRPC.exchange(host: host, peer: peer, request, expectResponse: true, timeout: timeout) else {
                    throw KademliaError.unexpectedResponse("no response")
                }
                var closer: [PeerID] = []
                for entry in response.closerPeers {
                    guard let id = entry.peerID, id != local else { continue }
                    let addrs = entry.multiaddrs
                    if !addrs.isEmpty { host.addAddresses(addrs, for: id) }
                    if !addrs.isEmpty || !host.connections(to: id).isEmpty { closer.append(id) }
                }
                await self.add(peer)
                return KademliaLookup.Reply(closer: closer, stop: onReply(peer, response))
            } catch {
                await self.failed(peer)
                throw error
            }
        }
        return finished.closest
    }

    /// The k peers nearest `key` in the network (FIND_NODE lookup), nearest first.
    public func closestPeers(_ key: [UInt8]) async throws -> [PeerID] {
        try await lookup(key, request: KademliaMessage(type: .findNode, key: key))
    }

    /// The addresses of `peer`: known ones if it is connected, else from a FIND_NODE lookup.
    ///
    /// Throws `KademliaError.notFound` when no peer in the network knows an address for it.
    public func findPeer(_ peer: PeerID) async throws -> [Multiaddr] {
        if !host.connections(to: peer).isEmpty, !host.addresses(for: peer).isEmpty { return host.addresses(for: peer) }
        let key = peer.multihash.bytes
        _ = try await lookup(key, request: KademliaMessage(type: .findNode, key: key)) { _, response in
            response.closerPeers.contains { $0.id == key && !$0.addrs.isEmpty }
        }
        let found = host.addresses(for: peer)
        guard !found.isEmpty else { throw KademliaError.notFound("no address for peer \(peer)") }
        return found
    }

    /// Stores `key` → `value` here and at the k peers nearest `key`; returns how many of those
    /// accepted it (0 with an empty routing table: `republish()` spreads it later). Throws
    /// `invalidRecord` if the validator rejects it.
    @discardableResult
    public func putValue(_ key: [UInt8], _ value: [UInt8]) async throws -> Int {
        try records.put(key: key, value: value)
        originated[key] = value
        let targets = table.peers.isEmpty ? [] : try await closestPeers(key)
        let request = KademliaMessage(type: .putValue, key: key, record: KademliaRecord(key: key, value: value))
        return await send(request, to: targets)
    }

    /// Sends `request` to each of `peers` at once (at most k); counts those that accepted it.
    private func send(_ request: KademliaMessage, to peers: [PeerID]) async -> Int {
        let host = host
        let timeout = configuration.requestTimeout
        let expect = request.type != .addProvider
        return await withTaskGroup(of: Bool.self) { group in
            for p in peers {
                group.addTask {
                    do {
                        let response = try await KademliaRPC.exchange(host: host, peer: p, request, expectResponse: expect, timeout: timeout)
                        return expect ? response?.key == request.key : true
                    } catch {
                        return false
                    }
                }
            }
            var n = 0
            for await ok in group where ok { n += 1 }
            return n
        }
    }

    /// The best value for `key`: ours and those of up to `getValueQuorum` peers, checked by the
    /// validator and chosen by its `select` (candidates ordered by timeReceived, so latest-wins
    /// picks the most recently stored). With an empty routing table only our own copy counts.
    ///
    /// Peers that returned an outdated value are sent the best one (spec: "entry correction").
    /// Throws `KademliaError.notFound` when no peer has a valid record.
    public func getValue(_ key: [UInt8]) async throws -> [UInt8] {
        let validator = records.validator
        let found = NIOLockedValueBox<[(peer: PeerID?, record: KademliaRecord)]>([])
        if let mine = records.get(key) { found.withLockedValue { $0.append((nil, mine)) } }
        let quorum = max(1, configuration.getValueQuorum)
        let maxValue = records.maxValueSize
        if found.withLockedValue({ $0.count }) < quorum, !table.peers.isEmpty {
            _ = try await lookup(key, request: KademliaMessage(type: .getValue, key: key)) { peer, response in
                guard let r = response.record, r.key == key || r.key.isEmpty, r.value.count <= maxValue,
                    (try? validator.validate(key: key, value: r.value)) != nil
                else { return false }
                return found.withLockedValue { f in
                    f.append((peer, r))
                    return f.count >= quorum
                }
            }
        }
        let candidates = found.withLockedValue { $0 }.sorted { Self.receivedOrder($0.record.timeReceived) < Self.receivedOrder($1.record.timeReceived) }
        guard !candidates.isEmpty else { throw KademliaError.notFound("no peer has a valid record for the key") }
        let best = candidates[validator.select(key: key, values: candidates.map(\.record.value))].record.value
        let outdated = candidates.compactMap { $0.record.value != best ? $0.peer : nil }
        if !outdated.isEmpty {
            let correction = KademliaMessage(type: .putValue, key: key, record: KademliaRecord(key: key, value: best))
            Task { await self.send(correction, to: outdated) }
        }
        return best
    }

    /// A sort key for RFC 3339 times of any fraction length ("…:SS.123Z" vs "…:SS.123456789Z").
    static func receivedOrder(_ time: String) -> String {
        let base = String(time.prefix(19))
        var fraction = ""
        if let dot = time.firstIndex(of: ".") {
            fraction = String(time[time.index(after: dot)...].prefix { $0.isNumber })
        }
        return base + "." + fraction.padding(toLength: 9, withPad: "0", startingAt: 0)
    }

    /// Announces this node as a provider of `key` (a CID's multihash bytes) to the k peers
    /// nearest it, and records it locally; returns how many peers were told (0 with an empty
    /// routing table: `republish()` announces it later).
    @discardableResult
    public func provideCount(_ key: [UInt8]) async throws -> Int {
        let me = host.peerID
        try providers.add(key: key, peer: me, addresses: addresses(of: me))
        provided.insert(key)
        let targets = table.peers.isEmpty ? [] : try await closestPeers(key)
        let entry = KademliaPeer(peer: me, addresses: addresses(of: me), connection: .connected)
        return await send(KademliaMessage(type: .addProvider, key: key, providerPeers: [entry]), to: targets)
    }

    /// Announces this node as a provider of `key` (ProviderRouting).
    public func provide(_ key: [UInt8]) async throws { _ = try await provideCount(key) }

    /// Up to `count` providers of `key` other than us, with addresses (also put in the host's
    /// address book): those we know, then those a GET_PROVIDERS lookup finds (if we have peers).
    public func findProviders(_ key: [UInt8], count: Int) async throws -> [(PeerID, [Multiaddr])] {
        let me = host.peerID
        let host = host
        let found = NIOLockedValueBox<[(PeerID, [Multiaddr])]>([])
        for p in providers.providers(for: key) where p.peer != me {
            if !p.addresses.isEmpty { host.addAddresses(p.addresses, for: p.peer) }
            found.withLockedValue { $0.append((p.peer, p.addresses)) }
        }
        let wanted = max(1, count)
        if found.withLockedValue({ $0.count }) < wanted, !table.peers.isEmpty {
            _ = try await lookup(key, request: KademliaMessage(type: .getProviders, key: key)) { _, response in
                for entry in response.providerPeers {
                    guard let id = entry.peerID, id != me else { continue }
                    let addrs = entry.multiaddrs.map(\.withoutPeer)
                    if !addrs.isEmpty { host.addAddresses(addrs, for: id) }
                    // Every address we know for the provider: the ones this answer names, ones
                    // earlier answers named, and the address book's (a record stored before the
                    // provider's identify finished may carry none or stale ones).
                    let known = host.addresses(for: id).map(\.withoutPeer)
                    found.withLockedValue { f in
                        if let i = f.firstIndex(where: { $0.0 == id }) {
                            for a in addrs + known where !f[i].1.contains(a) { f[i].1.append(a) }
                        } else {
                            var merged: [Multiaddr] = []
                            for a in addrs + known where !merged.contains(a) { merged.append(a) }
                            f.append((id, merged))
                        }
                    }
                }
                return found.withLockedValue { $0.count } >= wanted
            }
        }
        return Array(found.withLockedValue { $0 }.prefix(wanted))
    }

    /// Peers that announced `key`, at most `limit` (ProviderRouting).
    public func findProviders(_ key: [UInt8], limit: Int) async throws -> [PeerID] {
        try await findProviders(key, count: limit).map(\.0)
    }

    /// Puts our values and announces our provider records again, to the peers now nearest them.
    ///
    /// Spec: kad-dht "Content provider advertisement" (go republishes providers every 22 h, records
    /// expire after 36–48 h). Call it periodically; returns how many peers took each kind.
    @discardableResult
    public func republish() async throws -> (values: Int, providers: Int) {
        var values = 0
        var announced = 0
        for (key, value) in originated {
            let targets = table.peers.isEmpty ? [] : try await closestPeers(key)
            values += await send(KademliaMessage(type: .putValue, key: key, record: KademliaRecord(key: key, value: value)), to: targets)
        }
        for key in provided { announced += try await provideCount(key) }
        return (values, announced)
    }
}
