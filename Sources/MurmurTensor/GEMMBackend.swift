import CMurmurKernels

/// The micro-kernel families of `GEMM.sgemm`, chosen once per process from what the CPU supports.
///
/// Each wraps one copy of the packed GEMM in CMurmurKernels compiled with a per-function
/// `target` attribute; see docs/gemm.md for the tile sizes and why no compiler flags are needed.
enum GEMMBackend: CaseIterable, Sendable {
    /// Clang vector extensions at the baseline ISA (SSE2 on x86-64, NEON on arm64).
    case portable
    /// x86-64 AVX2 + FMA, 6×16 register tile.
    case avx2
    /// x86-64 AVX-512F, 12×32 register tile.
    case avx512

    /// The kernel used by `GEMM.sgemm` on this CPU (policy in `murmur_gemm_best_kernel`).
    static let best: GEMMBackend = GEMMBackend(murmur_gemm_best_kernel())

    /// `best`, unless `GEMM.useKernel(_:)` set an override.
    static var current: GEMMBackend {
        let o = murmur_gemm_kernel_override()
        return o < 0 ? best : GEMMBackend(murmur_gemm_kernel(rawValue: UInt32(o)))
    }

    init(_ kernel: murmur_gemm_kernel) {
        switch kernel {
        case MURMUR_GEMM_AVX2: self = .avx2
        case MURMUR_GEMM_AVX512: self = .avx512
        default: self = .portable
        }
    }

    /// The C enumerator for this kernel.
    var kernel: murmur_gemm_kernel {
        switch self {
        case .portable: MURMUR_GEMM_PORTABLE
        case .avx2: MURMUR_GEMM_AVX2
        case .avx512: MURMUR_GEMM_AVX512
        }
    }

    /// The name reported by `GEMM.backend`.
    var name: String {
        switch self {
        case .portable: "portable"
        case .avx2: "avx2-fma"
        case .avx512: "avx512"
        }
    }

    /// Whether this CPU and OS can run the kernel (otherwise CMurmurKernels runs `portable`).
    var isAvailable: Bool { murmur_gemm_kernel_available(kernel) != 0 }

    /// Rows of the register tile; row splits between threads are multiples of it.
    var tileRows: Int { Int(murmur_gemm_kernel_mr(kernel)) }

    /// Columns of the register tile; column splits between threads are multiples of it.
    var tileColumns: Int { Int(murmur_gemm_kernel_nr(kernel)) }
}
