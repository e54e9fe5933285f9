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
        let w = Int32(truncatingIfNeeded: width)
        for p in 0..<planes {
            let src = input + p * hw, dst = output + p * ohw, arg = scratch.indices + p * ohw
            var oy = 0
            // 4-wide planes (e.g. 8×8 images after one pooling): two row pairs give four windows
            // whose outputs are contiguous.
            if width == 4 {
                while oy + 2 <= outHeight {
                    let top = 2 * oy * width
                    let a = SIMD8(lowHalf: Self.load4(src + top), highHalf: Self.load4(src + top + 2 * width))
                    let c = SIMD8(lowHalf: Self.load4(src + top + width), highHalf: Self.load4(src + top + 3 * width))
                    let first = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: top)) &+ SIMD4(0, 2, 2 * w, 2 * w + 2)
                    Self.pool4(a, c, first: first, width: w, into: dst + oy * outWidth, arg + oy * outWidth)
                    oy += 2
                }
            }
            while oy < outHeight {
                let top = 2 * oy * width
                let out = dst + oy * outWidth, outArg = arg + oy * outWidth
                var ox = 0
                // Four windows at a time from 8 columns of both rows.
                while ox + 4 <= outWidth {
                    let i0 = top + 2 * ox
                    let first = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: i0)) &+ SIMD4(0, 2, 4, 6)
                    Self.pool4(Kernels.load(src + i0), Kernels.load(src + i0 + width), first: first, width: w,
                               into: out + ox, outArg + ox)
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
                oy += 1
            }
        }
    }

    /// Pools four windows given their upper rows `a` and lower rows `c` as interleaved
    /// (left, right) pairs, and the index of each window's top-left element.
    @inline(__always)
    private static func pool4(_ a: SIMD8<Float>, _ c: SIMD8<Float>, first: SIMD4<Int32>, width: Int32,
                              into out: UnsafeMutablePointer<Float>, _ outArg: UnsafeMutablePointer<Int32>) {
        // Masks as integers (−1 where true) keep the index arithmetic in vector registers:
        // `replacing` on Int32 lanes compiles to per-lane branches.
        let topWins = beats(a.oddHalf, a.evenHalf)
        let upper = a.evenHalf.replacing(with: a.oddHalf, where: topWins)
        let upperAt = first &- bits(topWins)
        let bottomWins = beats(c.oddHalf, c.evenHalf)
        let lower = c.evenHalf.replacing(with: c.oddHalf, where: bottomWins)
        let lowerAt = first &+ width &- bits(bottomWins)
        let down = beats(lower, upper)
        UnsafeMutableRawPointer(out).storeBytes(of: upper.replacing(with: lower, where: down), as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(outArg).storeBytes(of: upperAt ^ ((upperAt ^ lowerAt) & bits(down)), as: SIMD4<Int32>.self)
    }

    @inline(__always)
    private static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
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

    /// A lane mask as integers: −1 where set, 0 elsewhere (the mask's own storage).
    @inline(__always)
    private static func bits(_ m: SIMDMask<SIMD4<Int32>>) -> SIMD4<Int32> {
        unsafeBitCast(m, to: SIMD4<Int32>.self)
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
