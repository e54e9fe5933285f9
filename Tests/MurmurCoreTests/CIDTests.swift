import MurmurTestSupport
import Testing
@testable import MurmurCore

@Suite(.ownThreads) struct CIDTests {
    /// Known answer: `ipfs add --cid-version 1 --raw-leaves` of the bytes "hello world" (no newline)
    /// prints bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e; the sha2-256 digest is
    /// b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9 (FIPS 180-4).
    @Test func rawCIDOfHelloWorld() throws {
        let cid = CID.raw(Array("hello world".utf8))
        #expect(cid.description == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
        #expect(cid.multihash.digest.map { String(format: "%02x", $0) }.joined()
            == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
    }

    @Test func parseRoundTrip() throws {
        let cid = CID.json(Array("{}".utf8))
        #expect(cid.description.hasPrefix("bagaaiera"))  // CIDv1, codec json (0x0200), sha2-256
        let parsed = try CID(cid.description)
        #expect(parsed == cid)
        #expect(parsed.codec == CID.jsonCodec)
    }

    @Test func rejectsBadCIDs() {
        #expect(throws: MurmurCoreError.self) { try CID("Qmfoo") }
        #expect(throws: MurmurCoreError.self) { try CID("b!!!") }
        #expect(throws: MurmurCoreError.self) { try CID("bafkrei") }  // truncated digest
    }

    /// RFC 4648 §10 test vectors (lower-cased, unpadded).
    @Test func base32Vectors() throws {
        let vectors = [("", ""), ("f", "my"), ("fo", "mzxq"), ("foo", "mzxw6"), ("foob", "mzxw6yq"),
                       ("fooba", "mzxw6ytb"), ("foobar", "mzxw6ytboi")]
        for (plain, enc) in vectors {
            #expect(Multibase.base32(Array(plain.utf8)) == enc)
            #expect(try Multibase.decodeBase32(enc) == Array(plain.utf8))
        }
    }

    /// Vectors from the multibase spec's test suite (multiformats/multibase tests: "yes mani !" is
    /// z7paNL19xttacUY, and with one leading zero byte z17paNL19xttacUY).
    @Test func base58Vectors() throws {
        #expect(Multibase.base58btc(Array("yes mani !".utf8)) == "7paNL19xttacUY")
        #expect(Multibase.base58btc([0] + Array("yes mani !".utf8)) == "17paNL19xttacUY")
        #expect(try Multibase.decodeBase58btc("17paNL19xttacUY") == [0] + Array("yes mani !".utf8))
        #expect(try Multibase.decodeBase58btc("7paNL19xttacUY") == Array("yes mani !".utf8))
        #expect(throws: MurmurCoreError.self) { try Multibase.decodeBase58btc("0OIl") }
    }

    @Test func hexRoundTrip() throws {
        #expect(Multibase.hex([0x00, 0xAB, 0x7F]) == "00ab7f")
        #expect(try Multibase.decodeHex("00AB7f") == [0x00, 0xAB, 0x7F])
        #expect(throws: MurmurCoreError.self) { try Multibase.decodeHex("abc") }
        #expect(throws: MurmurCoreError.self) { try Multibase.decodeHex("zz") }
    }

    @Test func varints() throws {
        for v: UInt64 in [0, 1, 127, 128, 300, 0x0200, 1 << 35, UInt64.max] {
            let enc = Varint.encode(v)
            let (dec, n) = try Varint.decode(enc[...])
            #expect(dec == v && n == enc.count)
        }
        #expect(Varint.encode(300) == [0xAC, 0x02])
        #expect(throws: MurmurCoreError.self) { try Varint.decode([0x80, 0x80][...]) }
    }
}
