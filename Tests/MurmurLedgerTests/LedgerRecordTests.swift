import MurmurCore
@testable import MurmurLedger
import MurmurLog
import Testing

@Suite struct LedgerRecordTests {
    let f = LedgerFixture()

    @Test func signatureVerifiesAndCoversEveryField() throws {
        let r = f.sign(Vote(proposal: 3, choice: .yes), f.members[0])
        #expect(r.schema == "murmur.ledger.vote/1")
        #expect(r.author == f.memberIDs[0])
        #expect(r.hasValidSignature())
        var body = r
        body.body = try LedgerJSON.value(Vote(proposal: 3, choice: .no))
        #expect(!body.hasValidSignature())
        var author = r
        author.author = f.memberIDs[1]
        #expect(!author.hasValidSignature())
        var schema = r
        schema.schema = RecordKind.enactment.schema
        #expect(!schema.hasValidSignature())
        var sig = r
        sig.signature[0] ^= 1
        #expect(!sig.hasValidSignature())
        sig.signature = Array(sig.signature.prefix(63))
        #expect(!sig.hasValidSignature())
    }

    @Test func signedBytesAreCanonicalJSON() throws {
        let r = f.sign(Enactment(proposal: 7), f.members[0])
        let text = String(decoding: r.signedBytes, as: UTF8.self)
        #expect(text == #"{"author":"\#(f.memberIDs[0])","body":{"proposal":7},"schema":"murmur.ledger.enactment/1"}"#)
    }

    @Test func entryRoundTripsAndCarriesTheChain() throws {
        let r = f.sign(f.genesis(), f.coordinator)
        let prev = RFC9162.sha256(Array("x".utf8))
        let e = LedgerEntry(sequence: 4, previous: prev, record: r)
        let back = try LedgerEntry(bytes: e.encoded)
        #expect(back == e)
        #expect(back.record.decode(Genesis.self) == f.genesis())
        let text = String(decoding: e.encoded, as: UTF8.self)
        #expect(text.hasPrefix(#"{"prev":"\#(prev.hex)","record":{"author":"#))
        #expect(text.contains(#""seq":4,"sig":""#))
    }

    @Test(arguments: [
        "", "[]", "{}", #"{"seq":-1,"prev":"00","record":{},"sig":""}"#,
        #"{"seq":0,"prev":"zz","record":{"schema":"a","author":"b","body":1},"sig":""}"#,
    ])
    func malformedEntriesAreNotLedgerEntries(text: String) {
        #expect(throws: LedgerError.self) { try LedgerEntry(bytes: Array(text.utf8)) }
    }

    @Test func everyKindHasAVersionedSchema() {
        for k in RecordKind.allCases {
            #expect(RecordKind(schema: k.schema) == k)
            #expect(k.schema.hasPrefix("murmur.ledger.") && k.schema.hasSuffix("/1"))
        }
        #expect(RecordKind(schema: "murmur.ledger.vote/2") == nil)
        #expect(RecordKind(schema: "murmur.ledger.coin/1") == nil)
    }

    @Test func reputationMatchesMurmurVerifyFields() throws {
        // MurmurVerify.ReputationRecord: device, checked, failed, reasons, delta = (checked − failed) − 20·failed.
        let r = Reputation(device: f.memberIDs[0], checked: 10, failed: 2, reasons: ["output-mismatch"])
        #expect(r.delta == 8 - 40)
        let json = String(decoding: try LedgerJSON.encode(r), as: UTF8.self)
        #expect(json == #"{"checked":10,"delta":-32,"device":"\#(f.memberIDs[0])","failed":2,"reasons":["output-mismatch"]}"#)
    }
}
