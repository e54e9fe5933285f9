import CMurmurKernels

/// Which SHA-256 the log's hashes use: the x86 SHA extensions (C, no per-call overhead) when the CPU has them,
/// else swift-crypto (BoringSSL's assembly); portable C can be forced for cross-checks.
/// A proof check is ~24 two-block hashes, where a general hash API's per-call cost dominated (docs/log.md, "Speed").
public enum SHA256Kernel: Int, Sendable, CaseIterable {
    /// Portable C compression (FIPS 180-4 §6.2.2).
    case portable = 0
    /// x86-64 SHA256RNDS2/MSG1/MSG2 (Intel SHA extensions).
    case shaExtensions = 1
    /// swift-crypto's `SHA256` (the default without SHA extensions).
    case swiftCrypto = 2

    /// Whether this CPU can run `kernel`.
    public static func isAvailable(_ kernel: SHA256Kernel) -> Bool {
        kernel != .shaExtensions || murmur_sha256_has_shani() != 0
    }

    /// The kernel in use (process-wide).
    public static var current: SHA256Kernel { SHA256Kernel(rawValue: Int(murmur_sha256_impl_in_use())) ?? .swiftCrypto }

    /// Whether hashes go through swift-crypto rather than the C entry points.
    @inline(__always) static var usesLibrary: Bool { murmur_sha256_impl_in_use() == Int32(MURMUR_SHA256_LIBRARY.rawValue) }

    /// Forces `kernel` (benchmarks and cross-checks), or the automatic choice with nil. False if it cannot run here.
    @discardableResult
    public static func force(_ kernel: SHA256Kernel?) -> Bool {
        murmur_sha256_set_impl(Int32(kernel?.rawValue ?? -1)) != 0
    }
}
