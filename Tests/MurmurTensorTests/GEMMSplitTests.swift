import MurmurTestSupport
import Testing
@testable import MurmurTensor

/// How `sgemm` divides work between threads, and the thread-count setting.
@Suite(.ownThreads) struct GEMMSplitTests {
    @Test func smallLayerProductsStayOnOneThread() {
        for (m, n, k) in [(32, 128, 64), (64, 128, 32), (32, 64, 128), (1, 4096, 64)] {
            let split = GEMMSplit(m: m, n: n, k: k, threads: 2, parallelThreshold: GEMM.parallelThreshold,
                                  tileRows: 6, tileColumns: 16)
            #expect(split.parts == 1, "\(m)×\(n)×\(k) split into \(split.parts)")
        }
    }

    @Test func oneThreadNeverSplits() {
        let split = GEMMSplit(m: 1024, n: 1024, k: 1024, threads: 1, parallelThreshold: 0, tileRows: 6, tileColumns: 16)
        #expect(split.parts == 1)
    }

    /// Bands cover the split dimension exactly once, start on tile boundaries, and follow the
    /// longer side of C.
    @Test(arguments: [(m: 1024, n: 1024, k: 1024, threads: 2), (m: 500, n: 37, k: 300, threads: 2),
                      (m: 37, n: 500, k: 300, threads: 3), (m: 20, n: 33, k: 1, threads: 8)])
    func bandsTileTheLongerSide(m: Int, n: Int, k: Int, threads: Int) {
        let split = GEMMSplit(m: m, n: n, k: k, threads: threads, parallelThreshold: 0, tileRows: 6, tileColumns: 16)
        #expect(split.byColumns == (n >= m))
        let tile = split.byColumns ? 16 : 6
        #expect(split.parts > 1 && split.parts <= threads)
        var next = 0
        for part in 0..<split.parts {
            let range = split.range(part)
            #expect(range.lowerBound == next && range.lowerBound % tile == 0 && !range.isEmpty)
            next = range.upperBound
        }
        #expect(next == (split.byColumns ? n : m))
    }

    @Test func maxThreadsSettingClampsAndRoundTrips() {
        let saved = GEMM.maxThreads
        defer { GEMM.maxThreads = saved }
        #expect(saved >= 1)
        GEMM.maxThreads = 1
        #expect(GEMM.maxThreads == 1)
        GEMM.maxThreads = 0
        #expect(GEMM.maxThreads == 1)
        GEMM.maxThreads = 2
        #expect(GEMM.maxThreads == 2)
    }
}
