import MurmurTensor

/// Squared Euclidean distances between all pairs of updates, through one Gram matrix:
/// ‖a − b‖² = ‖a‖² + ‖b‖² − 2·a·b, with G = X·Xᵀ computed by `GEMM.sgemm`.
/// Only the upper block triangle of G is multiplied (G is symmetric), about half the flops of
/// the full product. Cancellation makes tiny distances inexact (errors ~1e-7·‖a‖²); results are
/// clamped at 0 and the diagonal is exactly 0 — fine for ranking neighbours as Krum does.
enum PairwiseDistances {
    /// Rows per GEMM block of the upper triangle.
    static let blockRows = 256

    /// The n×n row-major matrix of squared distances.
    static func squared(_ u: ClientUpdates) -> [Float] {
        let n = u.count, d = u.dimension
        var g = [Float](repeating: 0, count: n * n)
        guard n > 0 else { return g }
        u.values.withUnsafeBufferPointer { xb in
            g.withUnsafeMutableBufferPointer { gb in
                guard let x = xb.baseAddress, let gp = gb.baseAddress, d > 0 else { return }
                var i0 = 0
                while i0 < n {
                    let rows = min(blockRows, n - i0)
                    // G[i0..<i0+rows, i0..<n] = X[i0..<i0+rows] · X[i0..<n]ᵀ
                    GEMM.sgemm(transA: false, transB: true, m: rows, n: n - i0, k: d, alpha: 1,
                               a: x + i0 * d, lda: d, b: x + i0 * d, ldb: d,
                               beta: 0, c: gp + i0 * n + i0, ldc: n)
                    i0 += rows
                }
                // Mirror the strict upper triangle, then turn inner products into distances.
                for i in 0..<n { for j in 0..<i { gp[i * n + j] = gp[j * n + i] } }
                var sq = [Float](repeating: 0, count: n)
                for i in 0..<n { sq[i] = gp[i * n + i] }
                for i in 0..<n {
                    for j in 0..<n {
                        gp[i * n + j] = i == j ? 0 : max(0, sq[i] + sq[j] - 2 * gp[i * n + j])
                    }
                }
            }
        }
        return g
    }
}
