import MurmurCore
import Testing

@testable import MurmurP2P

/// Vectors from libp2p/specs peer-ids/peer-ids.md (commit 7740c07, "Test vectors" and "Examples").
@Suite struct PeerIDFormsTests {
    static let ed25519Private =
        "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"
    static let ed25519Public = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"

    @Test func specEd25519KeyVector() throws {
        let identity = try Identity(libp2pPrivateKey: try Multibase.decodeHex(Self.ed25519Private))
        #expect(Multibase.hex(identity.publicKey.libp2pProtobuf) == Self.ed25519Public)
        #expect(Multibase.hex(identity.libp2pPrivateKey) == Self.ed25519Private)
        let pub = try PublicIdentity(libp2pPublicKey: try Multibase.decodeHex(Self.ed25519Public))
        #expect(pub == identity.publicKey)
        // Identity multihash: 0x00, length 36, then the protobuf.
        #expect(Multibase.hex(identity.peerID.multihash.bytes) == "0024" + Self.ed25519Public)
        #expect(PeerID(publicKeyProtobuf: identity.publicKey.libp2pProtobuf) == identity.peerID)
    }

    @Test func specSecp256k1PublicKeyIsRejectedAsUnsupported() throws {
        let secp = try Multibase.decodeHex("08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99")
        #expect(throws: P2PError.unsupportedKeyType(2)) { try PublicIdentity(libp2pPublicKey: secp) }
        #expect(try KeyProtobuf(decoding: secp).data.count == 33)
    }

    @Test func mismatchedPrivateKeyHalvesAreRejected() throws {
        var bytes = try Multibase.decodeHex(Self.ed25519Private)
        bytes[bytes.count - 1] ^= 1
        #expect(throws: P2PError.self) { try Identity(libp2pPrivateKey: bytes) }
    }

    @Test func specExampleIDsParse() throws {
        let ed = try PeerID(parsing: "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
        #expect(ed.multihash.code == Multihash.identityCode)
        #expect(ed.publicKey != nil)
        #expect(ed.description == "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
        let qm = try PeerID(parsing: "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N")
        #expect(qm.multihash.code == Multihash.sha256Code)
        let cid = try PeerID(parsing: "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe")
        #expect(cid.multihash.code == Multihash.sha256Code)
        #expect(cid.cidString == "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe")
        // Both sha256 examples name the same key (cid.ipfs.tech shows the same multihash).
        #expect(cid == qm)
    }

    @Test func cidFormRoundTripsForEd25519() throws {
        let id = Identity().peerID
        let text = id.cidString
        #expect(text.hasPrefix("bafzaa"))
        #expect(try PeerID(parsing: text) == id)
        #expect(try PeerID(parsing: id.description) == id)
    }

    @Test func badIDsAreRejected() {
        #expect(throws: P2PError.self) { try PeerID(parsing: "zzz") }
        #expect(throws: P2PError.self) { try PeerID(parsing: "12D3KooW0OIl") }  // 0, O, I, l are not base58
        // A CIDv1 with the raw codec (0x55), not libp2p-key.
        #expect(throws: P2PError.self) { try PeerID(parsing: CID.raw([1, 2, 3]).description) }
        #expect(throws: P2PError.self) { try PeerID(multihashBytes: [0x12, 0x05, 1, 2, 3, 4, 5]) }  // sha256 of 5 bytes
    }
}
