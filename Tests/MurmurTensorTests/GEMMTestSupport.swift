@testable import MurmurTensor

/// SplitMix64 (Steele, Lea & Flood, "Fast Splittable Pseudorandom Number Generators",
/// OOPSLA 2014): reproducible test data without depending on MurmurCore.
struct TestRNG {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    mutating func signedUnit() -> Float { Float(next() >> 40) * 0x1p-23 - 1 }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func pick<T>(_ values: [T]) -> T { values[int(0...(values.count - 1))] }
}

/// One sgemm problem with its stored operands. Padding past each row's width is NaN in A and B
/// (reading it would poison the result) and a sentinel in C (writing it is detected). With
/// β = 0, C starts as NaN, which must not leak into the result.
struct GEMMProblem: CustomStringConvertible {
    static let sentinel: Float = 12345

    var transA: Bool, transB: Bool
    var m: Int, n: Int, k: Int
    var lda: Int, ldb: Int, ldc: Int
    var alpha: Float, beta: Float
    var a: [Float], b: [Float], c: [Float]

    init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, padA: Int = 0, padB: Int = 0, padC: Int = 0,
         alpha: Float, beta: Float, rng: inout TestRNG) {
        self.transA = transA; self.transB = transB
        self.m = m; self.n = n; self.k = k
        self.alpha = alpha; self.beta = beta
        let (rowsA, colsA) = transA ? (k, m) : (m, k)
        let (rowsB, colsB) = transB ? (n, k) : (k, n)
        lda = colsA + padA; ldb = colsB + padB; ldc = n + padC
        a = Self.matrix(rows: rowsA, cols: colsA, ld: lda, pad: .nan, rng: &rng)
        b = Self.matrix(rows: rowsB, cols: colsB, ld: ldb, pad: .nan, rng: &rng)
        c = Self.matrix(rows: m, cols: n, ld: ldc, pad: Self.sentinel, rng: &rng)
        if beta == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = .nan } }
        }
    }

    static func matrix(rows: Int, cols: Int, ld: Int, pad: Float, rng: inout TestRNG) -> [Float] {
        var x = [Float](repeating: pad, count: max(rows * ld, 1))
        for i in 0..<rows { for j in 0..<cols { x[i * ld + j] = rng.signedUnit() } }
        return x
    }

    /// A random problem: sizes in 0...maxSize, random transposes, padding, α and β.
    static func random(maxSize: Int, rng: inout TestRNG) -> GEMMProblem {
        GEMMProblem(
            transA: rng.next() & 1 == 1, transB: rng.next() & 1 == 1,
            m: rng.int(0...maxSize), n: rng.int(0...maxSize), k: rng.int(0...maxSize),
            padA: rng.pick([0, 0, 1, 5]), padB: rng.pick([0, 0, 3, 17]), padC: rng.pick([0, 0, 2, 9]),
            alpha: rng.pick([1, 1, -0.5, 2.25]), beta: rng.pick([0, 0, 1, -1.5, 0.75]), rng: &rng)
    }

    var description: String {
        "m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB) lda=\(lda) ldb=\(ldb) ldc=\(ldc) α=\(alpha) β=\(beta)"
    }

    func opA(_ i: Int, _ p: Int) -> Float { transA ? a[p * lda + i] : a[i * lda + p] }
    func opB(_ p: Int, _ j: Int) -> Float { transB ? b[j * ldb + p] : b[p * ldb + j] }

    /// C after the product, stored with stride ldc, from `GEMM.sgemm` with the given kernel.
    func run(backend: GEMMBackend, threads: Int, parallelThreshold: Int = GEMM.parallelThreshold) -> [Float] {
        var out = c
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { cp in
                    GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                               a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                               beta: beta, c: cp.baseAddress!, ldc: ldc,
                               backend: backend, threads: threads, parallelThreshold: parallelThreshold)
                }
            }
        }
        return out
    }

    /// Indices (i, j) where `result` is outside the float error bound of the double-precision
    /// product, plus padding positions that changed. Empty means correct.
    ///
    /// Bound (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., §3.1):
    /// |ĉ − c| ≤ γ·(|α|·Σₚ|aᵢₚ||bₚⱼ| + |β||cᵢⱼ|) with γ = 2(k + 3)·2⁻²⁴, for any summation order.
    func errors(in result: [Float]) -> [String] {
        var bad: [String] = []
        let gamma = 2 * Double(k + 3) * 0x1p-24
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0, magnitude = 0.0
                for p in 0..<k where alpha != 0 {  // BLAS: α = 0 does not read A or B
                    let t = Double(opA(i, p)) * Double(opB(p, j))
                    exact += t
                    magnitude += abs(t)
                }
                exact *= Double(alpha)
                magnitude *= abs(Double(alpha))
                if beta != 0 {
                    exact += Double(beta) * Double(c[i * ldc + j])
                    magnitude += abs(Double(beta) * Double(c[i * ldc + j]))
                }
                let got = Double(result[i * ldc + j])
                if !(abs(got - exact) <= gamma * magnitude + 1e-30) {
                    bad.append("C[\(i),\(j)] = \(got), expected \(exact)")
                }
            }
            for j in n..<ldc where result[i * ldc + j] != Self.sentinel {
                bad.append("padding C[\(i),\(j)] overwritten")
            }
        }
        return bad
    }
}
