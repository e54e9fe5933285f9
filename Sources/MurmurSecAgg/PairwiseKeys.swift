import Crypto
import Foundation

/// Key agreement and share encryption between two clients (Bonawitz et al. CCS 2017, §4).
///
/// X25519 gives a shared secret per pair; HKDF-SHA256 (RFC 5869) with the round as salt turns it
/// into either a pairwise mask seed or a ChaCha20-Poly1305 key, separated by the info string.
enum PairwiseKeys {
    static let maskInfo = Array("murmur/secagg+/pairwise-mask/v1".utf8)
    static let shareInfo = Array("murmur/secagg+/share-encryption/v1".utf8)

    /// HKDF(X25519(sk, pk), salt: round, info) as `byteCount` bytes.
    static func derive(
        _ privateKey: Curve25519.KeyAgreement.PrivateKey, peer: [UInt8], round: UInt64, info: [UInt8], peerIndex: Int
    ) throws -> SymmetricKey {
        let secret: SharedSecret
        do {
            let pk = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: peer)
            secret = try privateKey.sharedSecretFromKeyAgreement(with: pk)
        } catch {
            throw SecAggError.malformed("X25519 key of client \(peerIndex) is invalid: \(error)")
        }
        return secret.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: roundBytes(round), sharedInfo: info, outputByteCount: 32)
    }

    /// The 32-byte seed of the pairwise mask s_uv (the same for u and v).
    static func maskSeed(_ sk: Curve25519.KeyAgreement.PrivateKey, peer: [UInt8], round: UInt64, peerIndex: Int) throws -> [UInt8] {
        try derive(sk, peer: peer, round: round, info: maskInfo, peerIndex: peerIndex).withUnsafeBytes { Array($0) }
    }

    static func roundBytes(_ round: UInt64) -> [UInt8] { withUnsafeBytes(of: round.littleEndian) { Array($0) } }

    /// AAD binding a share box to its round, sender and recipient.
    static func aad(round: UInt64, sender: Int, recipient: Int) -> [UInt8] {
        var w = WireWriter()
        w.u64(round); w.index(sender); w.index(recipient)
        return w.output
    }

    /// Encrypts sender's shares (self-mask, mask-key) for recipient.
    static func seal(
        selfShare: ShamirShare, keyShare: ShamirShare, key: SymmetricKey, round: UInt64, sender: Int, recipient: Int
    ) throws -> [UInt8] {
        var w = WireWriter()
        w.index(sender); w.index(recipient)
        w.share(OwnedShare(owner: sender, share: selfShare))
        w.share(OwnedShare(owner: sender, share: keyShare))
        do {
            let box = try ChaChaPoly.seal(w.output, using: key, authenticating: aad(round: round, sender: sender, recipient: recipient))
            return Array(box.combined)
        } catch {
            throw SecAggError.malformed("share encryption failed: \(error)")
        }
    }

    /// Decrypts and parses a share box; throws `decryptionFailed` on a bad tag.
    static func open(
        _ ciphertext: [UInt8], key: SymmetricKey, round: UInt64, sender: Int, recipient: Int
    ) throws -> (selfShare: ShamirShare, keyShare: ShamirShare) {
        let plain: Data
        do {
            let box = try ChaChaPoly.SealedBox(combined: ciphertext)
            plain = try ChaChaPoly.open(box, using: key, authenticating: aad(round: round, sender: sender, recipient: recipient))
        } catch {
            throw SecAggError.decryptionFailed(from: sender)
        }
        var r = WireReader(Array(plain))
        guard try r.index() == sender, try r.index() == recipient else {
            throw SecAggError.malformed("share box from \(sender) names other parties")
        }
        let s = try r.share(), k = try r.share()
        try r.finish()
        let chunks = Shamir.chunkCount(byteCount: 32)
        guard s.share.y.count == chunks, k.share.y.count == chunks, s.share.x == UInt64(recipient + 1), k.share.x == s.share.x else {
            throw SecAggError.malformed("share box from \(sender) has wrong share shape")
        }
        return (s.share, k.share)
    }
}
