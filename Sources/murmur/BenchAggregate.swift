import ArgumentParser
import Foundation
import MurmurCore
import MurmurFL

/// `murmur bench aggregate`: seconds per robust aggregation of n client updates of d parameters,
/// against NumPy implementations of Krum, Multi-Krum, the median and the trimmed mean, and
/// optionally (`--flower`) against Flower's own `aggregate_krum`, `aggregate_median` and
/// `aggregate_trimmed_avg`.
struct BenchAggregate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate",
        abstract: "Seconds per robust aggregation (n = 1,000 updates of d = 100,000) vs NumPy.",
        discussion: """
            Times every aggregator on the same random n×d float32 update matrix (best of
            --repeats, after one warm-up) and runs scripts/reference/aggregate_numpy.py in the
            same invocation. FLTrust is left out: its cost is the server's training on its root
            set, not the aggregation.

            --flower also times Flower's own server-side functions (flwr.server.strategy.aggregate,
            scripts/reference/flower_aggregate.py: aggregate_krum for Krum and Multi-Krum,
            aggregate_median, aggregate_trimmed_avg) on the same matrix and adds ratio_vs_flower
            fields. Flower's Krum builds its distance matrix pair by pair, so each of its Krum
            calls takes tens of seconds at the default size; they run once, without a warm-up.

            Example: murmur bench aggregate --flower --json
            """)

    @OptionGroup var options: BenchOptions

    @Option(help: "Client updates per aggregation.")
    var n = 1000

    @Option(help: "Parameters per update.")
    var d = 100_000

    @Option(help: "Byzantine updates assumed by Krum, Multi-Krum and Bulyan.")
    var f = 100

    @Option(help: "Trimmed fraction per end for the trimmed mean.")
    var beta = 0.1

    @Option(help: "Timed repeats per aggregator (the best counts).")
    var repeats = 3

    @Option(help: "Aggregators, comma-separated (default: all but fltrust).")
    var aggregators: String?

    @Flag(help: "Also time Flower's own aggregate_krum / aggregate_median / aggregate_trimmed_avg (flwr; about a minute).")
    var flower = false

    /// The aggregators Flower's `flwr.server.strategy.aggregate` implements, by our names.
    static let flowerNames: Set<String> = ["krum", "multi-krum", "median", "trimmed-mean"]

    func run() async throws {
        guard n >= 4, d >= 1, repeats >= 1, f >= 0, n > 2 * f + 2 else {
            throw ValidationError("need n ≥ 4, d ≥ 1, --repeats ≥ 1 and n > 2f + 2 (Krum)")
        }
        let kinds = try aggregators.map { list in
            try list.split(separator: ",").map { name -> AggregatorKind in
                guard let k = AggregatorKind(rawValue: String(name)), k != .fltrust else {
                    throw ValidationError("--aggregators: unknown or unsupported '\(name)'")
                }
                return k
            }
        } ?? AggregatorKind.allCases.filter { $0 != .fltrust }
        var ref: [String: Any] = [:]
        if !options.noReference {
            options.progress("numpy reference (n = \(n), d = \(d))…")
            ref = try options.reference("aggregate_numpy.py", ["--n", String(n), "--d", String(d), "--f", String(f), "--beta", String(beta), "--repeats", String(repeats)])
        }
        var flowerRef: [String: Any] = [:]
        let flowerKinds = kinds.map(\.rawValue).filter { Self.flowerNames.contains($0) }
        if flower && !options.noReference && !flowerKinds.isEmpty {
            options.progress("flower reference (\(flowerKinds.joined(separator: ", ")); its Krum takes tens of seconds per call)…")
            flowerRef = try options.reference("flower_aggregate.py", ["--n", String(n), "--d", String(d), "--f", String(f), "--beta", String(beta), "--repeats", String(repeats), "--only", flowerKinds.joined(separator: ",")])
        }
        options.progress("building the \(n)×\(d) update matrix…")
        var rng = SeededRNG(seed: 7)
        var values = [Float](repeating: 0, count: n * d)
        for i in 0..<values.count { values[i] = Float(rng.nextGaussian()) }
        let updates = ClientUpdates(clients: Array(0..<n), sampleCounts: [Int](repeating: 1, count: n), dimension: d, values: values)
        values = []
        let context = AggregationContext(round: 1, global: [Float](repeating: 0, count: d))
        var rows = [[String: Any]]()
        var ratios = [Double]()
        var flowerRatios = [Double]()
        var header = "aggregator       murmur s    numpy s    ratio"
        if !flowerRef.isEmpty { header += "   flower s    ratio" }
        var table = ["n = \(n), d = \(d), f = \(f), β = \(beta)", header]
        for kind in kinds {
            options.progress("\(kind.rawValue)…")
            let aggregator = try kind.make(byzantine: f, beta: beta, root: nil, model: .init(architecture: .logisticRegression, inputShape: [1], classCount: 2))
            _ = try aggregator.aggregate(updates, context: context)  // warm-up
            var best = Double.infinity
            for _ in 0..<repeats {
                let t = Date()
                _ = try aggregator.aggregate(updates, context: context)
                best = min(best, Date().timeIntervalSince(t))
            }
            var row: [String: Any] = ["aggregator": kind.rawValue, "seconds": best]
            var line = kind.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0) + String(format: "  %9.4f", best)
            if let theirs = (ref[kind.rawValue] as? NSNumber)?.doubleValue, theirs > 0 {
                row["numpy_seconds"] = theirs
                row["ratio_vs_numpy"] = theirs / best
                ratios.append(theirs / best)
                line += String(format: "  %9.4f  %6.2f", theirs, theirs / best)
            } else if !flowerRef.isEmpty {
                line += String(repeating: " ", count: 19)
            }
            if let theirs = (flowerRef[kind.rawValue] as? NSNumber)?.doubleValue, theirs > 0 {
                row["flower_seconds"] = theirs
                row["ratio_vs_flower"] = theirs / best
                flowerRatios.append(theirs / best)
                line += String(format: "  %9.3f  %7.1f", theirs, theirs / best)
            }
            rows.append(row)
            table.append(String(line.reversed().drop(while: { $0 == " " }).reversed()))
        }
        var object: [String: Any] = ["benchmark": "aggregate", "n": n, "d": d, "f": f, "beta": beta, "results": rows]
        if !ratios.isEmpty {
            object["ratio_vs_numpy"] = geometricMean(ratios)
            object["min_ratio_vs_numpy"] = ratios.min()
            table.append(String(format: "geometric mean speed-up vs numpy: %.2f (min %.2f)", geometricMean(ratios), ratios.min() ?? 0))
        }
        if !flowerRatios.isEmpty {
            object["ratio_vs_flower"] = geometricMean(flowerRatios)
            object["min_ratio_vs_flower"] = flowerRatios.min()
            if let version = flowerRef["flwr"] as? String { object["flwr"] = version }
            table.append(String(format: "geometric mean speed-up vs flower: %.1f (min %.1f)", geometricMean(flowerRatios), flowerRatios.min() ?? 0))
        }
        try options.emit(object, table: table)
    }
}
