import MurmurTestSupport
import Testing
import MurmurTensor

/// `GEMMBenchmark` returns a usable number; its value is machine-dependent and not asserted.
@Suite(.ownThreads) struct GEMMBenchmarkTests {
    @Test func reportsFinitePositiveThroughput() {
        for threads in [1, 2] {
            let gflops = GEMMBenchmark.gflops(n: 24, threads: threads, minSeconds: 0)
            #expect(gflops.isFinite && gflops > 0, "threads \(threads): \(gflops)")
        }
        let layer = GEMMBenchmark.gflops(m: 3, n: 5, k: 7, threads: 1, minSeconds: 0)
        #expect(layer.isFinite && layer > 0)
    }
}
