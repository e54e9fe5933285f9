import MurmurTestSupport
import Testing
@testable import MurmurCore

@Suite(.ownThreads) struct CanonicalJSONTests {
    struct Record: Encodable {
        var zeta: Int
        var alpha: String
        var nested: [String: Int]
        var list: [Bool]
    }

    @Test func sortsKeysAndDropsWhitespace() throws {
        let bytes = try CanonicalJSON.encode(Record(zeta: 1, alpha: "a\"b\n", nested: ["b": 2, "a": -3], list: [true, false]))
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"alpha":"a\"b\n","list":[true,false],"nested":{"a":-3,"b":2},"zeta":1}"#)
    }

    @Test func rejectsFloats() {
        #expect(throws: MurmurCoreError.self) { try CanonicalJSON.parse(Array("1.5".utf8)) }
        #expect(throws: MurmurCoreError.self) { try CanonicalJSON.encode(["x": 0.25]) }
    }

    /// RFC 8785 §3.2.3: keys sort by UTF-16 code units, so "\u{20ac}" (€) sorts before "\u{1f600}" (😀
    /// as a surrogate pair D83D…) even though its scalar value is smaller... both compared as UTF-16.
    @Test func utf16KeyOrder() throws {
        let v = JSONValue.object(["\u{1F600}": .integer(1), "\u{20AC}": .integer(2), "a": .integer(3)])
        #expect(String(decoding: CanonicalJSON.encode(v), as: UTF8.self) == "{\"a\":3,\"\u{20AC}\":2,\"\u{1F600}\":1}")
    }

    @Test func parseRoundTripAndErrors() throws {
        let text = #"{"b":[1,2,{"c":null}],"a":"x\u00e9\ud83d\ude00"}"#
        let v = try CanonicalJSON.parse(Array(text.utf8))
        #expect(String(decoding: CanonicalJSON.encode(v), as: UTF8.self) == "{\"a\":\"xé😀\",\"b\":[1,2,{\"c\":null}]}")
        for bad in ["{", "[1,]", "{\"a\":1,\"a\":2}", "01", "\"\u{01}\"", "tru", "[1] x"] {
            #expect(throws: MurmurCoreError.self) { try CanonicalJSON.parse(Array(bad.utf8)) }
        }
        // Control characters are escaped as \u00XX.
        #expect(CanonicalJSON.encode(.string("\u{01}")) == Array("\"\\u0001\"".utf8))
    }
}
