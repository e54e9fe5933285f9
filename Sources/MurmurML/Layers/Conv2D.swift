import MurmurCore
import MurmurTensor

/// How a batch of image-shaped activations is laid out in memory.
///
/// Samples enter a CNN as PyTorch does (`sampleMajor`, NCHW). Inside the convolution stack
/// activations stay `channelMajor` (CNHW): a convolution over the whole batch is then a single
/// GEMM whose result is already in that layout, with no per-sample calls or transposes.
/// `Flatten` turns CNHW back into PyTorch's NCHW order before the dense head.
enum PlanarLayout: Equatable {
    /// `[batch, channels, height, width]` (NCHW).
    case sampleMajor
    /// `[channels, batch, height, width]` (CNHW).
    case channelMajor

    /// Element strides between consecutive samples and consecutive channels.
    func strides(channels: Int, plane: Int, batch: Int) -> (sample: Int, channel: Int) {
        switch self {
        case .sampleMajor: return (channels * plane, plane)
        case .channelMajor: return (plane, batch * plane)
        }
    }
}

/// 2-D convolution (cross-correlation, like `nn.Conv2d`) with a square kernel, stride 1 and
/// zero padding, via im2col + GEMM (Chellapilla, Puri & Simard 2006).
///
/// Weights are `[outChannels, inChannels, kernel, kernel]` then bias `[outChannels]` (PyTorch
/// layout). Input is in `inputLayout`; output is always `channelMajor` `[outC, batch, oh, ow]`.
/// Forward: col[K, N] = im2col(x) with K = inC·k·k, N = batch·oh·ow; Y[outC, N] = W·col + b.
/// Backward: dW = dY·colᵀ, db = row sums of dY, dcol = Wᵀ·dY, dx = col2im(dcol).
struct Conv2D: Layer {
    let inChannels: Int
    let outChannels: Int
    let height: Int
    let width: Int
    let kernel: Int
    let padding: Int
    let inputLayout: PlanarLayout

    var outHeight: Int { height + 2 * padding - kernel + 1 }
    var outWidth: Int { width + 2 * padding - kernel + 1 }
    /// Rows of the im2col matrix: one per (input channel, ky, kx).
    var patch: Int { inChannels * kernel * kernel }

    var inputSize: Int { inChannels * height * width }
    var outputSize: Int { outChannels * outHeight * outWidth }
    var parameterCount: Int { outChannels * patch + outChannels }
    /// im2col columns (kept for dW) followed by their gradient.
    var scratchPerSample: Int { 2 * patch * outHeight * outWidth }
    var parameterShapes: [(suffix: String, shape: [Int])] {
        [("weight", [outChannels, inChannels, kernel, kernel]), ("bias", [outChannels])]
    }

    func initialize(_ parameters: UnsafeMutableBufferPointer<Float>, scheme: InitScheme, rng: inout SeededRNG) {
        let w = UnsafeMutableBufferPointer(rebasing: parameters[0..<(outChannels * patch)])
        scheme.fill(w, fanIn: patch, fanOut: outChannels * kernel * kernel, rng: &rng)
        for i in (outChannels * patch)..<parameterCount { parameters[i] = 0 }
    }

    func forward(batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, scratch: LayerScratch) {
        let n = batch * outHeight * outWidth
        let col = scratch.floats
        im2col(input, into: col, batch: batch)
        let bias = parameters + outChannels * patch
        for o in 0..<outChannels { (output + o * n).update(repeating: bias[o], count: n) }
        GEMM.sgemm(transA: false, transB: false, m: outChannels, n: n, k: patch, alpha: 1,
                   a: parameters, lda: patch, b: col, ldb: n, beta: 1, c: output, ldc: n)
    }

    func backward(batch: Int, input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                  outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  parameters: UnsafePointer<Float>, parameterGradient: UnsafeMutablePointer<Float>,
                  scratch: LayerScratch) {
        let n = batch * outHeight * outWidth
        let col = scratch.floats
        GEMM.sgemm(transA: false, transB: true, m: outChannels, n: patch, k: n, alpha: 1,
                   a: outputGradient, lda: n, b: col, ldb: n, beta: 0, c: parameterGradient, ldc: patch)
        let db = parameterGradient + outChannels * patch
        for o in 0..<outChannels { db[o] = Kernels.sum(outputGradient + o * n, count: n) }
        guard let dx = inputGradient else { return }
        let dcol = scratch.floats + patch * n
        GEMM.sgemm(transA: true, transB: false, m: patch, n: n, k: outChannels, alpha: 1,
                   a: parameters, lda: patch, b: outputGradient, ldb: n, beta: 0, c: dcol, ldc: n)
        col2im(dcol, into: dx, batch: batch)
    }

    /// The input columns [ox0, ox1) that read inside the image for kernel column `kx`.
    @inline(__always)
    private func validColumns(_ kx: Int) -> (Int, Int) {
        (max(0, padding - kx), min(outWidth, width + padding - kx))
    }

    /// col[(c·k + ky)·k + kx, (b·oh + oy)·ow + ox] ← x[b, c, oy + ky − p, ox + kx − p] (0 outside).
    func im2col(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>, batch: Int) {
        let (sampleStride, channelStride) = inputLayout.strides(channels: inChannels, plane: height * width, batch: batch)
        let ohw = outHeight * outWidth, n = batch * ohw
        for c in 0..<inChannels {
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let row = col + ((c * kernel + ky) * kernel + kx) * n
                    let (x0, x1) = validColumns(kx)
                    let shift = kx - padding
                    for b in 0..<batch {
                        let plane = x + b * sampleStride + c * channelStride
                        for oy in 0..<outHeight {
                            let dst = row + b * ohw + oy * outWidth
                            let iy = oy + ky - padding
                            guard iy >= 0, iy < height, x0 < x1 else {
                                for ox in 0..<outWidth { dst[ox] = 0 }
                                continue
                            }
                            let base = iy * width + shift
                            for ox in 0..<x0 { dst[ox] = 0 }
                            for ox in x0..<x1 { dst[ox] = plane[base + ox] }
                            for ox in x1..<outWidth { dst[ox] = 0 }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: dx ← 0, then dx[b, c, iy, ix] += dcol[…] over every patch
    /// position that read (iy, ix).
    func col2im(_ dcol: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, batch: Int) {
        let (sampleStride, channelStride) = inputLayout.strides(channels: inChannels, plane: height * width, batch: batch)
        Kernels.zero(dx, batch * inputSize)
        let ohw = outHeight * outWidth, n = batch * ohw
        for c in 0..<inChannels {
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let row = dcol + ((c * kernel + ky) * kernel + kx) * n
                    let (x0, x1) = validColumns(kx)
                    guard x0 < x1 else { continue }
                    let shift = kx - padding
                    for b in 0..<batch {
                        let plane = dx + b * sampleStride + c * channelStride
                        for oy in 0..<outHeight {
                            let iy = oy + ky - padding
                            guard iy >= 0, iy < height else { continue }
                            let src = row + b * ohw + oy * outWidth
                            let base = iy * width + shift
                            for ox in x0..<x1 { plane[base + ox] += src[ox] }
                        }
                    }
                }
            }
        }
    }
}
