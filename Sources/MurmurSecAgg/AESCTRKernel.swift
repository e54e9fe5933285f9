import CMurmurKernels

/// Which code computes AES-128-CTR mask keystreams: the result is the same FIPS 197 AES either way.
///
/// The C kernels (Sources/CMurmurKernels/aes_ctr.c) fuse the keystream with the add into the
/// accumulator and, with VAES, run four blocks per 512-bit instruction; the library path is
/// swift-crypto's `AES._CTR` (BoringSSL), used where the CPU has no AES instructions.
public enum MaskPRGBackend: String, Sendable, CaseIterable {
    /// The fastest this CPU runs: `.vaes512`, else `.aesni`, else `.library`.
    case automatic
    /// swift-crypto's `AES._CTR` (BoringSSL) in 64 KiB calls, then a separate add pass.
    case library
    /// C kernel with AES-NI on 128-bit registers, 8 blocks in flight.
    case aesni
    /// C kernel with VAES on 512-bit registers (AVX-512F/BW), 32 blocks in flight.
    case vaes512

    /// The backend `.automatic` resolves to on this CPU.
    public static var best: MaskPRGBackend {
        switch Int(murmur_aes_best_impl()) {
        case Int(MURMUR_AES_VAES512.rawValue): return .vaes512
        case Int(MURMUR_AES_AESNI.rawValue): return .aesni
        default: return .library
        }
    }

    /// Whether this CPU can run the backend (`.library` and `.automatic` always can).
    public var isAvailable: Bool {
        switch self {
        case .automatic, .library: return true
        case .aesni: return murmur_aes_impl_available(Int32(MURMUR_AES_AESNI.rawValue)) != 0
        case .vaes512: return murmur_aes_impl_available(Int32(MURMUR_AES_VAES512.rawValue)) != 0
        }
    }

    /// `.automatic` resolved, and an unavailable kernel replaced by the library.
    var resolved: MaskPRGBackend {
        if self == .automatic { return Self.best }
        return isAvailable ? self : .library
    }

    /// The C kernel id, nil for the library.
    var kernelID: Int32? {
        switch resolved {
        case .aesni: return Int32(MURMUR_AES_AESNI.rawValue)
        case .vaes512: return Int32(MURMUR_AES_VAES512.rawValue)
        case .automatic, .library: return nil
        }
    }
}

/// AES-128-CTR (ctr32: the counter block's last 4 bytes are a big-endian block counter) through
/// the C kernels, for keys expanded once and used for a whole mask.
struct AESCTRKernel {
    /// The C kernel id (`MaskPRGBackend.kernelID`).
    let kernel: Int32
    /// The 11 round keys (FIPS 197 §5.2), 176 bytes.
    let roundKeys: [UInt8]

    /// Expands `key` (16 bytes) for `kernel`.
    init(key: [UInt8], kernel: Int32) {
        precondition(key.count == 16, "AES-128 keys are 16 bytes")  // programmer error: callers derive 16 bytes
        self.kernel = kernel
        var rk = [UInt8](repeating: 0, count: 176)
        key.withUnsafeBufferPointer { k in rk.withUnsafeMutableBufferPointer { murmur_aes128_expand_key(k.baseAddress, $0.baseAddress) } }
        roundKeys = rk
    }

    /// acc ± the keystream from `counterBlock` on, word i from bytes 4i…4i+3 little-endian.
    func accumulate(counterBlock: [UInt8], into acc: UnsafeMutableBufferPointer<UInt32>, subtract: Bool) {
        guard let base = acc.baseAddress else { return }
        roundKeys.withUnsafeBufferPointer { rk in
            counterBlock.withUnsafeBufferPointer { cb in
                murmur_aes128_ctr32_accumulate(kernel, rk.baseAddress, cb.baseAddress, base, acc.count, subtract ? 1 : 0)
            }
        }
    }

    /// The keystream from `counterBlock` on into `out`.
    func keystream(counterBlock: [UInt8], into out: UnsafeMutableRawBufferPointer) {
        guard let base = out.baseAddress else { return }
        roundKeys.withUnsafeBufferPointer { rk in
            counterBlock.withUnsafeBufferPointer { cb in
                murmur_aes128_ctr32_keystream(kernel, rk.baseAddress, cb.baseAddress, base.assumingMemoryBound(to: UInt8.self), out.count)
            }
        }
    }

    /// The counter block of mask block `index`: 12 zero bytes, then `index` big-endian.
    static func maskCounterBlock(_ index: UInt32) -> [UInt8] {
        var cb = [UInt8](repeating: 0, count: 16)
        for i in 0..<4 { cb[15 - i] = UInt8(truncatingIfNeeded: index >> (8 * UInt32(i))) }
        return cb
    }
}
