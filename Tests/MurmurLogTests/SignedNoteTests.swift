import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurLog

/// Signed notes, verifier keys, checkpoints and cosignatures against the C2SP worked examples.
@Suite(.ownThreads) struct SignedNoteTests {
    // c2sp.org/signed-note, "Verifier keys → Example".
    static let exampleKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    static let exampleNote = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
    // c2sp.org/tlog-checkpoint and tlog-cosignature example (two signatures).
    static let exampleCheckpoint = """
        example.com/behind-the-sofa
        20852163
        CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

        \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
        \u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==

        """

    @Test func specExampleVerifies() throws {
        let key = try VerifierKey(Self.exampleKey)
        #expect(key.name == "example.com/foo")
        #expect(key.keyID == 0x530d_903a)
        #expect(key.description == Self.exampleKey)
        let note = try Note(parsing: Self.exampleNote)
        #expect(note.text == "This is an example message.\n")
        #expect(try note.verify([key.verifier()]).count == 1)
        #expect(note.serialized == Self.exampleNote)
        // A changed text fails with the trusted key: the whole note is rejected.
        var forged = note
        forged.text = "This is an example massage.\n"
        #expect(throws: NoteError.badSignature(name: "example.com/foo")) { try forged.verify([key.verifier()]) }
        // An unknown key is ignored, so nothing verifies.
        let other = try NoteSigner(name: "example.com/foo")
        #expect(throws: NoteError.self) { try note.verify([other.verifierKey.verifier()]) }
    }

    @Test func checkpointExampleParses() throws {
        let note = try Note(parsing: Self.exampleCheckpoint)
        #expect(note.signatures.map(\.name) == ["example.com/behind-the-sofa", "witness.example.com/w1"])
        let cp = try Checkpoint(text: note.text)
        #expect(cp.origin == "example.com/behind-the-sofa")
        #expect(cp.size == 20_852_163)
        #expect(cp.root.base64 == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
        #expect(cp.text == note.text)
        // The witness signature is 4 + 8 + 64 bytes: a timestamped cosignature.
        #expect(Cosignature.timestamp(of: note.signatures[1].signature) == 1_679_315_147)
    }

    @Test func malformedNotesAndCheckpoints() {
        for bad in ["no signatures\n", "text\n\n", "text\n\n\u{2014} name\n", "text\n\n- name AAAAAAA=\n",
                    "text\n\n\u{2014} na me AAAAAAA=\n", "text\n\n\u{2014} name !!!\n", "te\u{01}xt\n\n\u{2014} n AAAAAAA=\n",
                    "text\n\n\u{2014} name AAAAAAA="] {
            #expect(throws: NoteError.self, "\(bad)") { try Note(parsing: bad) }
        }
        #expect(throws: NoteError.self) { try Note(parsing: [0xff, 0x0a, 0x0a]) }
        for bad in ["o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "o\n1\nshort=\n", "o\n1\n", "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
                    "o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"] {
            #expect(throws: NoteError.self, "\(bad)") { try Checkpoint(text: bad) }
        }
        for bad in ["", "a+b", "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"] {
            #expect(throws: NoteError.self, "\(bad)") { try VerifierKey(bad) }
        }
    }

    @Test func signAndCosignRoundTrip() throws {
        let log = try NoteSigner(name: "murmur.test/log", seed: Array(repeating: 1, count: 32))
        let cp = Checkpoint(origin: "murmur.test/log", size: 3, root: RFC9162.leafHash([1]))
        var note = Note(text: cp.text, signatures: [try log.sign(text: cp.text)])
        let w1 = try Cosigner(name: "w1.test", seed: Array(repeating: 2, count: 32))
        let w2 = try Cosigner(name: "w2.test", seed: Array(repeating: 3, count: 32))
        note.signatures.append(try w1.cosign(checkpointText: cp.text, timestamp: 1_700_000_000))
        let parsed = try Note(parsing: note.serialized)
        #expect(parsed == note)
        #expect(try Checkpoint.open(parsed, verifiers: [log.verifierKey.verifier()]) == cp)
        // Policy: log + 1 of {w1, w2} accepts; 2 of 2 refuses until w2 cosigns.
        let one = try WitnessPolicy(logKey: log.verifierKey, witnesses: [w1.verifierKey, w2.verifierKey], quorum: 1)
        #expect(try one.accept(parsed) == cp)
        let two = try WitnessPolicy(logKey: log.verifierKey, witnesses: [w1.verifierKey, w2.verifierKey], quorum: 2)
        #expect(throws: NoteError.self) { try two.accept(parsed) }
        note.signatures.append(try w2.cosign(checkpointText: cp.text, timestamp: 1_700_000_001))
        #expect(try two.accept(note) == cp)
        // A cosignature key (type 0x04) has a different id from the same seed used as a note key (type 0x01).
        let sameSeed = try NoteSigner(name: "w1.test", seed: Array(repeating: 2, count: 32))
        #expect(sameSeed.verifierKey.keyID != w1.verifierKey.keyID)
        // A tampered timestamp breaks the cosignature.
        var tampered = note
        tampered.signatures[1].signature[7] ^= 1
        #expect(throws: NoteError.badSignature(name: "w1.test")) { try two.accept(tampered) }
        #expect(try VerifierKey(w1.verifierKey.description) == w1.verifierKey)
    }
}
