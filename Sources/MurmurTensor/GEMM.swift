/// Single-precision general matrix multiply on row-major storage:
/// C ← α·op(A)·op(B) + β·C, where op(X) is X or Xᵀ.
///
/// PLACEHOLDER: a straightforward reference loop. The fast path (packed, cache-blocked,
/// AVX2/FMA kernel chosen at run time, two threads for large work) replaces the body.
public enum GEMM {
    /// C[m×n] ← α·op(A)[m×k]·op(B)[k×n] + β·C. Leading dimensions are row strides of the
    /// matrices as stored (before the transpose).
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += av * bv
                }
                c[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }

    /// A·B for rank-2 tensors.
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0], "matmul: shapes \(a.shape) × \(b.shape)")
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        var c = Tensor(zeros: [m, n])
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                c.data.withUnsafeMutableBufferPointer { cp in
                    sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                          a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n,
                          beta: 0, c: cp.baseAddress!, ldc: n)
                }
            }
        }
        return c
    }
}
