import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurSecAgg

/// The server against replayed, forged and malformed client messages, and its abort paths.
@Suite(.ownThreads) struct SecAggServerTests {
    @Test func rejectsReplayedForgedAndMalformedKeys() throws {
        let r = try TestRound(n: 6, k: 4, t: 3)
        var clients = try r.clients()
        var server = SecAggServer(config: r.config)
        let ad = try clients[0].start().messages[0]
        _ = try server.receive(ad)
        #expect(throws: SecAggError.duplicateMessage(kind: "AdvertiseKeys", sender: 0)) { try server.receive(ad) }
        guard case .advertiseKeys(let keys) = try clients[1].start().messages[0] else { return }
        // Client 2 replays client 1's keys under its own index: the signature binds the sender.
        let stolen = AdvertisedKeys(round: 7, sender: 2, encryptionKey: keys.encryptionKey, maskKey: keys.maskKey, signature: keys.signature)
        #expect(throws: SecAggError.badSignature(client: 2)) { try server.receive(.advertiseKeys(stolen)) }
        // Keys from an earlier round.
        let old = AdvertisedKeys(round: 6, sender: 1, encryptionKey: keys.encryptionKey, maskKey: keys.maskKey, signature: keys.signature)
        #expect(throws: SecAggError.wrongRound(expected: 7, got: 6)) { try server.receive(.advertiseKeys(old)) }
        let short = AdvertisedKeys(round: 7, sender: 1, encryptionKey: [1], maskKey: keys.maskKey, signature: keys.signature)
        #expect(throws: SecAggError.malformed("advertised keys of client 1 have wrong lengths")) { try server.receive(.advertiseKeys(short)) }
        let unknown = AdvertisedKeys(round: 7, sender: 40, encryptionKey: keys.encryptionKey, maskKey: keys.maskKey, signature: keys.signature)
        #expect(throws: SecAggError.unknownClient(40)) { try server.receive(.advertiseKeys(unknown)) }
        _ = try server.receive(.advertiseKeys(keys))
        #expect(server.stageSurvivors == [0, 1])
    }

    @Test func rejectsOutOfStageAndMalformedLaterMessages() throws {
        let r = try TestRound(n: 6, k: 4, t: 3)
        var d = try DrivenRound(r, skipInput: [])
        // Replays of earlier-stage messages are refused in the unmasking stage.
        #expect(throws: SecAggError.unexpectedMessage(kind: "MaskedInput", stage: "collectingUnmasks")) { try d.server.receive(d.masked[0]) }
        // A response carrying a share the sender cannot hold.
        let u = d.requests[0].client
        let stranger = (0..<6).first { $0 != u && !r.config.graph.areNeighbors(u, $0) } ?? u
        let bogus = OwnedShare(owner: stranger, share: ShamirShare(x: UInt64(u + 1), y: [0, 0, 0, 0, 0]))
        #expect(throws: SecAggError.self) {
            try d.server.receive(.unmaskResponse(round: 7, sender: u, selfMaskShares: [bogus], maskKeyShares: []))
        }
        // A mask-key share of a survivor is never accepted (the server must not collect both kinds).
        let neighbour = r.config.graph.neighbors[u][0]
        let keyShare = OwnedShare(owner: neighbour, share: ShamirShare(x: UInt64(u + 1), y: [0, 0, 0, 0, 0]))
        #expect(throws: SecAggError.malformed("client \(u) sent a mask-key share for \(neighbour) it cannot hold")) {
            try d.server.receive(.unmaskResponse(round: 7, sender: u, selfMaskShares: [], maskKeyShares: [keyShare]))
        }
        // The honest flow still completes after the rejected messages.
        for m in d.requests { for out in try d.clients[m.client].receive(m).messages { _ = try d.server.receive(out) } }
        guard case .finished(let result)? = try d.server.closeStage().first else {
            Issue.record("no result")
            return
        }
        #expect(result.sum == r.plainSum(0..<6))
        #expect(throws: SecAggError.self) { try d.server.closeStage() }
    }

    @Test func rejectsMaskedInputOfWrongLengthAndIncompleteShares() throws {
        let r = try TestRound(n: 6, k: 4, t: 3)
        var clients = try r.clients()
        var server = SecAggServer(config: r.config)
        for i in clients.indices { for m in try clients[i].start().messages { _ = try server.receive(m) } }
        let rosters = try server.closeStage().messages
        var outs = [SecAggMessage]()
        for m in rosters { outs += try clients[m.client].receive(m).messages }
        guard case .encryptedShares(let round, let u, let shares) = outs[0] else { return }
        #expect(throws: SecAggError.self) { try server.receive(.encryptedShares(round: round, sender: u, shares: Array(shares.dropFirst()))) }
        #expect(throws: SecAggError.unexpectedMessage(kind: "MaskedInput", stage: "collectingShares")) {
            try server.receive(.maskedInput(round: 7, sender: u, vector: r.inputs[u]))
        }
        for m in outs { _ = try server.receive(m) }
        _ = try server.closeStage()
        #expect(throws: SecAggError.malformed("masked input of client 0 has 3 values, expected 16")) {
            try server.receive(.maskedInput(round: 7, sender: 0, vector: [1, 2, 3]))
        }
    }

    @Test func abortsWhenADroppedClientsKeyCannotBeReconstructed() throws {
        // Client 0 drops after sharing; all but two of its neighbours then miss the unmask stage.
        let r = try TestRound(n: 10, k: 4, t: 3)
        let neighbours = r.config.graph.neighbors[0]
        var dropouts: [Int: SecAggStage] = [0: .maskedInput]
        for v in neighbours.prefix(2) { dropouts[v] = .unmasking }
        do {
            _ = try SecAggSimulation.run(config: r.config, identities: r.identities, inputs: r.inputs, dropouts: dropouts)
            Issue.record("round succeeded without t shares of client 0's key")
        } catch SecAggError.cannotReconstruct(let client, let shares, let threshold) {
            #expect(shares < threshold)
            #expect(client == 0 || r.config.graph.neighbors[client].filter { dropouts[$0] == nil }.count < threshold)
        }
    }

    /// Unmasking on one or several threads gives the same exact sum (the split of mask jobs over
    /// workers does not matter mod 2^b), with dropped clients whose pairwise masks are removed.
    @Test(arguments: [1, 2, 3])
    func unmaskingWorkersAgree(workers: Int) throws {
        let r = try TestRound(n: 9, k: 6, t: 4, dimension: 300)
        var clients = try r.clients()
        var server = SecAggServer(config: r.config, unmaskWorkers: workers)
        for i in clients.indices { for m in try clients[i].start().messages { _ = try server.receive(m) } }
        for m in try server.closeStage().messages { for out in try clients[m.client].receive(m).messages { _ = try server.receive(out) } }
        for m in try server.closeStage().messages where m.client != 2 && m.client != 7 {
            for out in try clients[m.client].receive(m).messages { _ = try server.receive(out) }
        }
        for m in try server.closeStage().messages { for out in try clients[m.client].receive(m).messages { _ = try server.receive(out) } }
        guard case .finished(let result)? = try server.closeStage().first else {
            Issue.record("no result")
            return
        }
        #expect(result.contributors == [0, 1, 3, 4, 5, 6, 8])
        #expect(result.sum == r.plainSum([0, 1, 3, 4, 5, 6, 8]))
    }
}
