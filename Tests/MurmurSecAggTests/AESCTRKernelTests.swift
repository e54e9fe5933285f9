import MurmurCore
import Testing

@testable import MurmurSecAgg

/// The C AES-128-CTR kernels (VAES, AES-NI) against NIST's vectors and against swift-crypto's
/// `AES._CTR` (the library backend): the mask PRG must give the same bytes on every backend.
@Suite(.ownThreads) struct AESCTRKernelTests {
    private func hex(_ s: String) -> [UInt8] {
        var out = [UInt8](), chars = Array(s)
        while chars.count >= 2 { out.append(UInt8(String(chars[0..<2]), radix: 16) ?? 0); chars.removeFirst(2) }
        return out
    }

    /// The C kernels this CPU runs (none on CPUs without AES instructions).
    private var kernels: [MaskPRGBackend] { [.aesni, .vaes512].filter(\.isAvailable) }

    /// NIST SP 800-38A, Appendix F.5.1 (CTR-AES128.Encrypt): keystream = plaintext ⊕ ciphertext,
    /// for every prefix length (partial blocks, fewer blocks than one zmm register holds).
    @Test func nistSP80038AF51() throws {
        let key = hex("2b7e151628aed2a6abf7158809cf4f3c")
        let counter = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
        let plain = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
            + "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
        let cipher = hex("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
            + "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee")
        let expected = zip(plain, cipher).map { $0 ^ $1 }
        for backend in kernels {
            let aes = AESCTRKernel(key: key, kernel: try #require(backend.kernelID))
            for length in [1, 15, 16, 17, 48, 64] {
                var out = [UInt8](repeating: 0, count: length)
                out.withUnsafeMutableBytes { aes.keystream(counterBlock: counter, into: $0) }
                #expect(out == Array(expected.prefix(length)), "\(backend) \(length) bytes")
            }
        }
    }

    /// Masks, raw keystreams and ± accumulation agree byte for byte with the library backend
    /// over lengths around every kernel boundary (4-word blocks, 4-block zmm, 32-block loop).
    @Test func kernelsMatchLibrary() throws {
        var rng = SeededRNG(seed: 5)
        let library = MaskGenerator(prg: .aes128CTR, backend: .library)
        for backend in kernels {
            let gen = MaskGenerator(prg: .aes128CTR, backend: backend)
            #expect(gen.backend == backend)
            for words in [0, 1, 3, 4, 5, 15, 16, 17, 127, 128, 129, 131, 1000, 16_387 + 64 * 1024] {
                let seed = (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                #expect(try gen.mask(seed: seed, count: words) == library.mask(seed: seed, count: words), "\(backend) \(words)")
                let start: [UInt32] = (0..<words).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
                var a = start, b = start
                try gen.accumulate(seed: seed, into: &a, subtract: true)
                try library.accumulate(seed: seed, into: &b, subtract: true)
                #expect(a == b)
                let bytes = 4 * words + 3
                #expect(try gen.keystream(seed: seed, byteCount: bytes) == library.keystream(seed: seed, byteCount: bytes))
            }
        }
    }

    /// The automatic backend resolves to a kernel this CPU runs, and a forced unavailable one
    /// falls back to the library.
    @Test func backendResolution() {
        let best = MaskPRGBackend.best
        #expect(best.isAvailable && best != .automatic)
        #expect(MaskGenerator(prg: .aes128CTR).backend == best)
        for backend in MaskPRGBackend.allCases where !backend.isAvailable {
            #expect(MaskGenerator(prg: .aes128CTR, backend: backend).backend == .library)
        }
    }
}
