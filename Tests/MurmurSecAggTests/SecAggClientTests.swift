import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurSecAgg

/// An honest client against a malicious or confused server.
@Suite(.ownThreads) struct SecAggClientTests {
    @Test func refusesToRevealBothSecretsOfOneClient() throws {
        let r = try TestRound(n: 8, k: 4, t: 3)
        var d = try DrivenRound(r, skipInput: [5])
        let holder = r.config.graph.neighbors[5][0]
        let survivors = (0..<8).filter { $0 != 5 }
        // Listing 5 as both survivor and dropped would yield b_5 and s_5^SK shares at once.
        #expect(throws: SecAggError.conflictingUnmaskRequest(client: 5)) {
            try d.clients[holder].receive(.unmaskRequest(round: 7, recipient: holder, survivors: survivors + [5], dropped: [5]))
        }
        // Listing the asked client itself as dropped would expose its own input.
        #expect(throws: SecAggError.conflictingUnmaskRequest(client: holder)) {
            try d.clients[holder].receive(.unmaskRequest(round: 7, recipient: holder, survivors: survivors.filter { $0 != holder }, dropped: [5, holder]))
        }
        // The honest request is answered once; a second request with the other view is refused.
        let first = try d.clients[holder].receive(.unmaskRequest(round: 7, recipient: holder, survivors: survivors, dropped: [5]))
        guard case .unmaskResponse(_, _, let selfShares, let keyShares)? = first.messages.first else {
            Issue.record("no response")
            return
        }
        #expect(keyShares.map(\.owner) == [5])
        #expect(!selfShares.map(\.owner).contains(5))
        #expect(throws: SecAggError.unexpectedMessage(kind: "UnmaskRequest", stage: "finished")) {
            try d.clients[holder].receive(.unmaskRequest(round: 7, recipient: holder, survivors: survivors + [5], dropped: []))
        }
    }

    @Test func rejectsForgedNeighbourKeys() throws {
        let r = try TestRound(n: 6, k: 4, t: 3)
        var clients = try r.clients()
        var server = SecAggServer(config: r.config)
        for i in clients.indices { for m in try clients[i].start().messages { _ = try server.receive(m) } }
        guard case .keyRoster(let round, let recipient, var keys) = try server.closeStage().messages[0] else {
            Issue.record("no roster")
            return
        }
        let victim = keys[0]
        // A key swapped by the server (man in the middle): the signature no longer verifies.
        var tampered = victim.encryptionKey
        tampered[0] ^= 1
        keys[0] = AdvertisedKeys(round: round, sender: victim.sender, encryptionKey: tampered, maskKey: victim.maskKey, signature: victim.signature)
        #expect(throws: SecAggError.badSignature(client: victim.sender)) {
            try clients[recipient].receive(.keyRoster(round: round, recipient: recipient, keys: keys))
        }
        #expect(clients[recipient].state == .advertised)
        // Keys of a non-neighbour are refused.
        let stranger = (0..<6).first { $0 != recipient && !r.config.graph.areNeighbors(recipient, $0) }
        if let stranger {
            let fake = AdvertisedKeys(round: round, sender: stranger, encryptionKey: victim.encryptionKey, maskKey: victim.maskKey, signature: victim.signature)
            #expect(throws: SecAggError.notNeighbors(recipient, stranger)) {
                try clients[recipient].receive(.keyRoster(round: round, recipient: recipient, keys: [fake]))
            }
        }
    }

    @Test func rejectsTamperedSharesAndMisroutedOrReplayedMessages() throws {
        let r = try TestRound(n: 6, k: 4, t: 3)
        var clients = try r.clients()
        var server = SecAggServer(config: r.config)
        for i in clients.indices { for m in try clients[i].start().messages { _ = try server.receive(m) } }
        let rosters = try server.closeStage().messages
        for m in rosters { for out in try clients[m.client].receive(m).messages { _ = try server.receive(out) } }
        let bundles = try server.closeStage().messages
        guard case .shareBundle(let round, let u, var shares) = bundles[0] else {
            Issue.record("no bundle")
            return
        }
        let original = shares[0]
        var box = original.ciphertext
        box[box.count - 1] ^= 0x80
        shares[0] = EncryptedShare(sender: original.sender, recipient: u, ciphertext: box)
        #expect(throws: SecAggError.decryptionFailed(from: original.sender)) {
            try clients[u].receive(.shareBundle(round: round, recipient: u, shares: shares))
        }
        // A box re-labelled as coming from another neighbour fails authentication (AAD binds sender).
        let other = shares.first { $0.sender != original.sender }
        if let other {
            let relabelled = [EncryptedShare(sender: other.sender, recipient: u, ciphertext: original.ciphertext)]
            #expect(throws: SecAggError.decryptionFailed(from: other.sender)) {
                try clients[u].receive(.shareBundle(round: round, recipient: u, shares: relabelled))
            }
        }
        #expect(throws: SecAggError.wrongRound(expected: 7, got: 6)) {
            try clients[u].receive(.shareBundle(round: 6, recipient: u, shares: bundlesShares(bundles[0])))
        }
        #expect(throws: SecAggError.wrongRecipient(expected: u, got: u + 1)) {
            try clients[u].receive(.shareBundle(round: round, recipient: u + 1, shares: bundlesShares(bundles[0])))
        }
        // The genuine bundle is accepted; replaying it (or the roster) afterwards is refused.
        _ = try clients[u].receive(bundles[0])
        #expect(throws: SecAggError.unexpectedMessage(kind: "ShareBundle", stage: "sentInput")) { try clients[u].receive(bundles[0]) }
        #expect(throws: SecAggError.unexpectedMessage(kind: "KeyRoster", stage: "sentInput")) {
            try clients[u].receive(rosters.first { $0.client == u }!)
        }
    }

    @Test func rejectsInputOfWrongLengthOrIdentity() throws {
        let r = try TestRound(n: 4, k: 3, t: 2)
        #expect(throws: SecAggError.self) { try SecAggClient(index: 0, identity: r.identities[0], config: r.config, input: [1]) }
        #expect(throws: SecAggError.self) { try SecAggClient(index: 0, identity: r.identities[1], config: r.config, input: r.inputs[0]) }
        #expect(throws: SecAggError.unknownClient(9)) { try SecAggClient(index: 9, identity: r.identities[0], config: r.config, input: r.inputs[0]) }
    }

    private func bundlesShares(_ m: SecAggMessage) -> [EncryptedShare] {
        if case .shareBundle(_, _, let s) = m { return s }
        return []
    }
}
