import Foundation
import MurmurCore
import MurmurLedger
import MurmurLog
import MurmurLogHTTP
import Testing
@testable import MurmurNode

/// A node started in-process on loopback, answering every endpoint.
@Suite("Node HTTP API", .timeLimit(.minutes(3)))
struct NodeAPITests {
    @Test("status, models, ledger, rounds, log tiles and metrics answer")
    func readEndpoints() async throws {
        let dir = temporaryFolder("api")
        defer { cleanup(dir) }
        let cid = try writeTestModel(to: dir + "/model")
        let node = try Node(config: testConfig(dir, models: [dir + "/model"]), logger: quietLogger)
        let identity = Identity()
        try node.context.recordRound(RoundSummary(round: 1, status: .completed, model: cid, participants: 3, accuracy: 0.5))
        let outcomes = try await node.context.ledger.append([
            LedgerRecord.sign(Genesis(federation: "test", members: [identity.peerID.description], coordinators: [identity.peerID.description]), by: identity),
        ])
        #expect(outcomes.allSatisfy { $0.accepted })
        try await withRunningNode(node) { e in
            let base = e.http
            #expect(e.p2p.first?.description.contains("/p2p/\(node.context.identity.peerID)") == true)

            let status = try await http("GET", base.appending(path: "v1/status"))
            #expect(status.status == 200)
            #expect(status.object["peer_id"] as? String == node.context.identity.peerID.description)
            #expect(status.object["roles"] as? [String] == ["client", "verifier"])
            #expect((status.object["log"] as? [String: Any])?["size"] as? Int == 1)
            #expect(status.object["models"] as? Int == 1)

            let models = try await http("GET", base.appending(path: "v1/models"))
            #expect(((models.object["models"] as? [[String: Any]])?.first?["cid"] as? String) == cid)
            let model = try await http("GET", base.appending(path: "v1/models/\(cid)"))
            #expect(model.status == 200)
            // The manifest is served verbatim: its CID recomputes to the one asked for.
            let manifest = try JSONSerialization.data(withJSONObject: model.object["manifest"] as Any, options: [.sortedKeys, .withoutEscapingSlashes])
            #expect(CID.json(Array(try CanonicalJSON.encode(CanonicalJSON.parse(Array(manifest))))).description == cid)
            let weights = try await http("GET", base.appending(path: "v1/models/\(cid)/weights"))
            #expect(weights.status == 200 && weights.body.count == model.object["weights_bytes"] as? Int)
            #expect(try await http("GET", base.appending(path: "v1/models/\(CID.raw([1, 2, 3]))")).status == 404)
            #expect(try await http("GET", base.appending(path: "v1/models/not-a-cid")).status == 400)

            let ledger = try await http("GET", base.appending(path: "v1/ledger/state"))
            #expect(ledger.status == 200)
            #expect(ledger.object["size"] as? Int == 1)
            #expect((ledger.object["state"] as? [String: Any])?["federation"] as? String == "test")
            #expect((ledger.object["checkpoint"] as? String)?.hasPrefix(node.context.ledger.origin + "\n1\n") == true)

            let rounds = try await http("GET", base.appending(path: "v1/rounds"))
            let list = rounds.object["rounds"] as? [[String: Any]]
            #expect(list?.count == 1 && list?.first?["status"] as? String == "completed" && list?.first?["model"] as? String == cid)
            #expect(try await http("GET", base.appending(path: "v1/rounds").appending(queryItems: [.init(name: "limit", value: "0")])).status == 400)

            // The log's tlog-tiles API is mounted at the root.
            let cp = try await http("GET", base.appending(path: "checkpoint"))
            #expect(cp.status == 200 && cp.text.hasPrefix(node.context.ledger.origin + "\n1\n"))
            #expect(try await http("GET", base.appending(path: "tile/0/000.p/1")).status == 200)
            #expect(try await http("GET", base.appending(path: "tile/entries/000.p/1")).status == 200)
            #expect(try await http("GET", base.appending(path: "tile/0/x")).status == 400)
            // A tlog-tiles client pointed at the node verifies the ledger entry's inclusion under the signed checkpoint.
            let client = try TileClient(baseURL: base, logKey: VerifierKey(node.context.ledger.verifierKey))
            let (_, checkpoint) = try await client.checkpoint()
            let entry = try await client.entry(at: 0, checkpoint: checkpoint)
            #expect(try await client.verifyInclusion(index: 0, entry: entry).size == 1)
            #expect(String(decoding: entry, as: UTF8.self).hasPrefix(LedgerEntry.format + " 0 "))

            let missing = try await http("GET", base.appending(path: "v1/nothing"))
            #expect(missing.status == 404 && (missing.object["error"] as? [String: Any])?["code"] as? String == "not_found")

            let metrics = try await http("GET", base.appending(path: "metrics"))
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("murmur_http_requests_total{route=\"/v1/status\",method=\"GET\",status=\"200\"} 1"), "\(metrics.text)")
            #expect(metrics.text.contains("murmur_http_requests_total{route=\"/v1/models/{cid}\",method=\"GET\",status=\"404\"} 1"))
            #expect(metrics.text.contains("murmur_http_requests_total{route=\"/checkpoint\",method=\"GET\",status=\"200\"} 3"))  // the test and the tile client
            #expect(metrics.text.contains("murmur_rounds_completed 1"))
            #expect(metrics.text.contains("murmur_log_entries 1"))
            #expect(metrics.text.contains("murmur_peers_connected 0"))
        }
    }

    @Test("infer returns signed receipts that verify; a tampered one is rejected with a reason")
    func inferVerify() async throws {
        let dir = temporaryFolder("infer")
        defer { cleanup(dir) }
        let cid = try writeTestModel(to: dir + "/model")
        let node = try Node(config: testConfig(dir, models: [dir + "/model"]), logger: quietLogger)
        try await withRunningNode(node) { e in
            let rows: [[Double]] = [[0.1, 0.2, 0.3, 0.4], [1, -1, 0.5, 2]]
            let infer = try await http("POST", e.http.appending(path: "v1/infer"), json: ["features": rows, "k": 2])
            #expect(infer.status == 200, "\(infer.text)")
            #expect(infer.object["model"] as? String == cid)
            let results = try #require(infer.object["results"] as? [[String: Any]])
            #expect(results.count == 2)
            let receipts = results.compactMap { $0["receipt"] as? [String: Any] }
            #expect(receipts.count == 2)
            #expect(receipts.allSatisfy { $0["device"] as? String == node.context.identity.peerID.description })

            let ok = try await http("POST", e.http.appending(path: "v1/verify"), json: ["receipts": receipts, "features": rows])
            #expect(ok.status == 200, "\(ok.text)")
            #expect(ok.object["accepted"] as? Int == 2 && ok.object["rejected"] as? Int == 0)

            // The same receipts against swapped inputs: the input digest does not match.
            let bad = try await http("POST", e.http.appending(path: "v1/verify"), json: ["receipts": receipts, "features": [rows[1], rows[0]]])
            #expect(bad.object["rejected"] as? Int == 2)
            let reasons = (bad.object["verdicts"] as? [[String: Any]])?.compactMap { $0["reason"] as? String }
            #expect(reasons?.count == 2 && reasons?.first?.isEmpty == false)
        }
    }

    @Test("bad input gets 4xx JSON errors naming the field")
    func badInput() async throws {
        let dir = temporaryFolder("bad")
        defer { cleanup(dir) }
        _ = try writeTestModel(to: dir + "/model")
        let node = try Node(config: testConfig(dir, models: [dir + "/model"]), logger: quietLogger)
        try await withRunningNode(node) { e in
            let url = e.http.appending(path: "v1/infer")
            func code(_ a: HTTPAnswer) -> String? { (a.object["error"] as? [String: Any])?["code"] as? String }
            func message(_ a: HTTPAnswer) -> String { ((a.object["error"] as? [String: Any])?["message"] as? String) ?? "" }

            let missing = try await http("POST", url, json: ["k": 2])
            #expect(missing.status == 400 && message(missing).contains("features"), "\(missing.text)")
            let wrongType = try await http("POST", url, json: ["features": "abc"])
            #expect(wrongType.status == 400 && message(wrongType).contains("'features' must be a list"), "\(wrongType.text)")
            let notJSON = try await http("POST", url, body: Data("{nope".utf8))
            #expect(notJSON.status == 400 && code(notJSON) == "invalid_json")
            let empty = try await http("POST", url, body: Data())
            #expect(empty.status == 400 && code(empty) == "empty_body")
            let ragged = try await http("POST", url, json: ["features": [[1, 2, 3, 4], [1]]])
            #expect(ragged.status == 400)
            let width = try await http("POST", url, json: ["features": [[1, 2, 3]]])
            #expect(width.status == 422 && code(width) == "wrong_width")
            let k = try await http("POST", url, json: ["features": [[1, 2, 3, 4]], "k": 99])
            #expect(k.status == 400 && message(k).contains("'k'"))
            let mode = try await http("POST", url, json: ["features": [[1, 2, 3, 4]], "mode": "slow"])
            #expect(mode.status == 400)
            let unknown = try await http("POST", url, json: ["features": [[1, 2, 3, 4]], "model": CID.raw([9]).description])
            #expect(unknown.status == 404 && code(unknown) == "unknown_model")
            let huge = try await http("POST", url, body: Data(repeating: 0x20, count: 65 * 1024))
            #expect(huge.status == 413 && code(huge) == "body_too_large")
            let mismatch = try await http("POST", e.http.appending(path: "v1/verify"), json: ["receipts": ["x"], "features": [[1], [2]]])
            #expect(mismatch.status == 400)
            let garbage = try await http("POST", e.http.appending(path: "v1/verify"), json: ["receipts": ["not a receipt"], "features": [[1, 2, 3, 4]]])
            #expect(garbage.status == 200 && garbage.object["rejected"] as? Int == 1)
            let wrongMethod = try await http("GET", url)
            #expect(wrongMethod.status == 405 && wrongMethod.headers["allow"] == "POST")
        }
    }

    @Test("admin endpoints: 401 without a token, 403 with a wrong one; add-peer connects; shutdown stops the node")
    func admin() async throws {
        let dir = temporaryFolder("admin")
        defer { cleanup(dir) }
        let a = try Node(config: testConfig(dir + "/a"), logger: quietLogger)
        let b = try Node(config: testConfig(dir + "/b"), logger: quietLogger)
        let bRun = Task { try await b.run() }
        let bEnd = try await withDeadline(seconds: 20, "node b start") { try await b.waitUntilStarted() }
        let aRun = Task { try await a.run() }
        let aEnd = try await withDeadline(seconds: 20, "node a start") { try await a.waitUntilStarted() }
        let peersURL = aEnd.http.appending(path: "v1/admin/peers")
        let target = ["address": bEnd.p2p[0].description]

        let none = try await http("POST", peersURL, json: target)
        #expect(none.status == 401 && none.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        #expect(try await http("POST", peersURL, json: target, token: "wrong-token-wrong-token").status == 403)
        #expect(try await http("POST", peersURL, json: ["address": "/ip4/1.2.3.4/tcp/1"], token: a.adminToken).status == 400)

        let added = try await http("POST", peersURL, json: target, token: a.adminToken)
        #expect(added.status == 200, "\(added.text)")
        #expect(added.object["peer_id"] as? String == b.context.identity.peerID.description)
        // Both sides see the connection; b's /v1/peers lists a, a's book keeps b's dialable address.
        let seen = try await eventually {
            let p = try await http("GET", bEnd.http.appending(path: "v1/peers"))
            return (p.object["connected"] as? [[String: Any]])?.contains { $0["peer_id"] as? String == a.context.identity.peerID.description } == true
        }
        #expect(seen)
        let book = try a.context.store.peers()
        #expect(book.first?.peerID == b.context.identity.peerID.description && book.first?.addresses.isEmpty == false)
        let metrics = try await http("GET", aEnd.http.appending(path: "metrics"))
        #expect(metrics.text.contains("murmur_peers_connected 1"))
        #expect(metrics.text.contains("route=\"/v1/admin/peers\",method=\"POST\",status=\"401\""))

        #expect(try await http("POST", aEnd.http.appending(path: "v1/admin/shutdown")).status == 401)
        let stop = try await http("POST", aEnd.http.appending(path: "v1/admin/shutdown"), token: a.adminToken)
        #expect(stop.status == 202)
        try await withDeadline(seconds: 20, "admin shutdown") { try await aRun.value }
        await b.shutdown()
        try await withDeadline(seconds: 20, "node b stop") { try await bRun.value }
    }

    @Test("a second node started with the first as bootstrap peer shows up in /v1/peers")
    func bootstrap() async throws {
        let dir = temporaryFolder("boot")
        defer { cleanup(dir) }
        let a = try Node(config: testConfig(dir + "/a"), logger: quietLogger)
        try await withRunningNode(a) { ae in
            let b = try Node(config: testConfig(dir + "/b", bootstrap: [ae.p2p[0].description]), logger: quietLogger)
            try await withRunningNode(b) { _ in
                let seen = try await eventually {
                    let p = try await http("GET", ae.http.appending(path: "v1/peers"))
                    return (p.object["connected"] as? [[String: Any]])?.first?["peer_id"] as? String == b.context.identity.peerID.description
                }
                #expect(seen)
                let status = try await http("GET", ae.http.appending(path: "v1/status"))
                #expect(status.object["peers_connected"] as? Int == 1)
            }
        }
    }
}
