import Foundation
import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurFL

/// Hand-checked small cases and invariants of every robust aggregator.
@Suite(.ownThreads) struct RobustAggregatorTests {
    let ctx = AggregationContext(round: 1, global: [])

    func updates(_ rows: [[Float]], samples: [Int]? = nil) -> ClientUpdates {
        ClientUpdates(clients: Array(rows.indices), sampleCounts: samples ?? rows.map { _ in 1 }, dimension: rows[0].count, values: rows.flatMap { $0 })
    }

    func random(n: Int, d: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededRNG(seed: seed)
        return (0..<n).map { _ in (0..<d).map { _ in Float(rng.nextGaussian()) } }
    }

    /// 6 inliers around (1, 1) and one far outlier.
    var inliersAndOutlier: [[Float]] {
        [[1, 1], [1.1, 0.9], [0.9, 1.1], [1.05, 1], [0.95, 1], [1, 1.05], [100, -100]]
    }

    @Test func meanIsFedAvgsWeightedMeanBitForBit() throws {
        let rows = random(n: 5, d: 33, seed: 1)
        let results = rows.enumerated().map { FitResult(client: $0, delta: $1, sampleCount: $0 * 3 + 1, trainLoss: 0) }
        #expect(try Mean().aggregate(results, context: ctx).delta == weightedMeanDelta(results))
    }

    @Test func medianHandChecked() throws {
        // columns {1, 2, 3} → 2 and {10, 20, −5} → 10; even n: {1, 2, 3, 10} → 2.5
        #expect(try CoordinateMedian().aggregate(updates([[1, 10], [2, 20], [3, -5]]), context: ctx).delta == [2, 10])
        #expect(try CoordinateMedian().aggregate(updates([[1], [2], [3], [10]]), context: ctx).delta == [2.5])
    }

    @Test func medianOfIdenticalUpdatesIsThatUpdate() throws {
        let u: [Float] = [0.5, -2, 3, 1e-3, 7]
        for threads in [1, 2] {
            #expect(try CoordinateMedian(threads: threads).aggregate(updates(Array(repeating: u, count: 8)), context: ctx).delta == u)
        }
    }

    @Test func trimmedMeanIgnoresBetaExtremes() throws {
        // n = 5, β = 0.2 → 1 dropped at each end: {1, 2, 3, 4, 100} → (2 + 3 + 4)/3 = 3
        let tm = TrimmedMean(beta: 0.2)
        #expect(tm.trimCount(5) == 1)
        #expect(try tm.aggregate(updates([[1], [2], [3], [4], [100]]), context: ctx).delta == [3])
        #expect(try tm.aggregate(updates([[1], [2], [3], [4], [1e30]]), context: ctx).delta == [3])
        #expect(try tm.aggregate(updates([[-1e30], [2], [3], [4], [1e30]]), context: ctx).delta == [3])
        #expect(throws: FLError.self) { try TrimmedMean(beta: 0.5).aggregate(updates([[1]]), context: ctx) }
    }

