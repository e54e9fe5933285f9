/// Small elementwise and reduction loops used by the layers, over raw pointers with 8-wide SIMD
/// bodies and scalar tails. Reductions keep a fixed summation order, so results are
/// bit-identical run to run.
enum Kernels {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// dst[0..<count] ← 0.
    @inline(__always)
    static func zero(_ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        dst.update(repeating: 0, count: count)
    }

    /// dst[i] += src[i] for i < count.
    static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            store(load(dst + i) + load(src + i), dst + i)
            i += 8
        }
        while i < count { dst[i] += src[i]; i += 1 }
    }

    /// Copies `row` (`columns` floats) into each of `rows` consecutive rows of `dst`.
    static func broadcastRows(_ row: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        for r in 0..<rows { (dst + r * columns).update(from: row, count: columns) }
    }

    /// dst[j] ← Σᵢ src[i·columns + j]: the column sums of a rows × columns matrix (bias gradient
    /// of a dense layer).
    static func columnSums(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>) {
        zero(dst, columns)
        for r in 0..<rows { add(src + r * columns, into: dst, count: columns) }
    }

    /// Σ src[0..<count] with four SIMD accumulators (fixed order).
    static func sum(_ src: UnsafePointer<Float>, count: Int) -> Float {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= count {
            a0 += load(src + i)
            a1 += load(src + i + 8)
            a2 += load(src + i + 16)
            a3 += load(src + i + 24)
            i += 32
        }
        while i + 8 <= count { a0 += load(src + i); i += 8 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < count { s += src[i]; i += 1 }
        return s
    }

    /// y ← max(x, 0) elementwise (NaN passes through, as in PyTorch).
    static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let zero = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let v = load(x + i)
            store(v.replacing(with: zero, where: v .< zero), y + i)
            i += 8
        }
        while i < count { y[i] = x[i] < 0 ? 0 : x[i]; i += 1 }
    }

    /// dx ← dy where y > 0, else 0 (the ReLU derivative, taken as 0 at 0 like PyTorch).
    static func reluBackward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int) {
        let zero = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            store(zero.replacing(with: load(dy + i), where: load(y + i) .> zero), dx + i)
            i += 8
        }
        while i < count { dx[i] = y[i] > 0 ? dy[i] : 0; i += 1 }
    }
}
