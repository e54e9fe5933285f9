import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurML

/// The gzip/DEFLATE reader against streams written by Python's zlib 1.x (`gzip.compress`,
/// `zlib.compressobj(..., Z_FIXED)`), one per DEFLATE block type (RFC 1951 §3.2.4–3.2.7).
@Suite(.ownThreads) struct DataGzipTests {
    func bytes(_ base64: String) -> [UInt8] { [UInt8](Data(base64Encoded: base64) ?? Data()) }
    let hello = Array(String(repeating: "hello, murmur\n", count: 3).utf8)

    @Test func crc32CheckValue() {
        // The CRC-32/ISO-HDLC check value from the CRC catalogue (reveng): "123456789" → 0xCBF43926.
        let check = Array("123456789".utf8).withUnsafeBufferPointer { CRC32.checksum($0) }
        #expect(check == 0xCBF4_3926)
    }

    @Test func storedBlock() throws {
        let gz = bytes("H4sIAAAAAAAEAwEqANX/aGVsbG8sIG11cm11cgpoZWxsbywgbXVybXVyCmhlbGxvLCBtdXJtdXIK0QJIcioAAAA=")
        #expect(try Gzip.decompress(gz) == hello)
    }

    @Test func fixedHuffmanBlock() throws {
        let gz = bytes("H4sIAAAAAAACA8tIzcnJ11HILS0CIq4MPDwA0QJIcioAAAA=")
        #expect(try Gzip.decompress(gz) == hello)
    }

    @Test func dynamicHuffmanBlock() throws {
        let gz = bytes(Self.dynamic)
        let text = (0..<400).map { "\($0 * $0 % 97),\($0 % 13)\n" }.joined()
        #expect(try Gzip.decompress(gz) == Array(text.utf8))
    }

    @Test func fileNameHeaderAndTwoMembers() throws {
        // Member 1 has FNAME "a.csv" and holds "1,2\n"; member 2 holds "3,4\n".
        let gz = bytes("H4sICAAAAAAC/2EuY3N2ADPUMeICADNCIVUEAAAAH4sIAAAAAAACAzPWMeECAD4tcqkEAAAA")
        #expect(try Gzip.decompress(gz) == Array("1,2\n3,4\n".utf8))
    }

    @Test func corruptStreamsAreRejected() {
        var gz = bytes(Self.dynamic)
        gz[gz.count - 8] ^= 1  // CRC-32
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(gz) }
        let whole = bytes(Self.dynamic)
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array(whole.prefix(whole.count / 2))) }
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array(whole.dropLast(3))) }
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(whole + [0x00]) }
        var flipped = whole
        flipped[40] ^= 0xFF  // inside the compressed data
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(flipped) }
    }

    static let dynamic = """
        H4sIAAAAAAACA02VS5IkIQxD93mWXKRtMHD/i42ega7ZdERFl4U+lut7v8dee9rrz3rjsXzb4/3tT+SbT1vveLK985n2ride+x5vr2lgvObPcM275sMEkC6E1YUQIYTxCcFcCD2EsFIIrQGxrCACiNUE0T9hTCC6IHwIYk5B9CYIB2IuQWSR6EBYQcwEIlMQbULDhWFTGOhYsJhdEAMdowtihCBGCdFnQehfgtC3Pr5vGjwIwmqgdvCTpwavTggsqAhCrAQhgoLoCJmwEP+jZApC2joqE8ED7RMbFoYIQt4IwgpCjn14Z7h4/JSzSgQ7HYghCCcQdMwikTuQ0hFYofyMJHekTfOm+UpD0wwvDVs972VClI+C2GgAC4somNaj53mSCASI2oKkbb4GdSEY+9BLAM9LZiC4If2YIDuUJhDYKKtsu2YYKAgHAl+x2DE7sL0RwIlCoQzimQSlKGqlioVixEZ0kC5BO3+Cj41/nIVYRJEXQVi2N8h4gX3AR3YMAg6VgFSD3lnLCQvxP0pmhfkBsUqIJO9NxwbHkMCahkmnHFEL0a+fUXF62Vn7ION33x50TEhkBbJuQRXfIMkdaZWrirHToBZkwUrzvFc38VEICdYAdS+T1zS9vs+TBJxg5/AMGDe4d1QkegbK7kaXgBY/EzobTScSG+VW4FvDwY6XiasDf0+vbPcqf1Eolq8SIitFwUrBYnKlBjoGJoz4a3et5Vi/hVhEkRchqFWDRWLFxEejGdHvjWH/vur1XcsJC7Z1K+FASFtDZkdxIn5gw7l0vW6M+a8cUQvRr59BnNyYwT7I9yQCsbjXNncg61dQ50rR24qUclGMSoNakAUrzfO+u5m/05B1n+wskzPdxn2eJAIBSa0WScQ+kt/vPPUSkH8bjYAW14TORtOJxEZZtarXXxl4j+SsE/PXK6te5Y1CoSTxDIJSFKxUsZj/neqBCVzw027Wcqy7EIso8iIEtWrFIvP3g2E0I/q9MZMz6X7XcsLCx1XCgaDXX630389WlavdS9e5Mea3HFEL0a+fQZx1Y4b/fjydQOJe26xA1i2oc6UsT6SUq4qx06hakMW9817dzHsasu6TnWVypv8BWI5FF+kHAAA=
        """
}
