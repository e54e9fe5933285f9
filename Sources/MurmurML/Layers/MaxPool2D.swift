/// 2×2 max pooling with stride 2 over each H×W plane (`nn.MaxPool2d(2)`): odd trailing rows
/// and columns are dropped (floor mode), ties go to the first element in row-major order and a
/// NaN wins, as in PyTorch (with several NaNs, the first).
///
/// Layout-agnostic: any layout whose planes are contiguous H×W blocks (NCHW or CNHW) pools the
/// same way, and the output keeps that layout. The arg-max of every window is kept in index
/// scratch so that `backward` routes each gradient to the element that won.
struct MaxPool2D: Layer {
    let channels: Int
    let height: Int
    let width: Int

    var outHeight: Int { height / 2 }
    var outWidth: Int { width / 2 }
    var inputSize: Int { channels * height * width }
    var outputSize: Int { channels * outHeight * outWidth }
    var indexScratchPerSample: Int { outputSize }

    func forward(batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, scratch: LayerScratch) {
        let planes = batch * channels, hw = height * width, ohw = outHeight * outWidth
        let lanes = SIMD4<Int32>(0, 2, 4, 6)
        for p in 0..<planes {
            let src = input + p * hw, dst = output + p * ohw, arg = scratch.indices + p * ohw
            for oy in 0..<outHeight {
                let top = 2 * oy * width
                let out = dst + oy * outWidth, outArg = arg + oy * outWidth
                var ox = 0
                // Four windows at a time: deinterleave 8 columns of both rows into even/odd.
                while ox + 4 <= outWidth {
                    let i0 = top + 2 * ox
                    let a = Kernels.load(src + i0), c = Kernels.load(src + i0 + width)
                    let first = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: i0)) &+ lanes
                    let topWins = Self.beats(a.oddHalf, a.evenHalf)
                    let upper = a.evenHalf.replacing(with: a.oddHalf, where: topWins)
                    let upperAt = first.replacing(with: first &+ 1, where: topWins)
                    let bottomWins = Self.beats(c.oddHalf, c.evenHalf)
                    let lower = c.evenHalf.replacing(with: c.oddHalf, where: bottomWins)
                    let lowerAt = (first &+ Int32(truncatingIfNeeded: width)).replacing(
                        with: first &+ Int32(truncatingIfNeeded: width + 1), where: bottomWins)
                    let down = Self.beats(lower, upper)
                    UnsafeMutableRawPointer(out + ox).storeBytes(of: upper.replacing(with: lower, where: down), as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(outArg + ox).storeBytes(of: upperAt.replacing(with: lowerAt, where: down), as: SIMD4<Int32>.self)
                    ox += 4
                }
                while ox < outWidth {
                    let i0 = top + 2 * ox
                    let (upper, upperAt) = Self.winner(src, i0, i0 + 1)
                    let (lower, lowerAt) = Self.winner(src, i0 + width, i0 + width + 1)
                    let down = Self.beats(lower, upper)
                    out[ox] = down ? lower : upper
                    outArg[ox] = Int32(truncatingIfNeeded: down ? lowerAt : upperAt)
                    ox += 1
                }
            }
        }
    }

    // Each window is reduced as a tree — the winner of the top pair against the winner of the
    // bottom pair, the earlier side keeping ties — which gives the same element as a
    // row-major scan keeping the first maximum. Everything is branch-free: on random data a
    // branch here mispredicts half the time, which once made pooling cost more than the
    // convolution.

    /// Whether `v` replaces `best`: strictly greater, or the first NaN. The two conditions are
    /// exclusive, so `!=` is their "or".
    @inline(__always)
    private static func beats(_ v: Float, _ best: Float) -> Bool {
        (v > best) != (v.isNaN && !best.isNaN)
    }

    /// `beats` lane by lane.
    @inline(__always)
    private static func beats(_ v: SIMD4<Float>, _ best: SIMD4<Float>) -> SIMDMask<SIMD4<Int32>> {
        (v .> best) .| ((v .!= v) .& (best .== best))
    }

    /// The value and index of the winner of `src[i]` (kept on ties) and `src[j]`.
    @inline(__always)
    private static func winner(_ src: UnsafePointer<Float>, _ i: Int, _ j: Int) -> (Float, Int) {
        let w = beats(src[j], src[i])
        return (w ? src[j] : src[i], w ? j : i)
    }

    func backward(batch: Int, input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                  outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  parameters: UnsafePointer<Float>, parameterGradient: UnsafeMutablePointer<Float>,
                  scratch: LayerScratch) {
        guard let dx = inputGradient else { return }
        let planes = batch * channels, hw = height * width, ohw = outHeight * outWidth
        Kernels.zero(dx, planes * hw)
        for p in 0..<planes {
            let dst = dx + p * hw, dy = outputGradient + p * ohw, arg = scratch.indices + p * ohw
            for o in 0..<ohw { dst[Int(arg[o])] = dy[o] }
        }
    }
}
