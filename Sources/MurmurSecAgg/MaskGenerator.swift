import Crypto
import Foundation
import _CryptoExtras

/// The keyed pseudo-random generator that expands a 32-byte seed into a mask vector.
///
/// Bonawitz et al. (CCS 2017, §4) need a PRG from seeds to Z_R^d; we use a stream cipher's
/// keystream with a fixed zero nonce, which is safe because every seed keys exactly one stream.
public enum MaskPRG: String, Sendable, CaseIterable {
    /// AES-128 in counter mode, keyed by the XOR of the seed's halves; block i of the keystream is
    /// AES_k(0^96 ‖ i as 32-bit big-endian). Computed by the C kernel (VAES or AES-NI) or BoringSSL,
    /// byte-identical (`MaskPRGBackend`).
    case aes128CTR
    /// AES-256 in counter mode, keyed by the full seed.
    case aes256CTR
    /// ChaCha20 (RFC 8439 block function, 32-bit counter), keyed by the full seed.
    case chacha20

    /// The generator used by the protocol: AES-128-CTR, measured fastest on x86-64 with AES-NI
    /// (see docs/secagg.md for the numbers).
    public static let protocolDefault = MaskPRG.aes128CTR
}

/// Expands seeds into mask vectors over Z_{2^32} and adds or subtracts them in place.
///
/// Reduction to Z_{2^b} happens once at the end: 2^b divides 2^32, so wrapping UInt32
/// arithmetic followed by `& (2^b − 1)` equals arithmetic mod 2^b throughout.
public struct MaskGenerator: Sendable {
    /// The keystream generator.
    public let prg: MaskPRG

    /// Who computes AES-128-CTR (ignored by the other PRGs); every backend gives the same bytes.
    public let backend: MaskPRGBackend
    /// The AES kernel id when `prg` is AES-128-CTR and a C kernel runs on this CPU.
    let aesKernel: Int32?

    /// A generator over `prg`; `backend` picks the AES-128-CTR code (default: the fastest here).
    public init(prg: MaskPRG = .protocolDefault, backend: MaskPRGBackend = .automatic) {
        self.prg = prg
        self.backend = backend.resolved
        self.aesKernel = prg == .aes128CTR ? self.backend.kernelID : nil
    }

    /// The AES-128 key of a 32-byte seed: the XOR of its halves.
    static func aes128Key(_ seed: [UInt8]) -> [UInt8] { (0..<16).map { seed[$0] ^ seed[$0 + 16] } }

    static func checkSeed(_ seed: [UInt8], byteCount: Int) throws {
        guard seed.count == 32 else { throw SecAggError.malformed("mask seeds are 32 bytes, got \(seed.count)") }
        guard byteCount / 16 < Int(UInt32.max) else { throw SecAggError.invalidParameters("mask longer than 2^32 blocks") }
    }

