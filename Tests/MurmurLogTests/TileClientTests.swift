import Foundation
import Hummingbird
import MurmurLogHTTP
import Testing
@testable import MurmurLog

/// The tile-only client against an honest server and against servers that lie (a flipped tile hash, a
/// truncated tile, a checkpoint signed by someone else): every lie is a typed error, never a pass.
@Suite(.timeLimit(.minutes(3))) struct TileClientTests {
    /// How a test server misbehaves.
    enum Lie: Sendable { case none, flipTileByte, truncateTile, foreignCheckpoint, wrongBundle }

    /// Routes like `LogRoutes`, but with one lie applied to what `LogResources` returns.
    static func lyingRouter(_ resources: LogResources, lie: Lie, foreign: NoteSigner) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/checkpoint") { _, _ -> Response in
            var text = try await resources.checkpoint()
            if lie == .foreignCheckpoint {
                let note = try Note(parsing: text)
                let cp = try Checkpoint(text: note.text)
                let fake = Checkpoint(origin: cp.origin, size: cp.size, root: RFC9162.leafHash([9])).text
                let sig = try foreign.sign(text: fake)
                text = Note(text: fake, signatures: [NoteSignature(name: cp.origin, keyID: note.signatures[0].keyID, signature: sig.signature)]).serialized
            }
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/tile/**") { request, _ -> Response in
            let id = try TileID(path: request.uri.path.dropFirst())
            var bytes = try await resources.resource(id)
            switch lie {
            case .flipTileByte where id.level != nil: bytes[bytes.count / 2] ^= 1
            case .truncateTile where id.level != nil: bytes.removeLast(5)
            case .wrongBundle where id.level == nil: bytes = []; try EntryBundle.append([UInt8]("forged"), to: &bytes)
            default: break
            }
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return router
    }

    @Test func verifiesInclusionFromTilesOnly() async throws {
        let (log, signer, dir) = try LogRoutesTests.makeLog(1000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let old = try log.rootHash(size: 300)
        let router = LogRoutes.router(log: LogResources(log: log), witness: nil)
        try await LogServer.withServer(router: router) { url in
            let client = try TileClient(baseURL: url, logKey: signer.verifierKey)
            let (_, cp) = try await client.checkpoint()
            #expect(cp.size == 1000)
            for i: UInt64 in [0, 1, 255, 256, 511, 767, 768, 999] {
                #expect(try await client.verifyInclusion(index: i, entry: [UInt8]("e\(i)")).size == 1000)
                #expect(try await client.entry(at: i, checkpoint: cp) == [UInt8]("e\(i)"))
            }
            await #expect(throws: TileClientError.entryMismatch(index: 7, size: 1000)) {
                try await client.verifyInclusion(index: 7, entry: [UInt8]("e8"))
            }
            await #expect(throws: TileClientError.indexOutOfRange(index: 1000, size: 1000)) {
                try await client.verifyInclusion(index: 1000, entry: [UInt8]("e1000"))
            }
            // Consistency from an older size, built from tiles, checks against both roots.
            _ = try await client.verifyConsistency(oldSize: 300, oldRoot: old, checkpoint: cp)
            await #expect(throws: TileClientError.self) {
                try await client.verifyConsistency(oldSize: 300, oldRoot: RFC9162.leafHash([0]), checkpoint: cp)
            }
            // A policy that wants a witness cosignature refuses the log-only checkpoint.
            let w = try Cosigner(name: "witness.test/c", seed: Array(repeating: 2, count: 32))
            let strict = TileClient(baseURL: url, policy: try WitnessPolicy(logKey: signer.verifierKey, witnesses: [w.verifierKey], quorum: 1))
            await #expect(throws: TileClientError.self) { try await strict.checkpoint() }
        }
    }

    @Test(arguments: [Lie.flipTileByte, .truncateTile, .foreignCheckpoint, .wrongBundle])
    func lyingServerIsCaught(lie: Lie) async throws {
        let (log, signer, dir) = try LogRoutesTests.makeLog(600)
        defer { try? FileManager.default.removeItem(at: dir) }
        let foreign = try NoteSigner(name: "murmur.test/http", seed: Array(repeating: 8, count: 32))
        let router = Self.lyingRouter(LogResources(log: log), lie: lie, foreign: foreign)
        try await LogServer.withServer(router: router) { url in
            let client = try TileClient(baseURL: url, logKey: signer.verifierKey)
            do {
                let (_, cp) = try await client.checkpoint()
                _ = try await client.verifyInclusion(index: 300, leaf: RFC9162.leafHash([UInt8]("e300")), checkpoint: cp)
                _ = try await client.entry(at: 301, checkpoint: cp)
                Issue.record("a server lying with \(lie) was believed")
            } catch let error as TileClientError {
                switch (lie, error) {
                case (.flipTileByte, .tilesDoNotMatchCheckpoint), (.truncateTile, .malformedTile),
                     (.foreignCheckpoint, .badCheckpoint), (.wrongBundle, .malformedTile):
                    break
                default: Issue.record("\(lie) gave \(error)")
                }
            } catch {
                Issue.record("\(lie) gave an untyped \(error)")
            }
        }
    }

    @Test func plansOnlyTheTilesAProofNeeds() {
        // A 70,000-entry tree (the tlog-tiles example): entry 5 needs its level-0 tile, level-1 and the level-2 partial.
        let ids = TileProofPlan.inclusion(index: 5, size: 70_000)
        #expect(ids.contains(TileID(level: 0, index: 0)))
        #expect(ids.allSatisfy { $0.level != nil })
        #expect(ids.count <= 4)
        #expect(TileProofPlan.inclusion(index: 0, size: 1) == [TileID(level: 0, index: 0, width: 1)])
    }
}
