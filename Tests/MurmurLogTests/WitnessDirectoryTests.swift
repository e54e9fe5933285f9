import Foundation
import MurmurLogHTTP
import MurmurTestSupport
import Testing
@testable import MurmurLog

/// A witness's state survives a restart: the latest cosigned checkpoint per log is persisted (atomically)
/// before the cosignature is returned, so a restarted witness still answers 409 to a stale old size.
@Suite(.ownThreads) struct WitnessDirectoryTests {
    @Test func stateSurvivesRestart() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let wpath = dir.appendingPathComponent("w").path
        let created = try WitnessDirectory.create(path: wpath, name: "witness.test/d")
        #expect(throws: LogStoreError.self) { try WitnessDirectory.create(path: wpath, name: "witness.test/d") }
        #expect(try created.verifierKey().type == .cosignatureV1)
        let keyMode = try FileManager.default.attributesOfItem(atPath: wpath + "/witness.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        let signer = try NoteSigner(name: "murmur.test/d", seed: Array(repeating: 1, count: 32))
        let log = try TileLog(storage: SQLiteLogStorage(path: dir.appendingPathComponent("log.db").path), origin: "murmur.test/d")
        try log.append((0..<7).map { [UInt8]("e\($0)") })
        let cp7 = try log.checkpoint(signer: signer)

        let first = try WitnessService(directory: WitnessDirectory(path: wpath), logs: [signer.verifierKey])
        #expect(await first.addCheckpoint(body: WitnessTests.body(old: 0, proof: [], note: cp7), now: 10).status == 200)

        // "Restart": a new service from the same directory knows size 7.
        let second = try WitnessService(directory: WitnessDirectory(path: wpath), logs: [signer.verifierKey])
        #expect(await second.sizes() == ["murmur.test/d": 7])
        let stale = await second.addCheckpoint(body: WitnessTests.body(old: 0, proof: [], note: cp7), now: 11)
        #expect(stale.status == 409 && stale.body == "7\n")
        try log.append((7..<20).map { [UInt8]("e\($0)") })
        let cp20 = try log.checkpoint(signer: signer)
        #expect(await second.addCheckpoint(body: WitnessTests.body(old: 7, proof: try log.consistencyProof(from: 7), note: cp20), now: 12).status == 200)
        #expect(try WitnessDirectory(path: wpath).load(logs: [signer.verifierKey]).latest["murmur.test/d"]?.size == 20)
        // No temporary files are left behind.
        let files = try FileManager.default.contentsOfDirectory(atPath: wpath + "/state")
        #expect(files.count == 1 && files[0].hasSuffix(".note"))

        // A different key for the same origin cannot take over the stored state.
        let impostor = try NoteSigner(name: "murmur.test/d", seed: Array(repeating: 2, count: 32))
        #expect(throws: NoteError.self) { try WitnessDirectory(path: wpath).load(logs: [impostor.verifierKey]) }
    }

    @Test func equivocationEvidenceIsStored() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let wpath = dir.appendingPathComponent("w").path
        try WitnessDirectory.create(path: wpath, name: "witness.test/e")
        let signer = try NoteSigner(name: "murmur.test/e", seed: Array(repeating: 1, count: 32))
        let honest = try TileLog(storage: SQLiteLogStorage(path: dir.appendingPathComponent("h.db").path), origin: "murmur.test/e")
        let fork = try TileLog(storage: SQLiteLogStorage(path: dir.appendingPathComponent("f.db").path), origin: "murmur.test/e")
        try honest.append((0..<4).map { [UInt8]("e\($0)") })
        try fork.append((0..<4).map { [UInt8]($0 == 1 ? "evil" : "e\($0)") })
        let service = try WitnessService(directory: WitnessDirectory(path: wpath), logs: [signer.verifierKey])
        let a = try honest.checkpoint(signer: signer), b = try fork.checkpoint(signer: signer)
        #expect(await service.addCheckpoint(body: WitnessTests.body(old: 0, proof: [], note: a), now: 1).status == 200)
        // Same size, other root: c2sp.org/tlog-witness answers 409, and the witness keeps the evidence.
        let r = await service.addCheckpoint(body: WitnessTests.body(old: 4, proof: [], note: b), now: 2)
        #expect(r.status == 409 && r.body == "4\n")
        let files = try FileManager.default.contentsOfDirectory(atPath: wpath + "/evidence")
        #expect(files.count == 1)
        let stored = try Note(parsing: Array(try #require(FileManager.default.contents(atPath: wpath + "/evidence/" + files[0]))))
        #expect(try EquivocationEvidence(note: stored).verify() == signer.verifierKey)
    }

    @Test func atomicFileReplaces() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.appendingPathComponent("f").path
        try AtomicFile.write(Array("one".utf8), to: p, mode: 0o644)
        try AtomicFile.write(Array("two".utf8), to: p, mode: 0o644)
        try AtomicFile.write([], to: dir.appendingPathComponent("empty").path, mode: 0o644)
        #expect(FileManager.default.contents(atPath: p) == Data("two".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["empty", "f"])
        #expect(throws: LogStoreError.self) { try AtomicFile.write([1], to: dir.path + "/missing/dir/f", mode: 0o644) }
    }
}