    /// The raw keystream: `byteCount` bytes of PRG(seed).
    public func keystream(seed: [UInt8], byteCount: Int) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(byteCount)
        try forEachChunk(seed: seed, byteCount: byteCount) { out += $1 }
        return out
    }

    /// Bytes of keystream produced per cipher call: small enough to stay in L2 while it is
    /// added into the accumulator, large enough to amortize the call.
    static let chunkBytes = 1 << 16

    /// Calls `body(offset, chunk)` for consecutive keystream chunks; chunk i starts at block
    /// i·chunkBytes/64 (ChaCha20) or i·chunkBytes/16 (AES), so the chunks form one stream.
    func forEachChunk(seed: [UInt8], byteCount: Int, _ body: (Int, UnsafeRawBufferPointer) -> Void) throws {
        try Self.checkSeed(seed, byteCount: byteCount)
        if let kernel = aesKernel {
            let aes = AESCTRKernel(key: Self.aes128Key(seed), kernel: kernel)
            var buffer = [UInt8](repeating: 0, count: min(Self.chunkBytes, byteCount))
            var offset = 0
            while offset < byteCount {
                let length = min(Self.chunkBytes, byteCount - offset)
                buffer.withUnsafeMutableBytes { raw in
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: raw[0..<length])
                    aes.keystream(counterBlock: AESCTRKernel.maskCounterBlock(UInt32(offset / 16)), into: chunk)
                    body(offset, UnsafeRawBufferPointer(chunk))
                }
                offset += length
            }
            return
        }
        let zeros = [UInt8](repeating: 0, count: min(Self.chunkBytes, byteCount))
        let key: SymmetricKey
        switch prg {
        case .aes128CTR: key = SymmetricKey(data: Self.aes128Key(seed))
        case .aes256CTR, .chacha20: key = SymmetricKey(data: seed)
        }
        var offset = 0
        while offset < byteCount {
            let length = min(Self.chunkBytes, byteCount - offset)
            let chunk: Data
            do {
                switch prg {
                case .aes128CTR, .aes256CTR:
                    let counter = AESCTRKernel.maskCounterBlock(UInt32(offset / 16))
                    chunk = try AES._CTR.encrypt(zeros[0..<length], using: key, nonce: AES._CTR.Nonce(nonceBytes: counter))
                case .chacha20:
                    chunk = try Insecure.ChaCha20CTR.encrypt(
                        zeros[0..<length], using: key, counter: Insecure.ChaCha20CTR.Counter(offset: UInt32(offset / 64)),
                        nonce: Insecure.ChaCha20CTR.Nonce(data: [UInt8](repeating: 0, count: 12)))
                }
            } catch {
                throw SecAggError.malformed("keystream generation failed: \(error)")
            }
            chunk.withUnsafeBytes { body(offset, $0) }
            offset += length
        }
    }

    /// The mask PRG(seed) ∈ Z_{2^32}^count (little-endian words of the keystream).
    public func mask(seed: [UInt8], count: Int) throws -> [UInt32] {
        var out = [UInt32](repeating: 0, count: count)
        try accumulate(seed: seed, into: &out, subtract: false)
        return out
    }

    /// acc ← acc ± PRG(seed) (wrapping, i.e. mod 2^32).
    public func accumulate(seed: [UInt8], into acc: inout [UInt32], subtract: Bool) throws {
        if let kernel = aesKernel {
            // Keystream and add fused in the C kernel: the keystream never goes through memory.
            try Self.checkSeed(seed, byteCount: acc.count * 4)
            let aes = AESCTRKernel(key: Self.aes128Key(seed), kernel: kernel)
            acc.withUnsafeMutableBufferPointer { aes.accumulate(counterBlock: AESCTRKernel.maskCounterBlock(0), into: $0, subtract: subtract) }
            return
        }
        try acc.withUnsafeMutableBufferPointer { out in
            try forEachChunk(seed: seed, byteCount: out.count * 4) { offset, raw in
                let first = offset / 4, n = raw.count / 4
                let dst = UnsafeMutableBufferPointer(rebasing: out[first..<first + n])
                if subtract {
                    for i in 0..<n { dst[i] &-= UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
                } else {
                    for i in 0..<n { dst[i] &+= UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
                }
            }
        }
    }
}

/// Throughput measurements of the mask PRGs: the limit that mask expansion can reach.
public enum MaskPRGBenchmark {
    /// Keystream throughput of `prg` in bytes per second, over chunks of `bytes` for at least `minSeconds`.
    public static func keystreamBytesPerSecond(
        prg: MaskPRG, backend: MaskPRGBackend = .automatic, bytes: Int = 1 << 22, minSeconds: Double = 0.5
    ) throws -> Double {
        let gen = MaskGenerator(prg: prg, backend: backend)
        let seed = [UInt8](repeating: 7, count: 32)
        var total = 0
        let clock = ContinuousClock()
        let start = clock.now
        var elapsed = 0.0
        var sink: UInt8 = 0
        repeat {
            // The cipher alone, in the same 64 KiB calls mask expansion uses; one byte per chunk is read.
            try gen.forEachChunk(seed: seed, byteCount: bytes) { _, chunk in sink ^= chunk[0] }
            total += bytes
            elapsed = seconds(clock.now - start)
        } while elapsed < minSeconds
        precondition(sink != 1 || total > 0)  // keeps `sink` alive; always true
        return Double(total) / elapsed
    }

    /// Mask-expansion throughput (keystream plus the add into an accumulator) in bytes per second.
    public static func expansionBytesPerSecond(
        prg: MaskPRG, backend: MaskPRGBackend = .automatic, words: Int = 1 << 20, minSeconds: Double = 0.5
    ) throws -> Double {
        let gen = MaskGenerator(prg: prg, backend: backend)
        let seed = [UInt8](repeating: 7, count: 32)
        var acc = [UInt32](repeating: 0, count: words)
        var total = 0
        let clock = ContinuousClock()
        let start = clock.now
        var elapsed = 0.0
        repeat {
            try gen.accumulate(seed: seed, into: &acc, subtract: false)
            total += words * 4
            elapsed = seconds(clock.now - start)
        } while elapsed < minSeconds
        return Double(total) / elapsed
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
