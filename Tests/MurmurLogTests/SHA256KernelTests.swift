import Crypto
import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurLog

/// Every SHA-256 path (portable C, x86 SHA extensions, swift-crypto) against FIPS 180-4 known answers
/// and against swift-crypto on random inputs of every length around the block boundaries.
@Suite(.ownThreads, .serialized) struct SHA256KernelTests {
    /// FIPS 180-4 examples (NIST "SHA256.pdf" example values; CSRC "Cryptographic Standards and Guidelines").
    static let vectors: [(String, String)] = [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]

    static var kernels: [SHA256Kernel] { SHA256Kernel.allCases.filter(SHA256Kernel.isAvailable) }

    @Test func knownAnswers() {
        defer { SHA256Kernel.force(nil) }
        for k in Self.kernels {
            #expect(SHA256Kernel.force(k) && SHA256Kernel.current == k)
            for (msg, digest) in Self.vectors {
                #expect(RFC9162.sha256(Array(msg.utf8)).hex == digest, "\(k) \(msg.prefix(8))")
            }
            // One million 'a' (FIPS 180-4 example 3).
            let million = [UInt8](repeating: 0x61, count: 1_000_000)
            #expect(RFC9162.sha256(million).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "\(k)")
            // RFC 9162 / transparency-dev: the empty tree and the leaf hash of the empty entry.
            #expect(RFC9162.leafHash([UInt8]()).hex == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        }
    }

    @Test func matchesSwiftCrypto() {
        defer { SHA256Kernel.force(nil) }
        var rng = SystemRandomNumberGenerator()
        for k in Self.kernels {
            SHA256Kernel.force(k)
            for len in Array(0...200) + [255, 256, 257, 1000, 4096, 65_535] {
                let data = (0..<len).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let want = Array(SHA256.hash(data: data))
                #expect(RFC9162.sha256(data).bytes == want, "\(k) length \(len)")
                #expect(RFC9162.leafHash(data).bytes == Array(SHA256.hash(data: [0] + data)), "\(k) leaf length \(len)")
                #expect(RFC9162.leafHash(data[...]).bytes == Array(SHA256.hash(data: [0] + data)))
            }
            for _ in 0..<500 {
                let l = RFC9162.leafHash((0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) })
                let r = RFC9162.leafHash((0..<9).map { _ in UInt8.random(in: 0...255, using: &rng) })
                #expect(RFC9162.nodeHash(l, r) == RFC9162.nodeHashSwiftCrypto(l, r), "\(k)")
            }
        }
    }

    @Test func forcingAnUnavailableKernelIsRefused() {
        defer { SHA256Kernel.force(nil) }
        if !SHA256Kernel.isAvailable(.shaExtensions) {
            #expect(!SHA256Kernel.force(.shaExtensions))
            #expect(SHA256Kernel.current == .swiftCrypto)
        } else {
            #expect(SHA256Kernel.force(.portable) && SHA256Kernel.current == .portable)
            #expect(SHA256Kernel.force(nil) && SHA256Kernel.current == .shaExtensions)
        }
        #expect(SHA256Kernel.force(.swiftCrypto) && SHA256Kernel.current == .swiftCrypto)
    }
}
