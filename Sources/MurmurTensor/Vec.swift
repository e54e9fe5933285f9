/// Vector kernels over contiguous Float32 storage: the operations federated learning does on
/// flattened model updates (axpy, dot, norms, scaling, clipping).
///
/// Loops run over 8-wide SIMD chunks with a scalar tail; reductions accumulate in four SIMD8
/// registers to hide FMA latency and to keep the summation order fixed (deterministic results).
public enum Vec {
    /// y ← a·x + y.
    public static func axpy(_ a: Float, _ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        precondition(x.count == y.count, "axpy: length mismatch \(x.count) vs \(y.count)")
        let n = x.count
        guard n > 0, let xp = x.baseAddress, let yp = y.baseAddress else { return }
        var i = 0
        let av = SIMD8<Float>(repeating: a)
        while i + 8 <= n {
            let xv = UnsafeRawPointer(xp + i).loadUnaligned(as: SIMD8<Float>.self)
            let yv = UnsafeRawPointer(yp + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(yp + i).storeBytes(of: av * xv + yv, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { yp[i] += a * xp[i]; i += 1 }
    }

    /// y ← a·x + y on arrays.
    public static func axpy(_ a: Float, _ x: [Float], _ y: inout [Float]) {
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in axpy(a, xb, yb) } }
    }

    /// Σ xᵢ·yᵢ.
    public static func dot(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Float {
        precondition(x.count == y.count, "dot: length mismatch \(x.count) vs \(y.count)")
        let n = x.count
        guard n > 0, let xp = x.baseAddress, let yp = y.baseAddress else { return 0 }
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= n {
            a0 += load(xp + i) * load(yp + i)
            a1 += load(xp + i + 8) * load(yp + i + 8)
            a2 += load(xp + i + 16) * load(yp + i + 16)
            a3 += load(xp + i + 24) * load(yp + i + 24)
            i += 32
        }
        while i + 8 <= n { a0 += load(xp + i) * load(yp + i); i += 8 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { s += xp[i] * yp[i]; i += 1 }
        return s
    }

    /// Σ xᵢ·yᵢ on arrays.
    public static func dot(_ x: [Float], _ y: [Float]) -> Float {
        x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer { yb in dot(xb, yb) } }
    }

    /// ‖x‖₂, accumulated in Double-free Float SIMD lanes then summed.
    public static func l2Norm(_ x: UnsafeBufferPointer<Float>) -> Float { dot(x, x).squareRoot() }

    /// ‖x‖₂ of an array.
    public static func l2Norm(_ x: [Float]) -> Float { x.withUnsafeBufferPointer { l2Norm($0) } }

    /// x ← a·x.
    public static func scale(_ a: Float, _ x: UnsafeMutableBufferPointer<Float>) {
        let n = x.count
        guard n > 0, let xp = x.baseAddress else { return }
        let av = SIMD8<Float>(repeating: a)
        var i = 0
        while i + 8 <= n {
            UnsafeMutableRawPointer(xp + i).storeBytes(of: av * load(xp + i), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { xp[i] *= a; i += 1 }
    }

    /// x ← a·x on an array.
    public static func scale(_ a: Float, _ x: inout [Float]) { x.withUnsafeMutableBufferPointer { scale(a, $0) } }

    /// Scales x down so that ‖x‖₂ ≤ maxNorm (no change when already inside); returns the norm
    /// before clipping. This is the per-client clipping step of DP-FedAvg.
    @discardableResult
    public static func clip(_ x: inout [Float], maxNorm: Float) -> Float {
        precondition(maxNorm > 0, "clip: maxNorm must be positive")
        let norm = l2Norm(x)
        if norm > maxNorm { scale(maxNorm / norm, &x) }
        return norm
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
}
