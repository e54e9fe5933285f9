import MurmurCore
import Testing

@testable import MurmurP2P

/// Binary forms follow multiformats/multiaddr (README "Encoding" and protocols.csv codes:
/// ip4 = 4, tcp = 6, ip6 = 41, dns = 53, dns4 = 54, dns6 = 55, p2p = 421).
@Suite struct MultiaddrTests {
    @Test func knownEncodings() throws {
        let cases: [(String, String)] = [
            ("/ip4/127.0.0.1/tcp/4001", "047f000001060fa1"),
            ("/ip4/1.2.3.4/tcp/80", "0401020304060050"),
            ("/ip6/::1/tcp/8080", "2900000000000000000000000000000001061f90"),
            ("/dns/example.com/tcp/443", "350b6578616d706c652e636f6d0601bb"),
            ("/dns4/a.io/tcp/1", "3604612e696f060001"),
        ]
        for (text, hex) in cases {
            let m = try Multiaddr(text)
            #expect(Multibase.hex(m.bytes) == hex, "\(text)")
            #expect(try Multiaddr(bytes: try Multibase.decodeHex(hex)) == m)
            #expect(m.description == text)
        }
    }

    @Test func p2pComponentCarriesThePeerID() throws {
        let id = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
        let m = try Multiaddr("/ip4/10.0.0.1/tcp/4001/p2p/\(id)")
        #expect(m.peerID?.description == id)
        let bytes = m.bytes
        // 421 = 0xa5 0x03 as a varint, then the length-prefixed multihash (38 bytes).
        #expect(Array(bytes[8..<11]) == [0xa5, 0x03, 38])
        #expect(try Multiaddr(bytes: bytes) == m)
        #expect(try Multiaddr("/ip4/10.0.0.1/tcp/4001/ipfs/\(id)") == m)  // legacy name
        #expect(try m.tcpEndpoint() == ("10.0.0.1", 4001))
    }

    @Test func ipv6TextIsCanonical() throws {
        #expect(try Multiaddr("/ip6/2001:0db8:0:0:0:0:0:1/tcp/1").description == "/ip6/2001:db8::1/tcp/1")
        #expect(try Multiaddr("/ip6/::ffff:1.2.3.4/tcp/1").description == "/ip6/::ffff:102:304/tcp/1")
        #expect(try Multiaddr("/ip6/1:2:3:4:5:6:7:8/tcp/1").description == "/ip6/1:2:3:4:5:6:7:8/tcp/1")
    }

    @Test func malformedAddressesAreRejected() {
        for bad in ["", "ip4/1.2.3.4", "/ip4/1.2.3", "/ip4/256.0.0.1", "/ip4/01.2.3.4", "/tcp/70000", "/tcp", "/udp/1",
                    "/ip6/1::2::3", "/ip6/12345::", "/p2p/notapeer"] {
            #expect(throws: P2PError.self, "\(bad)") { try Multiaddr(bad) }
        }
        #expect(throws: P2PError.self) { try Multiaddr(bytes: [0x04, 1, 2]) }  // truncated ip4
        #expect(throws: P2PError.self) { try Multiaddr(bytes: [0x35, 0x7f, 0x61]) }  // dns length past end
        #expect(throws: P2PError.self) { try Multiaddr(bytes: [0x91, 0x02, 0, 0]) }  // udp: unsupported
    }
}