    /// Both column-statistics methods (vector lanes on AVX-512F, buckets elsewhere) against
    /// sorting, for every trim, odd and even n, one and two threads, dimensions below, at and
    /// across the 64-column block and the 16-lane strip, ties, signed zeros and huge values.
    @Test(arguments: [CoordinateStatistics.Method.lanes, .buckets])
    func coordinateStatisticsMatchSorting(method: CoordinateStatistics.Method) {
        for (n, d) in [(1, 5), (2, 53), (7, 16), (16, 53), (37, 150), (64, 17)] {
            var rows = random(n: n, d: d, seed: UInt64(n))
            if n > 3 {
                rows[1] = rows[0]  // ties
                rows[2][0] = -0.0; rows[3][0] = 0.0  // signed zeros
                rows[2][1] = 3e38; rows[3][1] = -3e38  // near the float range's ends
                for r in 0..<n { rows[r][2] = Float(r % 3) }  // heavy ties
            }
            let u = updates(rows)
            for trim in 0...((n - 1) / 2) {
                let expected: [Float] = (0..<d).map { j in
                    let col = rows.map { Double($0[j]) }.sorted()
                    return Float(col[trim..<(n - trim)].reduce(0, +) / Double(n - 2 * trim))
                }
                for threads in [1, 2] {
                    let got = CoordinateStatistics.trimmedMean(u, trim: trim, threads: threads, method: method)
                    // Column 1 holds ±3e38 when n > 3: a plain mean (trim 0) loses the small values to
                    // rounding in any order that meets a huge value first; trim ≥ 1 drops them.
                    let checked = (0..<d).filter { !(trim == 0 && n > 3 && $0 == 1) }
                    let bad = checked.first { abs(got[$0] - expected[$0]) > 1e-5 * max(1, abs(expected[$0])) }
                    #expect(bad == nil, "n \(n) d \(d) trim \(trim) threads \(threads): column \(bad ?? -1) got \(bad.map { got[$0] } ?? 0) expected \(bad.map { expected[$0] } ?? 0)")
                }
            }
        }
    }

    /// The vector-lane method must be the one that runs wherever the CPU has AVX-512F, so the
    /// test above exercises it on such machines.
    @Test func laneMethodAvailableWithAVX512() throws {
        #if arch(x86_64) && os(Linux)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let hasAVX512F = cpuinfo.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx512f") }
        #expect(CoordinateStatistics.Method.lanesAvailable == hasAVX512F)
        #endif
    }

    @Test func pairwiseDistancesMatchDirectComputation() {
        for n in [3, 9, 300] {
            let rows = random(n: n, d: 70, seed: 5)
            let got = PairwiseDistances.squared(updates(rows))
            for i in stride(from: 0, to: n, by: max(1, n / 9)) {
                for j in 0..<n {
                    let direct = zip(rows[i], rows[j]).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                    #expect(abs(got[i * n + j] - direct) <= 1e-3 * max(1, direct))
                }
                #expect(got[i * n + i] == 0)
            }
        }
    }

    @Test func krumPicksAnInlierAndFlagsTheOutlier() throws {
        let r = try Krum(byzantine: 1).aggregate(updates(inliersAndOutlier), context: ctx)
        #expect(inliersAndOutlier.dropLast().contains(r.delta))
        #expect(r.anomalies[6].excluded)
        #expect(r.anomalies[6].score == r.anomalies.map(\.score).max())
        #expect(r.anomalies.filter { !$0.excluded }.count == 1)
    }

    /// Krum on the line {0, 1, 2, 10} with f = 0: n − f − 2 = 2 neighbours; scores 0:1+4=5,
    /// 1:1+1=2, 2:1+4=5, 10:64+81=145 → picks 1.
    @Test func krumHandChecked() throws {
        let r = try Krum(byzantine: 0).aggregate(updates([[0], [1], [2], [10]]), context: ctx)
        #expect(r.delta == [1])
        #expect(Krum.scores([0, 1, 4, 100, 1, 0, 1, 81, 4, 1, 0, 64, 100, 81, 64, 0], n: 4, f: 0) == [5, 2, 5, 145])
    }

    @Test func multiKrumAveragesTheInliers() throws {
        let r = try Krum(byzantine: 1, multi: nil).aggregate(updates(inliersAndOutlier), context: ctx)
        // m = n − f = 6: the six inliers, whose mean is (1, 1.0083…)
        #expect(abs(r.delta[0] - 1) < 1e-5 && abs(r.delta[1] - 6.05 / 6) < 1e-5)
        #expect(r.anomalies.map(\.excluded) == [false, false, false, false, false, false, true])
    }

