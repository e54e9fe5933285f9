import ArgumentParser
import Foundation
import MurmurTensor

/// `murmur bench gemm`: GFLOP/s of our SGEMM against NumPy (OpenBLAS) on the same cores.
struct BenchGEMM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "SGEMM GFLOP/s at n×n×n vs NumPy (OpenBLAS), 1 and 2 threads.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Square sizes, comma-separated.")
    var sizes = "256,512,1024"

    @Option(help: "Thread counts, comma-separated.")
    var threads = "1,2"

    @Option(help: "Seconds of measurement per point.")
    var seconds = 1.0

    func run() async throws {
        let ns = try parseList(sizes, flag: "--sizes")
        let ts = try parseList(threads, flag: "--threads")
        var rows = [[String: Any]]()
        var ratios = [Double]()
        var table = ["backend: \(GEMM.backend)", "    n  threads   murmur GFLOP/s   numpy GFLOP/s   ratio"]
        for t in ts {
            var ref: [String: Any] = [:]
            if !options.noReference {
                options.progress("numpy, \(t) thread(s)…")
                ref = try options.reference("gemm_numpy.py", ["--threads", String(t), "--sizes", ns.map(String.init).joined(separator: ","), "--seconds", String(seconds)])
            }
            for n in ns {
                options.progress("murmur n=\(n), \(t) thread(s)…")
                let ours = GEMMBenchmark.gflops(n: n, threads: t, minSeconds: seconds)
                var row: [String: Any] = ["n": n, "threads": t, "gflops": ours]
                var line = String(format: "%5d  %7d   %14.1f", n, t, ours)
                if let theirs = (ref[String(n)] as? NSNumber)?.doubleValue, theirs > 0 {
                    row["numpy_gflops"] = theirs
                    row["ratio_vs_numpy"] = ours / theirs
                    ratios.append(ours / theirs)
                    line += String(format: "   %13.1f   %5.2f", theirs, ours / theirs)
                }
                rows.append(row)
                table.append(line)
            }
        }
        var object: [String: Any] = ["benchmark": "gemm", "backend": GEMM.backend, "results": rows]
        if !ratios.isEmpty {
            object["ratio_vs_numpy"] = geometricMean(ratios)
            object["min_ratio_vs_numpy"] = ratios.min()
            table.append(String(format: "geometric mean ratio vs numpy: %.2f (min %.2f)", geometricMean(ratios), ratios.min() ?? 0))
        }
        try options.emit(object, table: table)
    }
}
