import Foundation
import Hummingbird
import MurmurLogHTTP
import Testing
@testable import MurmurLog
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The HTTP API on a real socket (127.0.0.1, port 0): tlog-tiles paths, content types and cache headers,
/// tlog-witness add-checkpoint statuses, and 4xx (never a crash) for malformed paths and bodies.
@Suite(.timeLimit(.minutes(3))) struct LogRoutesTests {
    struct Reply: Sendable {
        var status: Int
        var body: [UInt8]
        var headers: [String: String]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func request(_ url: URL, _ path: String, post: [UInt8]? = nil) async throws -> Reply {
        var r = URLRequest(url: URL(string: url.absoluteString + path)!)
        r.timeoutInterval = 10
        if let post { r.httpMethod = "POST"; r.httpBody = Data(post) }
        let (data, response) = try await URLSession.shared.data(for: r)
        let http = try #require(response as? HTTPURLResponse)
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers["\(k)".lowercased()] = "\(v)" }
        return Reply(status: http.statusCode, body: Array(data), headers: headers)
    }

    /// A log of `n` entries `e0…` with a published checkpoint, plus its signer.
    static func makeLog(_ n: Int, origin: String = "murmur.test/http") throws -> (TileLog, NoteSigner, URL) {
        let dir = temporaryDirectory()
        let signer = try NoteSigner(name: origin, seed: Array(repeating: 3, count: 32))
        let log = try TileLog(storage: SQLiteLogStorage(path: dir.appendingPathComponent("log.db").path), origin: origin)
        try log.append((0..<n).map { [UInt8]("e\($0)") })
        _ = try log.checkpoint(signer: signer)
        return (log, signer, dir)
    }

    @Test func servesCheckpointTilesAndBundles() async throws {
        let (log, signer, dir) = try Self.makeLog(70_000 / 100)  // 700 entries: 2 full level-0 tiles + a partial
        defer { try? FileManager.default.removeItem(at: dir) }
        let expectedFull = try log.resource(TileID(level: 0, index: 1))
        let expectedPartial = try log.resource(TileID(level: 0, index: 2, width: 188))
        let expectedBundle = try log.resource(TileID(entriesAt: 0))
        let note = try log.latestCheckpoint()
        let router = LogRoutes.router(log: LogResources(log: log), witness: nil)
        try await LogServer.withServer(router: router) { url in
            let cp = try await Self.request(url, "/checkpoint")
            #expect(cp.status == 200 && cp.text == note)
            #expect(cp.headers["content-type"] == "text/plain; charset=utf-8")
            #expect(cp.headers["cache-control"]?.contains("no-cache") == true)
            #expect(try Checkpoint.open(Note(parsing: cp.body), verifiers: [signer.verifierKey.verifier()]).size == 700)

            let full = try await Self.request(url, "/tile/0/001")
            #expect(full.status == 200 && full.body == expectedFull && full.body.count == 8192)
            #expect(full.headers["content-type"] == "application/octet-stream")
            #expect(full.headers["cache-control"]?.contains("immutable") == true)
            let partial = try await Self.request(url, "/tile/0/002.p/188")
            #expect(partial.status == 200 && partial.body == expectedPartial)
            let bundle = try await Self.request(url, "/tile/entries/000")
            #expect(bundle.status == 200 && bundle.body == expectedBundle)
            #expect(try EntryBundle.decode(bundle.body).count == 256)
            // Level 1 of a 700-entry tree is a partial tile of width 2.
            #expect(try await Self.request(url, "/tile/1/000.p/2").body.count == 64)

            // Malformed or absent resources are 4xx with a reason.
            for (path, status) in [
                ("/tile/0/1", 400), ("/tile/0/x000/001", 400), ("/tile/00/001", 400), ("/tile/0/001.p/0", 400),
                ("/tile/0/001.p/256", 400), ("/tile/64/000", 400), ("/tile/0/abc", 400), ("/tile/entries/x1/000", 400),
                ("/tile/0/003", 404), ("/tile/0/002", 404), ("/tile/0/002.p/189", 404), ("/tile/2/000.p/1", 404),
                ("/tile/0/x999/x999/x999/x999/x999/x999/x999/999", 400), ("/nothing", 404),
            ] {
                let r = try await Self.request(url, path)
                #expect(r.status == status, "\(path): \(r.status) \(r.text)")
            }
            // No witness mounted here.
            #expect(try await Self.request(url, "/add-checkpoint", post: Array("old 0\n\n".utf8)).status == 404)
        }
    }

    /// A second writer of the same database, owned by an actor so the server's task can drive it.
    actor Writer {
        let log: TileLog
        init(log: sending TileLog) { self.log = log }
        func append(_ entries: [[UInt8]], signer: NoteSigner) throws -> String {
            try log.append(entries)
            return try log.checkpoint(signer: signer).serialized
        }
    }

    @Test func servesEntriesAppendedAfterStart() async throws {
        let (log, signer, dir) = try Self.makeLog(3)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A second writer (another process in real use) appends and publishes after the server opened the log.
        let writer = Writer(log: try TileLog(storage: SQLiteLogStorage(path: dir.appendingPathComponent("log.db").path)))
        let router = LogRoutes.router(log: LogResources(log: log), witness: nil)
        try await LogServer.withServer(router: router) { url in
            #expect(try await Self.request(url, "/tile/0/000.p/5").status == 404)
            let cp = try await writer.append([[UInt8]("e3"), [UInt8]("e4")], signer: signer)
            #expect(try await Self.request(url, "/tile/0/000.p/5").status == 200)
            #expect(try await Self.request(url, "/checkpoint").text == cp)
        }
    }

    @Test func witnessEndpointAnswersPerSpec() async throws {
        let (log, signer, dir) = try Self.makeLog(5)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cosigner = try Cosigner(name: "witness.test/http", seed: Array(repeating: 4, count: 32))
        let service = WitnessService(witness: Witness(cosigner: cosigner, logs: [signer.verifierKey]), directory: nil)
        let cp5 = try log.checkpoint(signer: signer)
        try log.append((5..<9).map { [UInt8]("e\($0)") })
        let cp9 = try log.checkpoint(signer: signer)
        let proof = try log.consistencyProof(from: 5)
        let router = LogRoutes.router(log: nil, witness: service)
        try await LogServer.withServer(router: router) { url in
            let ok = try await Self.request(url, "/add-checkpoint", post: WitnessTests.body(old: 0, proof: [], note: cp5))
            #expect(ok.status == 200 && ok.text.hasPrefix("\u{2014} witness.test/http "))
            var cosigned = cp5
            cosigned.signatures.append(try NoteSignature(line: ok.text.dropLast()))
            #expect(try WitnessPolicy(logKey: signer.verifierKey, witnesses: [cosigner.verifierKey], quorum: 1).accept(cosigned).size == 5)

            let conflict = try await Self.request(url, "/add-checkpoint", post: WitnessTests.body(old: 0, proof: [], note: cp9))
            #expect(conflict.status == 409 && conflict.text == "5\n" && conflict.headers["content-type"] == "text/x.tlog.size")
            let badProof = try await Self.request(url, "/add-checkpoint", post: WitnessTests.body(old: 5, proof: Array(proof.reversed()), note: cp9))
            #expect(badProof.status == 422)
            #expect(try await Self.request(url, "/add-checkpoint", post: WitnessTests.body(old: 5, proof: proof, note: cp9)).status == 200)
            #expect(try await Self.request(url, "/add-checkpoint", post: WitnessTests.body(old: 10, proof: [], note: cp9)).status == 400)
            let stranger = try NoteSigner(name: "murmur.test/other", seed: Array(repeating: 5, count: 32))
            let other = Checkpoint(origin: "murmur.test/other", size: 1, root: RFC9162.leafHash([1])).text
            #expect(try await Self.request(url, "/add-checkpoint", post: WitnessTests.body(old: 0, proof: [], note: Note(text: other, signatures: [stranger.sign(text: other)]))).status == 404)
            let wrongKey = try stranger.sign(text: cp9.text).signature
            let forged = Note(text: cp9.text, signatures: [NoteSignature(name: signer.name, keyID: signer.verifierKey.keyID, signature: wrongKey)])
            #expect(try await Self.request(url, "/add-checkpoint", post: WitnessTests.body(old: 9, proof: [], note: forged)).status == 403)
            for junk in ["", "old\n\n", "old 9\nnot-base64\n\nx\n", String(repeating: "A", count: 1000)] {
                #expect(try await Self.request(url, "/add-checkpoint", post: Array(junk.utf8)).status == 400, "\(junk.prefix(20))")
            }
            let huge = [UInt8](repeating: 0x41, count: LogRoutes.maxBodyBytes + 1)
            #expect(try await Self.request(url, "/add-checkpoint", post: huge).status == 413)
        }
        #expect(await service.sizes() == ["murmur.test/http": 9])
    }
}
