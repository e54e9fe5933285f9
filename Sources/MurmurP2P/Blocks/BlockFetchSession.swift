import MurmurCore

/// Which provider to ask for which missing blocks during one fetch, and who has failed.
///
/// Blocks wait in `pending` until a worker takes a batch for the least-loaded live provider
/// that has not said "don't have" for them. A provider that fails (wrong bytes, closed
/// connection, timeout, malformed frame) is dropped for the rest of the fetch and its unfinished
/// blocks go back to `pending` for the others.
actor BlockFetchSession {
    private var live: [PeerID]
    private var load: [PeerID: Int] = [:]
    private var pending: [Int]
    private var refusedBy: [Int: Set<PeerID>] = [:]
    private(set) var failures: [String] = []
    private(set) var done = 0

    /// A session over `providers` for blocks `0 ..< count`.
    init(providers: [PeerID], count: Int) {
        live = providers
        pending = Array(0..<count)
    }

    /// Providers not dropped yet.
    var liveProviders: [PeerID] { live }

    /// Resets the work list to blocks `0 ..< count` (a new phase: manifest, then chunks); the
    /// live providers and failure reasons carry over.
    func restart(count: Int) {
        pending = Array(0..<count)
        refusedBy = [:]
        done = 0
    }

    /// Up to `max` pending blocks for one provider, or nil when nothing is left that a live
    /// provider has not refused (the caller's worker then stops).
    func assign(max: Int) -> (peer: PeerID, indices: [Int])? {
        for first in pending {
            let refused = refusedBy[first] ?? []
            guard let peer = live.filter({ !refused.contains($0) }).min(by: { load[$0, default: 0] < load[$1, default: 0] }) else {
                continue
            }
            var batch: [Int] = []
            for i in pending where batch.count < max && !(refusedBy[i]?.contains(peer) ?? false) { batch.append(i) }
            pending.removeAll { batch.contains($0) }
            load[peer, default: 0] += 1
            return (peer, batch)
        }
        return nil
    }

    /// Block `index` arrived verified.
    func delivered(_ index: Int) { done += 1 }

    /// `peer` does not hold block `index`: another provider may.
    func refused(_ index: Int, by peer: PeerID) {
        refusedBy[index, default: []].insert(peer)
        pending.append(index)
    }

    /// A request to `peer` ended; `unfinished` blocks go back to the list.
    func finished(_ peer: PeerID, unfinished: [Int]) {
        load[peer, default: 1] -= 1
        pending += unfinished
    }

    /// `peer` misbehaved or went away: drop it; `unfinished` blocks go back to the list.
    func failed(_ peer: PeerID, reason: String, unfinished: [Int]) {
        load[peer, default: 1] -= 1
        pending += unfinished
        if live.contains(peer) {
            live.removeAll { $0 == peer }
            failures.append("\(peer): \(reason)")
        }
    }
}
