import Crypto
import Foundation
import MurmurTestSupport
import Testing
import _CryptoExtras

@testable import MurmurSecAgg

@Suite(.ownThreads) struct MaskGeneratorTests {
    private func hex(_ s: String) -> [UInt8] {
        var out = [UInt8](), chars = Array(s)
        while chars.count >= 2 { out.append(UInt8(String(chars[0..<2]), radix: 16) ?? 0); chars.removeFirst(2) }
        return out
    }

    /// AES-128(0^128, 0^128) = 66e94bd4…2e: H of GCM test case 1 (McGrew & Viega, GCM spec, App. B).
    @Test func aesKeystreamKnownAnswer() throws {
        let ks = try MaskGenerator(prg: .aes128CTR).keystream(seed: [UInt8](repeating: 0, count: 32), byteCount: 16)
        #expect(Array(ks) == hex("66e94bd4ef8a2c3b884cfa59ca342b2e"))
    }

    /// RFC 8439 App. A.1 test vector #1: ChaCha20 block, zero key, zero nonce, counter 0.
    @Test func chachaKeystreamKnownAnswer() throws {
        let ks = try MaskGenerator(prg: .chacha20).keystream(seed: [UInt8](repeating: 0, count: 32), byteCount: 32)
        #expect(Array(ks) == hex("76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"))
    }

    /// Chunked generation (64 KiB per cipher call) equals one cipher call over the whole length.
    @Test func chunksFormOneContinuousStream() throws {
        let length = 3 * MaskGenerator.chunkBytes + 100
        let zeros = [UInt8](repeating: 0, count: length)
        let seed = [UInt8](repeating: 0, count: 32)
        let aes = try AES._CTR.encrypt(
            zeros, using: SymmetricKey(data: [UInt8](repeating: 0, count: 16)), nonce: AES._CTR.Nonce(nonceBytes: [UInt8](repeating: 0, count: 16)))
        #expect(try MaskGenerator(prg: .aes128CTR).keystream(seed: seed, byteCount: length) == Array(aes))
        let chacha = try Insecure.ChaCha20CTR.encrypt(
            zeros, using: SymmetricKey(data: seed), nonce: Insecure.ChaCha20CTR.Nonce(data: [UInt8](repeating: 0, count: 12)))
        #expect(try MaskGenerator(prg: .chacha20).keystream(seed: seed, byteCount: length) == Array(chacha))
        var acc = [UInt32](repeating: 0, count: length / 4)
        try MaskGenerator(prg: .aes128CTR).accumulate(seed: seed, into: &acc, subtract: false)
        #expect(acc == aes.withUnsafeBytes { raw in (0..<length / 4).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self) } })
    }

    @Test func addThenSubtractRestoresAndSeedsDiffer() throws {
        for prg in MaskPRG.allCases {
            let g = MaskGenerator(prg: prg)
            let original: [UInt32] = (0..<1000).map { UInt32($0) &* 2_654_435_761 }
            var v = original
            let seed = [UInt8](repeating: 9, count: 32)
            try g.accumulate(seed: seed, into: &v, subtract: false)
            #expect(v != original)
            try g.accumulate(seed: seed, into: &v, subtract: true)
            #expect(v == original)
            for position in [0, 15, 16, 31] {
                var other = seed
                other[position] = 8
                #expect(try g.mask(seed: seed, count: 64) != g.mask(seed: other, count: 64))
            }
            #expect(try g.mask(seed: seed, count: 64) == g.mask(seed: seed, count: 64))
        }
        #expect(throws: SecAggError.self) { try MaskGenerator().mask(seed: [1, 2, 3], count: 4) }
    }
}
