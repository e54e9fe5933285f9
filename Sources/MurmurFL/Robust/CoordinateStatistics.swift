import Dispatch

/// Coordinate-wise order statistics over the rows of a `ClientUpdates` matrix: the kernel
/// behind the median, the trimmed mean and Bulyan.
///
/// Columns are copied in blocks of 64 into contiguous scratch (a tiled transpose),
/// then each column is reduced with Wirth/Hoare quickselect (expected O(n)), not a sort.
/// Column blocks are split over `threads` threads; each coordinate's result does not depend
/// on the split.
enum CoordinateStatistics {
    static let block = 64

    /// Mean of the values ranked [trim, n − trim) in every coordinate. trim = 0 is the plain
    /// mean, trim = (n − 1)/2 for odd n the median; for even n with trim = n/2 − 1 it is the
    /// mean of the two middle values (the median).
    static func trimmedMean(_ u: ClientUpdates, trim: Int, threads: Int) -> [Float] {
        let n = u.count, d = u.dimension
        precondition(n >= 1 && trim >= 0 && 2 * trim < n, "trimmedMean: trim \(trim) for n = \(n)")  // programmer error
        var out = [Float](repeating: 0, count: d)
        let blocks = (d + block - 1) / block
        let workers = max(1, min(threads, blocks))
        u.values.withUnsafeBufferPointer { vb in
            out.withUnsafeMutableBufferPointer { ob in
                // Workers only read the matrix and each writes a disjoint range of `out`, both
                // alive for the whole (synchronous) concurrentPerform.
                nonisolated(unsafe) let v = vb.baseAddress!
                nonisolated(unsafe) let op = ob.baseAddress!
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: block * n)
                    defer { scratch.deallocate() }
                    let lo = blocks * w / workers, hi = blocks * (w + 1) / workers
                    for b in lo..<hi {
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
                            op[j0 + c] = trimmedMeanOfColumn(scratch + c * n, n: n, trim: trim)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Mean of ranks [trim, n − trim) of the n values at `a` (reordered in place).
    @inline(__always)
    static func trimmedMeanOfColumn(_ a: UnsafeMutablePointer<Float>, n: Int, trim: Int) -> Float {
        if trim == 0 {
            var s: Float = 0
            for i in 0..<n { s += a[i] }
            return s / Float(n)
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
