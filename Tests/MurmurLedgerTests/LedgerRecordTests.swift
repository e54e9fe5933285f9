import MurmurCore
@testable import MurmurLedger
import MurmurLog
import MurmurTestSupport
import Testing

@Suite(.ownThreads) struct LedgerRecordTests {
    let f = LedgerFixture()

    /// `r` with its bytes rebuilt from (schema, author, body), keeping the signature.
    func resigned(_ r: LedgerRecord, schema: String? = nil, author: String? = nil, body: JSONValue? = nil) -> LedgerRecord {
        var x = LedgerRecord.unsigned(schema: schema ?? r.schema, author: author ?? r.author, body: body ?? r.body!)
        x.signature = r.signature
        return x
    }

    @Test func signatureVerifiesAndCoversEveryField() throws {
        let r = f.sign(Vote(proposal: 3, choice: .yes), f.members[0])
        #expect(r.schema == "murmur.ledger.vote/1")
        #expect(r.author == f.memberIDs[0])
        #expect(r.hasValidSignature())
        #expect(resigned(r).hasValidSignature())
        #expect(!resigned(r, body: try LedgerJSON.value(Vote(proposal: 3, choice: .no))).hasValidSignature())
        #expect(!resigned(r, author: f.memberIDs[1]).hasValidSignature())
        #expect(!resigned(r, schema: RecordKind.enactment.schema).hasValidSignature())
        var sig = r
        sig.signature[0] ^= 1
        #expect(!sig.hasValidSignature())
        sig.signature = Array(r.signature.prefix(63))
        #expect(!sig.hasValidSignature())
        #expect(!resigned(r, author: "not-a-peer-id").hasValidSignature())
    }

    @Test func signedBytesAreCanonicalJSON() throws {
        let r = f.sign(Enactment(proposal: 7), f.members[0])
        let text = String(decoding: r.bytes, as: UTF8.self)
        #expect(text == #"{"author":"\#(f.memberIDs[0])","body":{"proposal":7},"schema":"murmur.ledger.enactment/1"}"#)
        #expect(try LedgerRecord(bytes: r.bytes, signature: r.signature) == r)
        #expect(throws: RejectionReason.self) { try LedgerRecord(bytes: Array(#"{"body":1}"#.utf8), signature: []) }
    }

    @Test func entryRoundTripsAndCarriesTheChain() throws {
        let r = f.sign(f.genesis(), f.coordinator)
        let prev = RFC9162.sha256(Array("x".utf8))
        let e = LedgerEntry(sequence: 4, previous: prev, record: r)
        let parts = try LedgerEntry.split(e.encoded)
        #expect(parts.sequence == 4 && parts.previous == prev && parts.signature == r.signature && parts.record == r.bytes)
        #expect(try LedgerRecord(bytes: parts.record, signature: parts.signature).decode(Genesis.self) == f.genesis())
        let text = String(decoding: e.encoded, as: UTF8.self)
        #expect(text.hasPrefix("murmur.ledger.entry/1 4 \(prev.hex) \(Multibase.hex(r.signature))\n{\"author\":"))
    }

    @Test(arguments: [
        "", "{}", "murmur.ledger.entry/1 0 00 00\n{}", "murmur.ledger.entry/2 0 \(String(repeating: "0", count: 64)) 00\n{}",
        "murmur.ledger.entry/1 01 \(String(repeating: "0", count: 64)) 00\n{}", "murmur.ledger.entry/1 0 \(String(repeating: "0", count: 64)) zz\n{}",
    ])
    func malformedEntriesAreNotLedgerEntries(text: String) {
        #expect(throws: LedgerError.self) { try LedgerEntry.split(Array(text.utf8)) }
    }

    @Test(arguments: ["fedavg", "quote \" and backslash \\", "line\nbreak\t\u{01}", "slash / é ✓ 😀", ""])
    func fastEncodingIsCanonical(strategy: String) throws {
        let body = ModelVersion(round: 3, parent: nil, model: "b", strategy: strategy, epsilonMicros: -5, participants: ["a", strategy])
        #expect(try LedgerJSON.encode(body) == CanonicalJSON.encode(try LedgerJSON.value(body)))
        let r = try LedgerRecord.unsigned(body, author: f.memberIDs[0])
        #expect(r.bytes == LedgerRecord.unsigned(schema: r.schema, author: r.author, body: try LedgerJSON.value(body)).bytes)
        #expect(r.decode(ModelVersion.self) == body)
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
