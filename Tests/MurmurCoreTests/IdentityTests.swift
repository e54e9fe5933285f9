import MurmurTestSupport
import Testing
@testable import MurmurCore

@Suite(.ownThreads) struct IdentityTests {
    @Test func signAndVerify() throws {
        let id = Identity()
        let msg = Array("model v1".utf8)
        let sig = try id.sign(msg)
        #expect(id.publicKey.verify(signature: sig, for: msg))
        #expect(!id.publicKey.verify(signature: sig, for: Array("model v2".utf8)))
    }

    /// Known answer from libp2p's peer-ids spec: the Ed25519 public key
    /// 1ed1e8ae2c4a144b8be8fd7c22de2f2d6ef01ddac5e8b3e4b7... maps to an identity-multihash peer id
    /// that starts with 12D3KooW; here we check the structure and a round trip through base58.
    @Test func peerIDFormat() throws {
        var rng = SeededRNG(seed: 7)
        let id = Identity(deterministic: &rng)
        let text = id.peerID.description
        #expect(text.hasPrefix("12D3KooW"))
        let parsed = try PeerID(text)
        #expect(parsed == id.peerID)
        #expect(parsed.publicKey == id.publicKey)
    }

    /// RFC 8032 §7.1 TEST 1: the secret key 9d61b19d…7f60 has public key d75a9801…511a and signs
    /// the empty message as e5564300…100b.
    @Test func rfc8032Vector() throws {
        let seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        let id = try Identity(seed: seed)
        #expect(id.publicKey.raw == hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        let sig = try id.sign([])
        #expect(id.publicKey.verify(signature: sig, for: []))
        #expect(id.publicKey.verify(
            signature: hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
            for: []))
    }

    @Test func deterministicIdentities() {
        var a = SeededRNG(seed: 1), b = SeededRNG(seed: 1), c = SeededRNG(seed: 2)
        #expect(Identity(deterministic: &a).publicKey == Identity(deterministic: &b).publicKey)
        #expect(Identity(deterministic: &a).publicKey != Identity(deterministic: &c).publicKey)
    }

    @Test func badKeysAreTypedErrors() {
        #expect(throws: MurmurCoreError.self) { try Identity(seed: [1, 2, 3]) }
        #expect(throws: MurmurCoreError.self) { try PublicIdentity(raw: []) }
    }
}

func hex(_ s: String) -> [UInt8] {
    var out = [UInt8]()
    var it = s.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}
