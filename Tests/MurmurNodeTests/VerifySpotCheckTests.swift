import Foundation
import MurmurCore
import MurmurLedger
import MurmurML
import MurmurP2P
import MurmurVerify
import Testing
@testable import MurmurNode

/// The verifier role (issue 11 item 1, issue 10 item 4) between nodes on loopback: an honest
/// inference node, one that forges the output of about half its receipts, and a verifier that
/// holds no model (it fetches it by CID over `/murmur/blocks/1`), pulls their receipts on
/// `/murmur/receipts/1` and re-executes every one (`spot_check_percent = 100`).
@Suite("Verifier role: spot checks between nodes", .timeLimit(.minutes(3)))
struct VerifySpotCheckTests {
    /// `count` seeded rows of 4 features in [−1, 1).
    static func rows(_ count: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededRNG(seed: seed)
        return (0..<count).map { _ in (0..<4).map { _ in Float(rng.nextDouble() * 2 - 1) } }
    }

    /// Runs `POST /v1/infer` on `base`; returns the receipt lines.
    static func infer(_ base: URL, _ rows: [[Float]]) async throws -> [String] {
        let answer = try await http("POST", base.appending(path: "v1/infer"), json: ["features": rows, "k": 2])
        try #require(answer.status == 200, "infer: \(answer.text)")
        let results = try #require(answer.object["results"] as? [[String: Any]])
        return try results.map { r in
            let data = try JSONSerialization.data(withJSONObject: try #require(r["receipt"]), options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: CanonicalJSON.encode(try CanonicalJSON.parse(Array(data))), as: UTF8.self)
        }
    }

    /// A checker of every receipt with a fixed seed and deadlines with room for a loaded machine
    /// (the node's own loop waits an hour: the tests run the batches themselves).
    static func checker(_ node: Node) -> SpotChecker {
        var settings = SpotChecker.Settings(interval: .seconds(3600), fraction: 1, seed: 7)
        settings.requestDeadline = .seconds(30)
        return SpotChecker(context: node.context, settings: settings)
    }

    static func config(_ dir: String, roles: [NodeRole], models: [String]) -> NodeConfig {
        var c = testConfig(dir, models: models)
        c.roles = roles
        c.spotCheckInterval = 3600  // the test runs the batches itself
        c.spotCheckPercent = 100
        return c
    }

    @Test("a liar's forged receipts are caught, recorded in the ledger and scored; an honest node's are not")
    func liarIsCaught() async throws {
        let dir = temporaryFolder("spot-check")
        defer { cleanup(dir) }
        let cid = try writeTestModel(to: dir + "/model")
        let honest = try Node(config: Self.config(dir + "/honest", roles: [.client], models: [dir + "/model"]), logger: quietLogger)
        let liar = try Node(config: Self.config(dir + "/liar", roles: [.client], models: [dir + "/model"]), logger: quietLogger)
        liar.context.receipts.lie(share: 0.5, seed: 11)
        let verifier = try Node(config: Self.config(dir + "/verifier", roles: [.verifier], models: []), logger: quietLogger)
        let checker = Self.checker(verifier)
        #expect(try verifier.context.store.model(cid) == nil)
        let honestID = honest.context.identity.peerID.description, liarID = liar.context.identity.peerID.description

        try await withRunningNode(honest) { h in
            try await withRunningNode(liar) { l in
                try await withRunningNode(verifier) { v in
                    let inputs = Self.rows(16, seed: 5)
                    let honestLines = try await Self.infer(h.http, inputs)
                    let liarLines = try await Self.infer(l.http, inputs)
                    // What the verifier must find: the liar's receipts that do not re-execute.
                    let held = try #require(try honest.context.store.model(cid))
                    var local = ReceiptVerifier(models: [cid: try Network(config: held.manifest.config, safetensors: held.weights)])
                    let forged = zip(liarLines, inputs).filter { (try? local.verify(line: $0, input: $1).get()) == nil }.count
                    #expect(forged > 0 && forged < 16, "the lie hook forged \(forged) of 16")
                    #expect(zip(honestLines, inputs).allSatisfy { (try? local.verify(line: $0, input: $1).get()) != nil })

                    for e in [h, l] { _ = try await verifier.context.host.connect(try #require(e.p2p.first)) }
                    let records = await checker.checkOnce()
                    let byDevice = Dictionary(uniqueKeysWithValues: records.map { ($0.device, $0) })
                    #expect(byDevice[honestID] == ReputationRecord(device: honestID, checked: 16, failed: 0, reasons: []))
                    #expect(byDevice[liarID] == ReputationRecord(device: liarID, checked: 16, failed: forged, reasons: ["output_mismatch"]))
                    // The verifier fetched the model by CID from the devices.
                    #expect(try verifier.context.store.model(cid) != nil)

                    // The ledger: the verifier's genesis, then one reputation record per device, all accepted.
                    let state = await verifier.context.ledger.state
                    #expect(state.entries == 3 && state.accepted == 3, "rejections: \(state.rejections)")
                    #expect(state.reputation[honestID] == 16)
                    #expect(state.reputation[liarID] == (16 - forged) - 20 * forged)

                    // The liar is scored down; the honest node is not.
                    #expect(verifier.context.peerGuard.scores.score(liarID) < 0)
                    #expect(verifier.context.peerGuard.scores.score(honestID) == 0)

                    // GET /v1/spot-checks shows both.
                    let answer = try await http("GET", v.http.appending(path: "v1/spot-checks"))
                    #expect(answer.status == 200)
                    #expect(answer.object["verifier"] as? Bool == true && answer.object["percent"] as? Int == 100)
                    let devices = try #require(answer.object["devices"] as? [[String: Any]])
                    let shownLiar = try #require(devices.first { $0["device"] as? String == liarID }, "\(answer.text)")
                    #expect(shownLiar["checked"] as? Int == 16 && shownLiar["failed"] as? Int == forged)
                    #expect(shownLiar["reasons"] as? [String] == ["output_mismatch"])
                    #expect(shownLiar["reputation"] as? Int == (16 - forged) - 20 * forged)
                    #expect((shownLiar["last_check"] as? Int ?? 0) > 0)
                    let shownHonest = try #require(devices.first { $0["device"] as? String == honestID })
                    #expect(shownHonest["failed"] as? Int == 0 && shownHonest["reputation"] as? Int == 16)

                    // The next batch pulls only receipts issued since.
                    #expect(await checker.checkOnce().isEmpty)
                    _ = try await Self.infer(h.http, Self.rows(3, seed: 6))
                    let next = await checker.checkOnce()
                    #expect(next == [ReputationRecord(device: honestID, checked: 3, failed: 0, reasons: [])])
                    #expect(try verifier.context.store.spotChecks().first { $0.device == honestID }?.checked == 19)

                    // An inference node without the verifier role has no spot checks.
                    let none = try await http("GET", h.http.appending(path: "v1/spot-checks"))
                    #expect(none.object["verifier"] as? Bool == false && (none.object["devices"] as? [Any])?.isEmpty == true)
                }
            }
        }
    }

    @Test("a receipt whose model the verifier cannot get counts as model unavailable, not against the device")
    func modelUnavailable() async throws {
        let dir = temporaryFolder("spot-check-unavailable")
        defer { cleanup(dir) }
        // A bare libp2p device: it serves its receipts but not its model (no /murmur/blocks/1).
        let identity = Identity()
        let store = try NodeStore(path: dir + "/device.sqlite")
        let net = try Network(config: ModelConfig(architecture: .logisticRegression, inputShape: [4], classCount: 3), seed: 99)
        let cid = try ModelArtifact(network: net).manifest.cid().description
        let inputs = Self.rows(3, seed: 4)
        var nonces = SeededRNG(seed: 1)
        let results = try InferenceProver(network: net, modelCID: cid, identity: identity, k: 2).run(features: inputs.flatMap { $0 }, count: 3, nonces: &nonces)
        try store.appendReceipts(zip(results, inputs).map { (line: $0.receipt.jsonLine, input: $1) }, keep: 10)
        var hostConfig = P2PHost.Configuration()
        hostConfig.handlers[ReceiptsProtocol.id] = { try await ReceiptsProtocol.serve($0, store: store) }
        let device = P2PHost(identity: identity, configuration: hostConfig)
        let listener = try await device.listen(Multiaddr("/ip4/127.0.0.1/tcp/0"))
        let verifier = try Node(config: Self.config(dir + "/verifier", roles: [.verifier], models: []), logger: quietLogger)
        let checker = Self.checker(verifier)
        let id = identity.peerID.description
        try await withRunningNode(verifier) { _ in
            _ = try await verifier.context.host.connect(try #require(device.addresses.first))
            #expect(await checker.checkOnce().isEmpty)
            let tally = try #require(try verifier.context.store.spotChecks().first { $0.device == id })
            #expect(tally.modelUnavailable == 3 && tally.checked == 0 && tally.failed == 0 && tally.cursor == 3)
            #expect(verifier.context.peerGuard.scores.score(id) == 0)
            #expect(await verifier.context.ledger.state.entries == 0)
            for c in device.connections(to: verifier.context.identity.peerID) { await c.close() }
        }
        try? await listener.close()
    }

    @Test("spot_check_interval and spot_check_percent load from TOML and are range-checked")
    func configKeys() throws {
        let dir = temporaryFolder("spot-check-config")
        defer { cleanup(dir) }
        let file = dir + "/node.toml"
        try "roles = [\"verifier\"]\nspot_check_interval = 5\nspot_check_percent = 25\n".write(toFile: file, atomically: true, encoding: .utf8)
        let c = try ConfigFile.load(file)
        #expect(c.spotCheckInterval == 5 && c.spotCheckPercent == 25)
        #expect(SpotChecker.Settings.from(c).fraction == 0.25 && SpotChecker.Settings.from(c).interval == .seconds(5))
        #expect(NodeConfig().spotCheckInterval == 10 && NodeConfig().spotCheckPercent == 10)
        for (text, key) in [("spot_check_percent = 101\n", "spot_check_percent"), ("spot_check_interval = 0\n", "spot_check_interval")] {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            #expect { try ConfigFile.load(file) } throws: { e in
                guard case .config(_, let k, _) = e as? NodeError else { return false }
                return k == key
            }
        }
    }

    @Test("the verifier's own loop runs every spot_check_interval")
    func periodicChecks() async throws {
        let dir = temporaryFolder("spot-check-loop")
        defer { cleanup(dir) }
        _ = try writeTestModel(to: dir + "/model")
        let device = try Node(config: Self.config(dir + "/device", roles: [.client], models: [dir + "/model"]), logger: quietLogger)
        var vc = Self.config(dir + "/verifier", roles: [.verifier], models: [dir + "/model"])
        vc.spotCheckInterval = 1
        let verifier = try Node(config: vc, logger: quietLogger)
        let deviceID = device.context.identity.peerID.description
        try await withRunningNode(device) { d in
            try await withRunningNode(verifier) { _ in
                _ = try await Self.infer(d.http, Self.rows(5, seed: 9))
                _ = try await verifier.context.host.connect(try #require(d.p2p.first))
                let seen = try await eventually(seconds: 30) { try verifier.context.store.spotChecks().first { $0.device == deviceID }?.checked == 5 }
                let tallies = try verifier.context.store.spotChecks()
                #expect(seen, "\(tallies)")
            }
        }
    }
}
