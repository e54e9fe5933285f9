import MurmurTestSupport
import Testing
@testable import MurmurTensor

/// `GEMM.sgemm` against a double-precision reference, on every kernel this CPU runs.
@Suite(.ownThreads) struct GEMMTests {
    static let backends = GEMMBackend.allCases.filter(\.isAvailable)

    @Test(arguments: backends)
    func randomShapesMatchDoubleReference(backend: GEMMBackend) {
        var rng = TestRNG(state: 1)
        for _ in 0..<150 {
            let problem = GEMMProblem.random(maxSize: 45, rng: &rng)
            let errors = problem.errors(in: problem.run(backend: backend, threads: 1))
            #expect(errors.isEmpty, "\(backend) \(problem): \(errors.prefix(3))")
        }
    }

    /// Shapes that cross every cache block (KC ≤ 384 in k, MC = 144 in m, NC = 2048 in n) and
    /// leave partial register tiles, in all four transpose combinations.
    @Test(arguments: backends)
    func shapesCrossingCacheBlocks(backend: GEMMBackend) async throws {
        try await onOwnThreads {
            var rng = TestRNG(state: 2)
            let shapes = [(m: 150, n: 37, k: 801), (m: 7, n: 2085, k: 19), (m: 301, n: 33, k: 5)]
            for shape in shapes {
                for trans in [(false, false), (false, true), (true, false), (true, true)] {
                    let problem = GEMMProblem(transA: trans.0, transB: trans.1, m: shape.m, n: shape.n, k: shape.k,
                                              padA: 3, padB: 1, padC: 4, alpha: -0.75, beta: 1.5, rng: &rng)
                    let errors = problem.errors(in: problem.run(backend: backend, threads: 1))
                    #expect(errors.isEmpty, "\(backend) \(problem): \(errors.prefix(3))")
                }
            }
        }
    }

    /// k = 0 and α = 0 reduce to C ← βC without touching A or B (their NaNs must not appear);
    /// β = 0 overwrites a NaN C; m = 0 or n = 0 leave C alone.
    @Test(arguments: backends)
    func degenerateShapes(backend: GEMMBackend) {
        var rng = TestRNG(state: 3)
        for (m, n, k, alpha, beta) in [(5, 9, 0, Float(1), Float(-2)), (5, 9, 0, 1, 0), (6, 17, 4, 0, 0.5),
                                       (0, 8, 8, 1, 1), (8, 0, 8, 1, 0), (1, 1, 1, 3, 0)] {
            var problem = GEMMProblem(transA: false, transB: true, m: m, n: n, k: k, padA: 2, padB: 2, padC: 1,
                                      alpha: alpha, beta: beta, rng: &rng)
            if alpha == 0 { problem.a = problem.a.map { _ in .nan } }
            let result = problem.run(backend: backend, threads: 1)
            #expect(problem.errors(in: result).isEmpty, "\(backend) \(problem)")
            if m == 0 || n == 0 {
                #expect(result.elementsEqual(problem.c) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "C changed: \(problem)")
            }
        }
    }

    /// The portable kernel and the one dispatched on this CPU compute the same products up to
    /// rounding (they differ in FMA use and tile shape, so not bit for bit).
    @Test func portableAndDispatchedAgree() {
        var rng = TestRNG(state: 4)
        for _ in 0..<40 {
            let problem = GEMMProblem.random(maxSize: 80, rng: &rng)
            let portable = problem.run(backend: .portable, threads: 1)
            let dispatched = problem.run(backend: .best, threads: 1)
            let tolerance = 4 * Float(problem.k + 3) * 0x1p-24
            var mismatches: [String] = []
            for i in 0..<problem.m {
                for j in 0..<problem.n {
                    let x = portable[i * problem.ldc + j], y = dispatched[i * problem.ldc + j]
                    let scale = max(1, abs(x), abs(y)) * max(1, abs(problem.alpha)) * Float(max(problem.k, 1)).squareRoot()
                    if !(abs(x - y) <= tolerance * scale) { mismatches.append("C[\(i),\(j)] \(x) vs \(y)") }
                }
            }
            #expect(mismatches.isEmpty, "portable vs \(GEMMBackend.best): \(problem): \(mismatches.prefix(3))")
        }
    }

    /// Splitting C between threads never changes a bit: each element's sum over k runs in the
    /// same order whatever band it falls in. Covers row and column splits and uneven bands.
    @Test(arguments: backends)
    func threadCountsGiveIdenticalResults(backend: GEMMBackend) {
        var rng = TestRNG(state: 5)
        let shapes = [(m: 70, n: 45, k: 33), (m: 19, n: 131, k: 300), (m: 129, n: 129, k: 3)]
        for shape in shapes {
            for trans in [(false, false), (true, true), (false, true)] {
                let problem = GEMMProblem(transA: trans.0, transB: trans.1, m: shape.m, n: shape.n, k: shape.k,
                                          padA: 1, padB: 2, padC: 3, alpha: 1.25, beta: 0.5, rng: &rng)
                let one = problem.run(backend: backend, threads: 1, parallelThreshold: 0)
                for threads in [2, 3] {
                    let split = GEMMSplit(m: shape.m, n: shape.n, k: shape.k, threads: threads, parallelThreshold: 0,
                                          tileRows: backend.tileRows, tileColumns: backend.tileColumns)
                    #expect(split.parts > 1, "shape \(shape) was not split")
                    let many = problem.run(backend: backend, threads: threads, parallelThreshold: 0)
                    #expect(one == many, "\(backend) \(threads) threads differ: \(problem)")
                }
            }
        }
    }

    @Test func publicEntryPointUsesDispatchedKernel() {
        var rng = TestRNG(state: 6)
        let problem = GEMMProblem(transA: true, transB: false, m: 33, n: 65, k: 17, padA: 1, padB: 0, padC: 2,
                                  alpha: 2, beta: -1, rng: &rng)
        var out = problem.c
        problem.a.withUnsafeBufferPointer { ap in
            problem.b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { cp in
                    GEMM.sgemm(transA: true, transB: false, m: 33, n: 65, k: 17, alpha: 2,
                               a: ap.baseAddress!, lda: problem.lda, b: bp.baseAddress!, ldb: problem.ldb,
                               beta: -1, c: cp.baseAddress!, ldc: problem.ldc)
                }
            }
        }
        #expect(out == problem.run(backend: .best, threads: 1))
        #expect(GEMM.backend == GEMMBackend.best.name)
        #expect(GEMMBackend.best.isAvailable)
    }

    /// Known answer: [[1, 2], [3, 4]]·[[5, 6], [7, 8]] = [[19, 22], [43, 50]].
    @Test func matmulKnownAnswer() {
        let a = Tensor(shape: [2, 2], data: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 2], data: [5, 6, 7, 8])
        #expect(GEMM.matmul(a, b) == Tensor(shape: [2, 2], data: [19, 22, 43, 50]))
    }

    @Test func matmulEmptyShapes() {
        #expect(GEMM.matmul(Tensor(zeros: [0, 3]), Tensor(zeros: [3, 2])) == Tensor(zeros: [0, 2]))
        #expect(GEMM.matmul(Tensor(zeros: [2, 0]), Tensor(zeros: [0, 3])) == Tensor(zeros: [2, 3]))
    }
}
