import CMurmurKernels
import Dispatch

/// Single-precision general matrix multiply on row-major storage:
/// C ← α·op(A)·op(B) + β·C, where op(X) is X or Xᵀ. Every dense layer of MurmurML runs on it.
///
/// The work is done by a packed, cache-blocked GEMM in the style of GotoBLAS/BLIS (Goto & van de
/// Geijn, ACM TOMS 34(3), 2008; Van Zee & van de Geijn, ACM TOMS 41(3), 2015) in CMurmurKernels,
/// with an AVX2/FMA or AVX-512 micro-kernel picked at run time and a portable fallback. Large
/// products are split over up to `maxThreads` threads by blocks of C; every element of C is
/// always summed over k in the same order, so results do not depend on the thread count.
/// Design and measurements: docs/gemm.md.
public enum GEMM {
    /// The largest number of threads one `sgemm` call may use (at least 1; by default the
    /// number of online processors). Set it to compare 1 and 2 threads, or to keep GEMM on the
    /// calling thread when the caller already runs one task per core. Safe to read and set from
    /// any thread (an atomic in CMurmurKernels).
    public static var maxThreads: Int {
        get { Int(murmur_gemm_max_threads()) }
        set { murmur_gemm_set_max_threads(Int32(clamping: newValue)) }
    }

    /// The micro-kernel `sgemm` runs on this CPU: "avx512", "avx2-fma" or "portable".
    /// Chosen once per process from CPUID; report it next to benchmark numbers.
    public static let backend: String = GEMMBackend.best.name

