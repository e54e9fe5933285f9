import MurmurCore

extension GossipsubRouter {
    /// One heartbeat: mesh maintenance (D_lo ≤ |mesh| ≤ D_hi, D_out outbound, negative scores
    /// out, opportunistic grafting), fanout upkeep, IHAVE gossip, cache shifts and score decay.
    ///
    /// Spec: gossipsub-v1.0.md "Heartbeat" and gossipsub-v1.1.md "Outbound Mesh Quotas",
    /// "Opportunistic Grafting", "Flood Publishing", "Adaptive Gossip Dissemination".
    public mutating func heartbeat(now: Double) -> [Action] {
        ticks += 1
        for k in Array(peers.keys) {
            peers[k]?.ihaveReceived = 0
            peers[k]?.iwantAsked = 0
        }
        for (topic, table) in backoff {
            let live = table.filter { $0.value > now }
            backoff[topic] = live.isEmpty ? nil : live
        }
        // Broken IWANT promises are P7 offences.
        for (id, promise) in promises where promise.deadline < now {
            promises[id] = nil
            scores?.addPenalty(promise.peer)
        }
        scores?.refresh(now: now)

        for topic in mesh.keys.sorted() { maintainMesh(topic, now: now) }
        maintainFanout(now: now)
        for topic in mesh.keys.sorted() { emitGossip(topic, exclude: mesh[topic] ?? [], now: now) }
        for topic in fanout.keys.sorted() { emitGossip(topic, exclude: fanout[topic] ?? [], now: now) }

        mcache.shift()
        seen.expire(now: now)
        if ticks % parameters.historyLength == 0 { retransmissions = [:] }
        return flush()
    }

    private mutating func maintainMesh(_ topic: String, now: Double) {
        var members = mesh[topic] ?? []
        // Negative scores leave the mesh (PRUNE without PX).
        for p in sorted(members) where score(p, now: now) < 0 {
            members.remove(p)
            scores?.prune(p, topic: topic)
            sendPrune(p, topic, backoff: parameters.pruneBackoff, now: now, px: false)
        }
        mesh[topic] = members
        if members.count < parameters.dLow {
            let add = random(candidates(topic, now: now) { !members.contains($0) && self.score($0, now: now) >= 0 })
            for p in add.prefix(parameters.d - members.count) { graft(p, topic, now: now) }
        } else if members.count > parameters.dHigh {
            shrinkMesh(topic, now: now)
        }
        members = mesh[topic] ?? []
        // Outbound quota: top up with outbound peers when the mesh has too few of them.
        let outbound = members.filter { peers[$0]?.outbound ?? false }.count
        if members.count >= parameters.dLow, outbound < parameters.dOut {
            let add = random(candidates(topic, now: now) {
                !members.contains($0) && (self.peers[$0]?.outbound ?? false) && self.score($0, now: now) >= 0
            })
            for p in add.prefix(parameters.dOut - outbound) { graft(p, topic, now: now) }
        }
        if ticks % parameters.opportunisticGraftTicks == 0, let scores, members.count > 1 {
            let ranked = members.map { scores.score($0, now: now) }.sorted()
            let median = ranked[ranked.count / 2]
            if median < scores.parameters.opportunisticGraftThreshold {
                let add = random(candidates(topic, now: now) { !members.contains($0) && scores.score($0, now: now) > median })
                for p in add.prefix(parameters.opportunisticGraftPeers) { graft(p, topic, now: now) }
            }
        }
    }

    /// Keeps the D_score best-scoring peers, fills to D at random, keeps D_out outbound; prunes the rest.
    private mutating func shrinkMesh(_ topic: String, now: Double) {
        var members = sorted(mesh[topic] ?? [])
        shuffle(&members)
        members.sort { score($0, now: now) > score($1, now: now) }  // stable: ties stay shuffled
        var keep = Array(members.prefix(parameters.dScore))
        var rest = Array(members.dropFirst(parameters.dScore))
        shuffle(&rest)
        keep += rest.prefix(max(parameters.d - keep.count, 0))
        var removed = members.filter { !keep.contains($0) }
        let states = peers
        let isOut = { (p: PeerID) in states[p]?.outbound ?? false }
        var outbound = keep.filter(isOut).count
        if outbound < parameters.dOut {
            for candidate in removed where isOut(candidate) && outbound < parameters.dOut {
                // Swap the candidate in for the lowest-ranked inbound peer outside the D_score head.
                guard let victim = keep.lastIndex(where: { !isOut($0) }), victim >= parameters.dScore else { break }
                removed.append(keep[victim])
                keep[victim] = candidate
                removed.removeAll { $0 == candidate }
                outbound += 1
            }
        }
        mesh[topic] = Set(keep)
        for p in sorted(removed) {
            scores?.prune(p, topic: topic)
            sendPrune(p, topic, backoff: parameters.pruneBackoff, now: now)
        }
    }

    private mutating func maintainFanout(now: Double) {
        let threshold = scores?.parameters.publishThreshold ?? -.infinity
        for topic in fanout.keys.sorted() {
            if (fanoutPublished[topic] ?? now) + parameters.fanoutTTL < now {
                fanout[topic] = nil
                fanoutPublished[topic] = nil
                continue
            }
            var members = (fanout[topic] ?? []).filter { (peers[$0]?.topics.contains(topic) ?? false) && score($0, now: now) >= threshold }
            if members.count < parameters.d {
                let add = random(candidates(topic, now: -.infinity) { !members.contains($0) && self.score($0, now: now) >= threshold })
                members.formUnion(add.prefix(parameters.d - members.count))
            }
            fanout[topic] = members
        }
    }

    /// IHAVE to max(D_lazy, gossip_factor × eligible) topic peers outside `exclude`.
    private mutating func emitGossip(_ topic: String, exclude: Set<PeerID>, now: Double) {
        var ids = mcache.gossipIDs(topic: topic)
        guard !ids.isEmpty else { return }
        let threshold = scores?.parameters.gossipThreshold ?? -.infinity
        let eligible = random(candidates(topic, now: -.infinity) { !exclude.contains($0) && self.score($0, now: now) >= threshold })
        let target = max(parameters.dLazy, Int(parameters.gossipFactor * Double(eligible.count)))
        if ids.count > parameters.maxIHaveLength {
            shuffle(&ids)
            ids = Array(ids.prefix(parameters.maxIHaveLength))
        }
        for p in eligible.prefix(target) {
            queue(p, PubsubRPC(control: PubsubControl(ihave: [.init(topic: topic, messageIDs: ids)])))
        }
    }
}
