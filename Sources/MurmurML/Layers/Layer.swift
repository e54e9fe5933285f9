import MurmurCore

/// One step of a network with a forward pass and a hand-written backward pass over a whole
/// minibatch held in caller-owned buffers.
///
/// Layers are immutable descriptions (sizes only). `Network` owns every buffer: the parameter
/// and gradient vectors (each layer sees its own slice) and a workspace with one activation
/// buffer and one activation-gradient buffer per layer, plus the per-layer scratch declared by
/// `scratchPerSample` / `indexScratchPerSample`, all sized for the largest batch seen. Nothing
/// here allocates, so a training step does no heap allocation in steady state.
///
/// Conventions: `input`/`output` hold `batch × inputSize` / `batch × outputSize` floats in the
/// layer's stated layout; `backward` OVERWRITES its parameter-gradient slice and, when
/// `inputGradient` is non-nil, overwrites `batch × inputSize` floats there.
protocol Layer {
    /// Floats per sample read by `forward`.
    var inputSize: Int { get }
    /// Floats per sample written by `forward`.
    var outputSize: Int { get }
    /// Trainable floats in this layer's slice of the parameter vector.
    var parameterCount: Int { get }
    /// Float scratch per sample kept from `forward` to `backward` (e.g. im2col columns).
    var scratchPerSample: Int { get }
    /// Int32 scratch per sample kept from `forward` to `backward` (e.g. max-pool arg-max).
    var indexScratchPerSample: Int { get }
    /// The named tensors of this layer's slice in storage order, e.g. `[("weight", [4, 3]), ("bias", [4])]`.
    var parameterShapes: [(suffix: String, shape: [Int])] { get }

    /// Writes the initial parameters (weights from `rng`, biases zero).
    func initialize(_ parameters: UnsafeMutableBufferPointer<Float>, scheme: InitScheme, rng: inout SeededRNG)

    /// output ← layer(input) for `batch` samples.
    func forward(batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, scratch: LayerScratch)

    /// Given dL/d(output), writes dL/d(parameters) and, if asked, dL/d(input). `input`, `output`
    /// and `scratch` are those of the preceding `forward` call with the same batch.
    func backward(batch: Int, input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                  outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  parameters: UnsafePointer<Float>, parameterGradient: UnsafeMutablePointer<Float>,
                  scratch: LayerScratch)
}

extension Layer {
    var parameterCount: Int { 0 }
    var scratchPerSample: Int { 0 }
    var indexScratchPerSample: Int { 0 }
    var parameterShapes: [(suffix: String, shape: [Int])] { [] }
    func initialize(_ parameters: UnsafeMutableBufferPointer<Float>, scheme: InitScheme, rng: inout SeededRNG) {}
}

/// Per-layer scratch memory inside a network's workspace.
struct LayerScratch {
    /// `batch × scratchPerSample` floats.
    var floats: UnsafeMutablePointer<Float>
    /// `batch × indexScratchPerSample` Int32 values.
    var indices: UnsafeMutablePointer<Int32>
}

/// How a layer draws its initial weights. Biases always start at zero.
enum InitScheme: Equatable {
    /// He et al. 2015 ("Delving Deep into Rectifiers", §2.2): N(0, 2 / fanIn), for layers
    /// followed by ReLU.
    case heNormal
    /// Glorot & Bengio 2010 (eq. 16): U(−a, a) with a = √(6 / (fanIn + fanOut)), for the
    /// output layer.
    case glorotUniform

    /// Fills `weights` row-major, drawing one value per element in order.
    func fill(_ weights: UnsafeMutableBufferPointer<Float>, fanIn: Int, fanOut: Int, rng: inout SeededRNG) {
        switch self {
        case .heNormal:
            let std = (2.0 / Double(fanIn)).squareRoot()
            for i in weights.indices { weights[i] = Float(rng.nextGaussian() * std) }
        case .glorotUniform:
            let a = (6.0 / Double(fanIn + fanOut)).squareRoot()
            for i in weights.indices { weights[i] = Float((2 * rng.nextDouble() - 1) * a) }
        }
    }
}
