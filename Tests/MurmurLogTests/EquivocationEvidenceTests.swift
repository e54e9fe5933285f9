import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurLog

/// Equivocation evidence when the older size is a power of two: RFC 9162 omits MTH(D[0:m]) from the proof,
/// so the evidence carries the newer tree's MTH(D[0:m]) and anyone can check it against both signed roots.
@Suite(.ownThreads) struct EquivocationEvidenceTests {
    @Test(arguments: [1, 2, 4, 8, 256])
    func powerOfTwoOldSizeIsProvable(m: Int) throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let signer = try NoteSigner(name: "murmur.test/p", seed: Array(repeating: 5, count: 32))
        let reporter = try Cosigner(name: "witness.test/p", seed: Array(repeating: 6, count: 32))
        let honest = try TileLog(storage: SQLiteLogStorage(path: dir.appendingPathComponent("h.db").path), origin: "murmur.test/p")
        let fork = try TileLog(storage: SQLiteLogStorage(path: dir.appendingPathComponent("f.db").path), origin: "murmur.test/p")
        try honest.append((0..<m).map { [UInt8]("e\($0)") })
        try fork.append((0..<m).map { [UInt8]($0 == m - 1 ? "evil" : "e\($0)") })
        let old = try honest.checkpoint(signer: signer)
        try fork.append((m..<(m + 5)).map { [UInt8]("e\($0)") })
        let newer = try fork.checkpoint(signer: signer)
        let proof = try fork.consistencyProof(from: UInt64(m))

        // Without MTH(D[0:m]) nothing is shown; with it, the fork is proven.
        #expect(throws: (any Error).self) { try EquivocationEvidence.make(logKey: signer.verifierKey, first: old, second: newer, proof: proof, reporter: reporter) }
        let e = try EquivocationEvidence.make(logKey: signer.verifierKey, first: old, second: newer,
                                              proof: [try fork.rootHash(size: UInt64(m))] + proof, reporter: reporter)
        #expect(try EquivocationEvidence(note: Note(parsing: e.note.serialized)).verify() == signer.verifierKey)

        // An honest pair is never evidence, even with the subtree hash supplied.
        try honest.append((m..<(m + 5)).map { [UInt8]("e\($0)") })
        let honestNewer = try honest.checkpoint(signer: signer)
        let honestProof = [try honest.rootHash(size: UInt64(m))] + (try honest.consistencyProof(from: UInt64(m)))
        #expect(throws: (any Error).self) {
            try EquivocationEvidence.make(logKey: signer.verifierKey, first: old, second: honestNewer, proof: honestProof, reporter: reporter)
        }
        // A made-up subtree hash does not fold to the newer signed root.
        #expect(throws: (any Error).self) {
            try EquivocationEvidence.make(logKey: signer.verifierKey, first: old, second: newer, proof: [RFC9162.leafHash([7])] + proof, reporter: reporter)
        }
    }
}
