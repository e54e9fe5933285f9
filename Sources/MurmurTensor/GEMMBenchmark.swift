import MurmurCore

/// Throughput measurement of `GEMM.sgemm`, for `murmur bench` and docs/gemm.md.
///
/// Mirrors scripts/reference/gemm_numpy.py (one warm-up call, repeats until `minSeconds`,
/// best repeat) so the two numbers compare like for like.
public enum GEMMBenchmark {
    /// GFLOP/s (2·n³ / best seconds / 10⁹) of a square n×n×n `sgemm` with up to `threads` threads.
    /// Use it to compare Murmur with NumPy/OpenBLAS at the same thread count; `threads` takes
    /// the place of `GEMM.maxThreads` (which it leaves alone), the rest is what `sgemm` does.
    public static func gflops(n: Int, threads: Int, minSeconds: Double) -> Double {
        gflops(m: n, n: n, k: n, threads: threads, minSeconds: minSeconds)
    }

    /// GFLOP/s of C[m×n] = A[m×k]·B[k×n] on `threads` threads (best of repeats lasting at
    /// least `minSeconds` in total). Use it for the small shapes of real layers, e.g. 32×128×64.
    public static func gflops(m: Int, n: Int, k: Int, threads: Int, minSeconds: Double) -> Double {
        precondition(m > 0 && n > 0 && k > 0, "GEMMBenchmark: sizes must be positive")  // programmer error
        var rng = SeededRNG(seed: 0x6765_6D6D)
        let a = (0..<(m * k)).map { _ in rng.nextFloat() * 2 - 1 }
        let b = (0..<(k * n)).map { _ in rng.nextFloat() * 2 - 1 }
        var c = [Float](repeating: 0, count: m * n)
        let clock = ContinuousClock()
        var best = Double.infinity
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    guard let aa = ap.baseAddress, let ba = bp.baseAddress, let ca = cp.baseAddress else { return }
                    let run = {
                        GEMM.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                                   a: aa, lda: k, b: ba, ldb: n, beta: 0, c: ca, ldc: n,
                                   backend: .best, threads: threads, parallelThreshold: GEMM.parallelThreshold)
                    }
                    run()  // warm-up: page faults, packing buffers, thread pool
                    var total = 0.0
                    var repeats = 0
                    while total < minSeconds || repeats < 3 {
                        let seconds = seconds(clock.measure(run))
                        best = min(best, seconds)
                        total += seconds
                        repeats += 1
                    }
                }
            }
        }
        return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
    }

    private static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) * 1e-18
    }
}
