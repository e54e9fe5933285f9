import CMurmurKernels
import Dispatch

/// Coordinate-wise order statistics over the rows of a `ClientUpdates` matrix: the kernel
/// behind the median, the trimmed mean and Bulyan.
///
/// Two methods, same results up to float rounding of the sum. On CPUs with AVX-512F
/// (`Method.lanes`), sixteen columns at a time are reduced in vector lanes by bisection over
/// order-preserving integer keys (`murmur_trimmed_mean_columns`, order_stats.c: no sorting, no
/// data-dependent branches, sums in double). Elsewhere (`Method.buckets`), columns are copied in
/// blocks of 64 into contiguous scratch (a tiled transpose), then each column is reduced by
/// bucket selection (`bucketTrimmedMean`, O(n) and mostly branch-free) with Wirth/Hoare
/// quickselect on the two boundary buckets only. Column blocks are split over `threads`
/// threads; each coordinate's result does not depend on the split.
enum CoordinateStatistics {
    static let block = 64

    /// How the per-column selection runs.
    enum Method: Sendable {
        /// The fastest this CPU has: `.lanes` with AVX-512F, else `.buckets`.
        case automatic
        /// Sixteen columns per vector, bisection on integer keys (AVX-512F only).
        case lanes
        /// Per column, bucket selection (any CPU).
        case buckets

        /// True when `.lanes` can run on this CPU.
        static let lanesAvailable = murmur_trimmed_mean_available() == 1
    }

