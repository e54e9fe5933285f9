import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurLog

/// The tlog-witness add-checkpoint rules (200, 400, 403, 404, 409, 422) and equivocation evidence.
@Suite(.ownThreads) struct WitnessTests {
    static func body(old: UInt64, proof: [LogHash], note: Note) -> [UInt8] {
        Array(("old \(old)\n" + proof.map { $0.base64 + "\n" }.joined() + "\n" + note.serialized).utf8)
    }

    @Test func cosignsOnlyConsistentCheckpoints() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let signer = try NoteSigner(name: "murmur.test/w", seed: Array(repeating: 9, count: 32))
        let log = try TileLog(storage: SQLiteLogStorage(path: dir.appendingPathComponent("a.db").path), origin: "murmur.test/w")
        let cosigner = try Cosigner(name: "witness.test/1", seed: Array(repeating: 8, count: 32))
        var w = Witness(cosigner: cosigner, logs: [signer.verifierKey])
        try log.append((0..<5).map { [UInt8]("e\($0)") })
        let cp5 = try log.checkpoint(signer: signer)
        var r = w.addCheckpoint(body: Self.body(old: 0, proof: [], note: cp5), now: 1_700_000_000)
        #expect(r.status == 200)
        // The answer is a cosignature line a client appends to the note; the policy then accepts it.
        var cosigned = cp5
        cosigned.signatures.append(try NoteSignature(line: r.body.dropLast()))
        let policy = try WitnessPolicy(logKey: signer.verifierKey, witnesses: [cosigner.verifierKey], quorum: 1)
        #expect(try policy.accept(cosigned).size == 5)
        #expect(Cosignature.timestamp(of: cosigned.signatures[1].signature) == 1_700_000_000)

        try log.append((5..<13).map { [UInt8]("e\($0)") })
        let cp13 = try log.checkpoint(signer: signer)
        // Wrong old size → 409 with the witness's size.
        r = w.addCheckpoint(body: Self.body(old: 0, proof: [], note: cp13), now: 1_700_000_001)
        #expect(r.status == 409 && r.body == "5\n" && r.contentType == "text/x.tlog.size")
        // A bad proof → 422; the right one → 200.
        let proof = try log.consistencyProof(from: 5)
        var bad = proof
        bad[0] = RFC9162.leafHash([0])
        #expect(w.addCheckpoint(body: Self.body(old: 5, proof: bad, note: cp13), now: 2).status == 422)
        #expect(w.addCheckpoint(body: Self.body(old: 5, proof: proof, note: cp13), now: 3).status == 200)
        // Unknown origin → 404, bad signature → 403, garbage → 400.
        let stranger = try NoteSigner(name: "other.test/log")
        let cpOther = Checkpoint(origin: "other.test/log", size: 1, root: RFC9162.leafHash([1])).text
        #expect(w.addCheckpoint(body: Self.body(old: 0, proof: [], note: Note(text: cpOther, signatures: [try stranger.sign(text: cpOther)])), now: 4).status == 404)
        var forged = cp13
        forged.signatures[0].signature[0] ^= 1
        #expect(w.addCheckpoint(body: Self.body(old: 13, proof: [], note: forged), now: 5).status == 403)
        #expect(w.addCheckpoint(body: Array("hello".utf8), now: 6).status == 400)
        #expect(w.addCheckpoint(body: Array("old 01\n\n".utf8) + Array(cp13.serialized.utf8), now: 6).status == 400)
    }

    @Test func equivocationIsProvable() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let signer = try NoteSigner(name: "murmur.test/e", seed: Array(repeating: 7, count: 32))
        let honest = try TileLog(storage: SQLiteLogStorage(path: dir.appendingPathComponent("h.db").path), origin: "murmur.test/e")
        let fork = try TileLog(storage: SQLiteLogStorage(path: dir.appendingPathComponent("f.db").path), origin: "murmur.test/e")
        try honest.append((0..<6).map { [UInt8]("e\($0)") })
        try fork.append((0..<6).map { [UInt8]($0 == 2 ? "evil" : "e\($0)") })
        let a = try honest.checkpoint(signer: signer), b = try fork.checkpoint(signer: signer)
        let reporter = try Cosigner(name: "witness.test/2", seed: Array(repeating: 6, count: 32))
        // Same size, different roots.
        let e1 = try EquivocationEvidence.make(logKey: signer.verifierKey, first: a, second: b, proof: [], reporter: reporter)
        #expect(try e1.verify() == signer.verifierKey)
        // Size 6 (honest) vs a size-9 fork whose own proof shows it never contained the honest size-6 tree.
        try fork.append((6..<9).map { [UInt8]("e\($0)") })
        let b9 = try fork.checkpoint(signer: signer)
        var w = Witness(cosigner: reporter, logs: [signer.verifierKey])
        #expect(w.addCheckpoint(body: WitnessTests.body(old: 0, proof: [], note: a), now: 1).status == 200)
        let forkProof = try fork.consistencyProof(from: 6)
        #expect(w.addCheckpoint(body: WitnessTests.body(old: 6, proof: forkProof, note: b9), now: 2).status == 422)
        #expect(w.evidence.count == 1)
        let parsed = EquivocationEvidence(note: try Note(parsing: w.evidence[0].note.serialized))
        #expect(try parsed.verify() == signer.verifierKey)
        // Honest checkpoints are not evidence.
        #expect(throws: NoteError.self) { try EquivocationEvidence.make(logKey: signer.verifierKey, first: a, second: a, proof: [], reporter: reporter) }
    }
}
