import Crypto
import Foundation
import _CryptoExtras

/// The keyed pseudo-random generator that expands a 32-byte seed into a mask vector.
///
/// Bonawitz et al. (CCS 2017, §4) need a PRG from seeds to Z_R^d; we use a stream cipher's
/// keystream with a fixed zero nonce, which is safe because every seed keys exactly one stream.
public enum MaskPRG: String, Sendable, CaseIterable {
    /// AES-128 in counter mode (BoringSSL, AES-NI when available), keyed by the XOR of the seed's halves.
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

    /// A generator over `prg`.
    public init(prg: MaskPRG = .protocolDefault) { self.prg = prg }

    /// The raw keystream: `byteCount` bytes of PRG(seed).
    public func keystream(seed: [UInt8], byteCount: Int) throws -> Data {
        guard seed.count == 32 else { throw SecAggError.malformed("mask seeds are 32 bytes, got \(seed.count)") }
        let zeros = [UInt8](repeating: 0, count: byteCount)
        do {
            switch prg {
            case .aes128CTR:
                let folded = (0..<16).map { seed[$0] ^ seed[$0 + 16] }
                return try AES._CTR.encrypt(
                    zeros, using: SymmetricKey(data: folded), nonce: AES._CTR.Nonce(nonceBytes: [UInt8](repeating: 0, count: 16)))
            case .aes256CTR:
                return try AES._CTR.encrypt(
                    zeros, using: SymmetricKey(data: seed), nonce: AES._CTR.Nonce(nonceBytes: [UInt8](repeating: 0, count: 16)))
            case .chacha20:
                return try Insecure.ChaCha20CTR.encrypt(
                    zeros, using: SymmetricKey(data: seed), nonce: Insecure.ChaCha20CTR.Nonce(data: [UInt8](repeating: 0, count: 12)))
            }
        } catch let error as SecAggError {
            throw error
        } catch {
            throw SecAggError.malformed("keystream generation failed: \(error)")
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
        let count = acc.count
        let stream = try keystream(seed: seed, byteCount: count * 4)
        stream.withUnsafeBytes { raw in
            acc.withUnsafeMutableBufferPointer { out in
                let words = raw.bindMemory(to: UInt32.self)  // Data storage is suitably aligned
                if subtract {
                    for i in 0..<count { out[i] &-= UInt32(littleEndian: words[i]) }
                } else {
                    for i in 0..<count { out[i] &+= UInt32(littleEndian: words[i]) }
                }
            }
        }
    }
}

/// Throughput measurements of the mask PRGs: the limit that mask expansion can reach.
public enum MaskPRGBenchmark {
    /// Keystream throughput of `prg` in bytes per second, over chunks of `bytes` for at least `minSeconds`.
    public static func keystreamBytesPerSecond(prg: MaskPRG, bytes: Int = 1 << 22, minSeconds: Double = 0.5) throws -> Double {
        let gen = MaskGenerator(prg: prg)
        let seed = [UInt8](repeating: 7, count: 32)
        var total = 0
        let clock = ContinuousClock()
        let start = clock.now
        var elapsed = 0.0
        repeat {
            let ks = try gen.keystream(seed: seed, byteCount: bytes)
            total += ks.count
            elapsed = seconds(clock.now - start)
        } while elapsed < minSeconds
        return Double(total) / elapsed
    }

    /// Mask-expansion throughput (keystream plus the add into an accumulator) in bytes per second.
    public static func expansionBytesPerSecond(prg: MaskPRG, words: Int = 1 << 20, minSeconds: Double = 0.5) throws -> Double {
        let gen = MaskGenerator(prg: prg)
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
