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
    /// `Conv2D.paddingMasks` for this geometry (used when the output keeps the input size).
    let paddingMasks: [UInt32]
    /// Planes per tile of `paddingMasks`.
    let maskPlanes: Int

    init(inChannels: Int, outChannels: Int, height: Int, width: Int, kernel: Int, padding: Int, inputLayout: PlanarLayout) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.height = height
        self.width = width
        self.kernel = kernel
        self.padding = padding
        self.inputLayout = inputLayout
        let keepsSize = kernel == 2 * padding + 1
        maskPlanes = Self.maskPlanes(height: height, width: width)
        paddingMasks = keepsSize
            ? Self.paddingMasks(height: height, width: width, kernel: kernel, padding: padding, planes: maskPlanes) : []
    }

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
}