    /// C[m×n] ← α·op(A)[m×k]·op(B)[k×n] + β·C. Leading dimensions are row strides of the
    /// matrices as stored (before the transpose): `lda ≥ (transA ? m : k)`,
    /// `ldb ≥ (transB ? k : n)`, `ldc ≥ n`. With β = 0, C is only written (NaNs in it do not
    /// propagate). Products with m·n·k ≥ `parallelThreshold` use up to `maxThreads` threads.
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
              a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
              backend: GEMMBackend.current, threads: maxThreads, parallelThreshold: parallelThreshold)
    }

    /// Kernels this CPU can run ("portable" always; "avx2-fma", "avx512" where supported).
    public static var availableKernels: [String] {
        GEMMBackend.allCases.filter(\.isAvailable).map(\.name)
    }

    /// The kernel `sgemm` uses now: `backend` unless overridden with `useKernel(_:)`.
    public static var kernel: String { GEMMBackend.current.name }

    /// Forces `sgemm` onto the named kernel (nil restores the automatic choice); returns false
    /// for a kernel this CPU cannot run. For measuring honest variation between kernels
    /// (MurmurVerify's calibration) and for tests; process-wide and thread-safe (an atomic).
    @discardableResult
    public static func useKernel(_ name: String?) -> Bool {
        guard let name else {
            murmur_gemm_set_kernel_override(-1)
            return true
        }
        guard let b = GEMMBackend.allCases.first(where: { $0.name == name }), b.isAvailable else {
            return false
        }
        murmur_gemm_set_kernel_override(Int32(b.kernel.rawValue))
        return true
    }

    /// m·n·k from which `sgemm` splits work between threads. Below it (e.g. the 32×128×64
    /// products of an MLP layer) the cost of waking a second thread exceeds the gain.
    public static let parallelThreshold = 128 * 128 * 128

    /// A·B for rank-2 tensors.
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0], "matmul: shapes \(a.shape) × \(b.shape)")
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        var c = Tensor(zeros: [m, n])
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                c.data.withUnsafeMutableBufferPointer { cp in
                    guard let ca = cp.baseAddress else { return }  // m·n = 0: nothing to compute
                    guard let aa = ap.baseAddress, let ba = bp.baseAddress else { return }  // k = 0: C = 0
                    sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                          a: aa, lda: k, b: ba, ldb: n, beta: 0, c: ca, ldc: n)
                }
            }
        }
        return c
    }

    /// `sgemm` with an explicit kernel, thread budget and threshold (tests and benchmarks).
    static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        backend: GEMMBackend, threads: Int, parallelThreshold: Int
    ) {
        // Programmer errors, as in BLAS's xerbla: the shapes and strides must describe the arrays.
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(lda >= (transA ? m : k), "sgemm: lda=\(lda) is shorter than a row of A")
        precondition(ldb >= (transB ? k : n), "sgemm: ldb=\(ldb) is shorter than a row of B")
        precondition(ldc >= n, "sgemm: ldc=\(ldc) is shorter than a row of C")
        let split = GEMMSplit(m: m, n: n, k: k, threads: threads, parallelThreshold: parallelThreshold,
                              tileRows: backend.tileRows, tileColumns: backend.tileColumns)
        let kernel = backend.kernel
        if split.parts <= 1 {
            murmur_sgemm(kernel, transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        let operands = GEMMOperands(a: a, b: b, c: c)
        DispatchQueue.concurrentPerform(iterations: split.parts) { part in
            let range = split.range(part)
            let (a, b, c) = (operands.a, operands.b, operands.c)
            if split.byColumns {
                // Columns j of op(B) start at b[j] (not transposed) or row j of B (transposed).
                let bPart = transB ? b + range.lowerBound * ldb : b + range.lowerBound
                murmur_sgemm(kernel, transA ? 1 : 0, transB ? 1 : 0, m, range.count, k, alpha,
                             a, lda, bPart, ldb, beta, c + range.lowerBound, ldc)
            } else {
                // Rows i of op(A) start at row i of A (not transposed) or a[i] (transposed).
                let aPart = transA ? a + range.lowerBound : a + range.lowerBound * lda
                murmur_sgemm(kernel, transA ? 1 : 0, transB ? 1 : 0, range.count, n, k, alpha,
                             aPart, lda, b, ldb, beta, c + range.lowerBound * ldc, ldc)
            }
        }
    }
}

/// The operand pointers of one `sgemm` call, handed to the threads of a split.
///
/// `@unchecked Sendable` is sound here: the threads only read A and B, each writes a disjoint
/// band of C (`GEMMSplit.range`), and `concurrentPerform` returns only after every thread is
/// done, so no pointer outlives the caller's borrow and no element is written twice.
private struct GEMMOperands: @unchecked Sendable {
    let a: UnsafePointer<Float>
    let b: UnsafePointer<Float>
    let c: UnsafeMutablePointer<Float>
}

/// How `sgemm` divides C between threads: into `parts` bands of whole register tiles along the
/// longer of its two dimensions, so each thread packs only its share of one operand.
struct GEMMSplit: Equatable {
    /// Number of bands (1: run on the calling thread).
    let parts: Int
    /// True when bands are column ranges of C, false for row ranges.
    let byColumns: Bool
    /// Width of each band except possibly the last (a multiple of the register tile).
    let band: Int
    /// Length of the split dimension.
    let extent: Int

    init(m: Int, n: Int, k: Int, threads: Int, parallelThreshold: Int, tileRows: Int, tileColumns: Int) {
        byColumns = n >= m
        extent = byColumns ? n : m
        let tile = byColumns ? tileColumns : tileRows
        let (work, overflow) = m.multipliedReportingOverflow(by: n)
        let big = overflow || work.multipliedReportingOverflow(by: k).overflow || work * k >= parallelThreshold
        let tiles = (extent + tile - 1) / tile
        let wanted = big && k > 0 ? min(max(threads, 1), tiles) : 1
        let tilesPerBand = (tiles + wanted - 1) / max(wanted, 1)
        band = max(tilesPerBand * tile, 1)
        parts = extent == 0 ? 1 : (extent + band - 1) / band
    }

    /// The indices of the split dimension that band `part` covers.
    func range(_ part: Int) -> Range<Int> {
        let lower = part * band
        return lower..<min(lower + band, extent)
    }
}