    /// Mean of the values ranked [trim, n − trim) in every coordinate. trim = 0 is the plain
    /// mean, trim = (n − 1)/2 for odd n the median; for even n with trim = n/2 − 1 it is the
    /// mean of the two middle values (the median). `.lanes` on a CPU without AVX-512F falls
    /// back to `.buckets`.
    static func trimmedMean(_ u: ClientUpdates, trim: Int, threads: Int, method: Method = .automatic) -> [Float] {
        let n = u.count, d = u.dimension
        precondition(n >= 1 && trim >= 0 && 2 * trim < n, "trimmedMean: trim \(trim) for n = \(n)")  // programmer error
        if trim > 0 && method != .buckets && Method.lanesAvailable {
            return laneTrimmedMean(u, trim: trim, threads: threads)
        }
        return splitColumns(u, threads: threads) { v, op, blocks in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: block * n)
            let buckets = BucketScratch(n: n)
            defer { scratch.deallocate(); buckets.deallocate() }
            for b in blocks {
                let j0 = b * block, width = min(block, d - j0)
                // Transpose in 16-row tiles: reads stay within 16 rows (L1), writes are
                // contiguous runs of 16 per column.
                var i0 = 0
                while i0 < n {
                    let rows = min(16, n - i0)
                    for c in 0..<width {
                        let dst = scratch + c * n + i0
                        let src = v + i0 * d + j0 + c
                        for r in 0..<rows { dst[r] = src[r * d] }
                    }
                    i0 += rows
                }
                for c in 0..<width {
                    op[j0 + c] = bucketTrimmedMean(scratch + c * n, n: n, trim: trim, scratch: buckets)
                }
            }
        }
    }

    /// Splits the 64-column blocks of `u` over up to `threads` workers and returns the d
    /// results: `body(matrix, result, blocks)` runs once per worker on its own range of blocks.
    /// Workers only read the matrix and each writes a disjoint range of the result, both alive
    /// for the whole (synchronous) concurrentPerform.
    static func splitColumns(_ u: ClientUpdates, threads: Int,
                             _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void) -> [Float] {
        let d = u.dimension
        guard d > 0 else { return [] }
        var out = [Float](repeating: 0, count: d)
        let blocks = (d + block - 1) / block
        let workers = max(1, min(threads, blocks))
        u.values.withUnsafeBufferPointer { vb in
            out.withUnsafeMutableBufferPointer { ob in
                nonisolated(unsafe) let v = vb.baseAddress!
                nonisolated(unsafe) let op = ob.baseAddress!
                withoutActuallyEscaping(body) { body in
                    nonisolated(unsafe) let body = body
                    DispatchQueue.concurrentPerform(iterations: workers) { w in
                        body(v, op, (blocks * w / workers)..<(blocks * (w + 1) / workers))
                    }
                }
            }
        }
        return out
    }

    /// `.lanes`: blocks of 64 columns split over the workers, each block reduced by the C kernel
    /// into its slice of the result.
    static func laneTrimmedMean(_ u: ClientUpdates, trim: Int, threads: Int) -> [Float] {
        let n = u.count, d = u.dimension
        return splitColumns(u, threads: threads) { v, op, blocks in
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: n * block * 4, alignment: 64)
            defer { scratch.deallocate() }
            let keys = scratch.bindMemory(to: CInt.self, capacity: n * block)
            let j0 = min(d, blocks.lowerBound * block), j1 = min(d, blocks.upperBound * block)
            let done = murmur_trimmed_mean_columns(v, n, d, j0, j1, trim, keys, op + j0)
            precondition(done == 1, "murmur_trimmed_mean_columns: \(done)")  // arguments checked by the caller
        }
    }

    /// Per-worker scratch of `bucketTrimmedMean`.
    struct BucketScratch {
        static let buckets = 256
        let index: UnsafeMutablePointer<UInt8>
        let count: UnsafeMutablePointer<Int32>
        let sum: UnsafeMutablePointer<Float>
        let gather: UnsafeMutablePointer<Float>

        init(n: Int) {
            index = .allocate(capacity: n)
            count = .allocate(capacity: Self.buckets)
            sum = .allocate(capacity: Self.buckets)
            gather = .allocate(capacity: n)
        }

        func deallocate() {
            index.deallocate(); count.deallocate(); sum.deallocate(); gather.deallocate()
        }
    }

    /// Mean of ranks [trim, n − trim) of the n values at `a` by bucket selection: values are
    /// binned linearly between the column's min and max (branch-free), whole buckets inside the
    /// kept range are summed from per-bucket sums, and only the two boundary buckets are
    /// resolved by quickselect. Avoids quickselect's mispredicted branches on every element.
    @inline(__always)
    static func bucketTrimmedMean(_ a: UnsafeMutablePointer<Float>, n: Int, trim: Int, scratch s: BucketScratch) -> Float {
        var lo = a[0], hi = a[0]
        for i in 1..<max(1, n) { lo = min(lo, a[i]); hi = max(hi, a[i]) }
        if trim == 0 || lo == hi {
            if lo == hi { return lo }
            var t: Double = 0  // no cancellation loss when huge values of both signs meet
            for i in 0..<n { t += Double(a[i]) }
            return Float(t / Double(n))
        }
        let range = hi - lo
        guard range.isFinite else {  // values near ±Float.greatestFiniteMagnitude: plain selection
            return trimmedMeanOfColumn(a, n: n, trim: trim)
        }
        let nb = BucketScratch.buckets
        let scale = Float(nb) / range * 0.999_99
        for b in 0..<nb { s.count[b] = 0; s.sum[b] = 0 }
        for i in 0..<n {
            let b = min(nb - 1, Int((a[i] - lo) * scale))
            s.index[i] = UInt8(truncatingIfNeeded: b)
            s.count[b] &+= 1
            s.sum[b] += a[i]
        }
        let first = trim, last = n - trim - 1  // kept ranks, inclusive
        var cum = 0, bl = 0, bh = 0, cumL = 0, cumH = 0
        for b in 0..<nb {
            let c = Int(s.count[b])
            if cum <= first && first < cum + c { bl = b; cumL = cum }
            if cum <= last && last < cum + c { bh = b; cumH = cum; break }
            cum += c
        }
        var total: Float = 0
        if bh > bl + 1 { for b in (bl + 1)..<bh { total += s.sum[b] } }
        // Boundary buckets: gather, select, add the kept part.
        func keptSum(_ bucket: Int, from: Int, to: Int) -> Float {  // in-bucket ranks [from, to)
            var m = 0
            let target = UInt8(truncatingIfNeeded: bucket)
            for i in 0..<n {
                s.gather[m] = a[i]
                m += s.index[i] == target ? 1 : 0
            }
            if from > 0 { select(s.gather, lo: 0, hi: m - 1, k: from) }
            if to < m { select(s.gather, lo: from, hi: m - 1, k: to - 1) }
            var t: Float = 0
            for i in from..<to { t += s.gather[i] }
            return t
        }
        if bl == bh {
            total += keptSum(bl, from: first - cumL, to: last - cumL + 1)
        } else {
            total += keptSum(bl, from: first - cumL, to: Int(s.count[bl]))
            total += keptSum(bh, from: 0, to: last - cumH + 1)
        }
        return total / Float(n - 2 * trim)
    }

    /// Mean of ranks [trim, n − trim) of the n values at `a` (reordered in place).
    @inline(__always)
    static func trimmedMeanOfColumn(_ a: UnsafeMutablePointer<Float>, n: Int, trim: Int) -> Float {
        if trim == 0 {
            var s: Double = 0
            for i in 0..<n { s += Double(a[i]) }
            return Float(s / Double(n))
        }
        // After select(k = trim): a[0..<trim] ≤ a[trim]; after select(k = n−trim−1) on the rest,
        // a[trim...n−trim−1] are exactly the kept ranks.
        select(a, lo: 0, hi: n - 1, k: trim)
        select(a, lo: trim, hi: n - 1, k: n - trim - 1)
        var s: Float = 0
        for i in trim..<(n - trim) { s += a[i] }
        return s / Float(n - 2 * trim)
    }

    /// Reorders a[lo...hi] so that a[k] holds the value of rank k, smaller ones before it and
    /// larger ones after (Hoare's FIND, as in Wirth, Algorithms + Data Structures, 1976, §2.3.4,
    /// with a median-of-three pivot). Values must be finite.
    @inline(__always)
    static func select(_ a: UnsafeMutablePointer<Float>, lo: Int, hi: Int, k: Int) {
        var l = lo, r = hi
        while l < r {
            let m = l + (r - l) / 2
            var x = a[m]
            let xl = a[l], xr = a[r]
            // median of a[l], a[m], a[r] as the pivot value
            if (xl <= x) == (x <= xr) {
            } else if (x <= xl) == (xl <= xr) { x = xl } else { x = xr }
            var i = l, j = r
            repeat {
                while a[i] < x { i += 1 }
                while x < a[j] { j -= 1 }
                if i <= j {
                    let t = a[i]; a[i] = a[j]; a[j] = t
                    i += 1; j -= 1
                }
            } while i <= j
            if j < k { l = i }
            if k < i { r = j }
        }
    }
}