    @Test func bulyanStaysAmongTheInliers() throws {
        let rows = inliersAndOutlier  // n = 7 = 4f + 3 with f = 1
        let r = try Bulyan(byzantine: 1).aggregate(updates(rows), context: ctx)
        for j in 0..<2 {
            let col = rows.dropLast().map { $0[j] }
            #expect(r.delta[j] >= col.min()! && r.delta[j] <= col.max()!)
        }
        #expect(r.anomalies[6].excluded)
        // Too few updates for f: f is lowered instead of failing the round.
        #expect(try Bulyan(byzantine: 5).aggregate(updates(rows), context: ctx).delta.count == 2)
    }

    /// The geometric median of collinear points {0, 1, 10} is the middle one, 1.
    @Test func geometricMedianOfCollinearPoints() throws {
        let r = try GeometricMedian(maxIterations: 200, tolerance: 0).aggregate(updates([[0, 0], [1, 2], [10, 20]]), context: ctx)
        #expect(abs(r.delta[0] - 1) < 1e-2 && abs(r.delta[1] - 2) < 2e-2)
        #expect(r.anomalies[2].score > r.anomalies[0].score)
    }

    @Test func centeredClippingBoundsAnOutliersPull() throws {
        // Without clipping (τ huge) one iteration from 0 gives the mean.
        let plain = try CenteredClipping(radius: 1e9, iterations: 1).aggregate(updates([[1, 0], [3, 0]]), context: ctx)
        #expect(plain.delta == [2, 0])
        // τ = 1, centre 0, L = 1: the outlier moves v by at most τ/n = 0.25.
        let rows: [[Float]] = [[0.5, 0], [0.5, 0], [0.5, 0], [1e6, 0]]
        let r = try CenteredClipping(radius: 1, iterations: 1).aggregate(updates(rows), context: ctx)
        #expect(abs(r.delta[0] - (0.375 + 0.25)) < 1e-6)
        // The centre is the previous aggregate.
        let c = AggregationContext(round: 2, global: [], previousAggregate: [0.5, 0])
        #expect(try CenteredClipping(radius: 1, iterations: 1).aggregate(updates(rows), context: c).delta == [0.75, 0])
    }

    @Test func normBoundingClipsThenAverages() throws {
        // [3, 4] has norm 5 → scaled to [0.6, 0.8]; the mean of two [0.6, 0.8] is [0.6, 0.8].
        let r = try NormBounding(bound: 1).aggregate(updates([[3, 4], [0.6, 0.8]]), context: ctx)
        #expect(abs(r.delta[0] - 0.6) < 1e-6 && abs(r.delta[1] - 0.8) < 1e-6)
        #expect(r.anomalies[0].score == 4 && r.anomalies[1].score == 0)
        // Default bound = the median norm.
        let m = try NormBounding().aggregate(updates([[1, 0], [2, 0], [100, 0]]), context: ctx)
        #expect(abs(m.delta[0] - 5.0 / 3) < 1e-6 && m.delta[1] == 0)  // 100 clipped to the median norm 2
    }

    /// FLTrust by hand with g₀ = (1, 0): (3, 0) has trust 1 and becomes (1, 0); (1, 1) has trust
    /// 1/√2 and becomes (1/√2, 1/√2); (0, 5) and (−1, 0) get trust 0. Aggregate:
    /// (1·(1, 0) + (1/√2)·(1/√2, 1/√2)) / (1 + 1/√2) = (1.5, 0.5)/1.7071.
    @Test func flTrustHandChecked() throws {
        let r = try FLTrust.combine(updates([[3, 0], [1, 1], [0, 5], [-1, 0]]), serverUpdate: [1, 0])
        let s = 1 + 1 / Float(2).squareRoot()
        #expect(abs(r.delta[0] - 1.5 / s) < 1e-5 && abs(r.delta[1] - 0.5 / s) < 1e-5)
        #expect(r.anomalies.map(\.excluded) == [false, false, true, true])
        #expect(abs(r.anomalies[1].score - (1 - 1 / 2.0.squareRoot())) < 1e-5)
        // Nobody trusted: no step.
        #expect(try FLTrust.combine(updates([[-1, 0]]), serverUpdate: [1, 0]).delta == [0, 0])
    }
}
