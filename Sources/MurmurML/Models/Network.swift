import MurmurCore

/// A classifier built from a `ModelConfig`: its trainable parameters as one flat vector, the
/// gradient of the loss with respect to them, and preallocated buffers for the passes.
///
/// The flat `parameters` vector is what a client trains and ships; `parameterLayout` names its
/// slices in PyTorch layout (docs/ml.md). A `Network` is mutable working state and is not
/// `Sendable`: give each training task its own (copying `parameters` is cheap).
public final class Network {
    /// The architecture, input shape and class count this network was built from.
    public let config: ModelConfig
    /// All trainable parameters, one contiguous vector in `parameterLayout` order.
    public var parameters: [Float]
    /// d(mean loss)/d(parameters) from the last `lossAndGradients` call; same length.
    public var gradients: [Float]
    /// The named tensors inside `parameters`, in storage order.
    public let parameterLayout: [ParameterSlot]

    let stack: LayerStack
    private var workspace: Workspace?

    /// Number of trainable parameters (the length of `parameters`).
    public var parameterCount: Int { stack.parameterCount }

    /// The number of parameters a network of `config` has, without building or initialising it.
    public static func parameterCount(of config: ModelConfig) throws -> Int {
        try LayerStack(config: config).parameterCount
    }

    /// Floats per input sample (the input shape, flattened).
    public var inputSize: Int { stack.inputSize }

    /// A freshly initialised network: He-normal weights for layers followed by ReLU, Glorot-
    /// uniform for the output layer, zero biases, drawn in layer order from `SeededRNG(seed:)`.
    ///
    /// Throws `MLError.invalidConfig` for a config that cannot work (e.g. a CNN on an input
    /// that is not `[C, H, W]`, a zero width, fewer than two classes).
    public init(config: ModelConfig, seed: UInt64) throws {
        let stack = try LayerStack(config: config)
        var rng = SeededRNG(seed: seed)
        var values = [Float](repeating: 0, count: stack.parameterCount)
        values.withUnsafeMutableBufferPointer { p in
            for (i, layer) in stack.layers.enumerated() where layer.parameterCount > 0 {
                let slice = UnsafeMutableBufferPointer(rebasing: p[stack.offsets[i]..<(stack.offsets[i] + layer.parameterCount)])
                layer.initialize(slice, scheme: stack.schemes[i], rng: &rng)
            }
        }
        self.config = config
        self.stack = stack
        self.parameters = values
        self.gradients = [Float](repeating: 0, count: stack.parameterCount)
        self.parameterLayout = stack.slots
    }

    /// A network with the given parameters (e.g. a global model received from a round).
    ///
    /// Throws `MLError.invalidConfig` for an unusable config and
    /// `MLError.parameterCountMismatch` when `parameters` has the wrong length.
    public init(config: ModelConfig, parameters: [Float]) throws {
        let stack = try LayerStack(config: config)
        guard parameters.count == stack.parameterCount else {
            throw MLError.parameterCountMismatch(expected: stack.parameterCount, actual: parameters.count)
        }
        self.config = config
        self.stack = stack
        self.parameters = parameters
        self.gradients = [Float](repeating: 0, count: stack.parameterCount)
        self.parameterLayout = stack.slots
    }

    /// Mean softmax cross-entropy over `batch` samples; OVERWRITES `gradients` with
    /// d(mean loss)/d(parameters).
    ///
    /// `features` holds `batch × inputSize` floats (samples in the config's input shape,
    /// row-major), `labels` `batch` classes in `0..<classCount`. Wrong sizes or labels are
    /// programmer errors. No heap allocation once a batch this large has been seen.
    public func lossAndGradients(features: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>, batch: Int) -> Float {
        checkBatch(features: features, batch: batch)
        precondition(labels.count >= batch, "lossAndGradients: \(labels.count) labels for a batch of \(batch)")
        if gradients.count != parameterCount { gradients = [Float](repeating: 0, count: parameterCount) }
        let ws = workspace(for: batch)
        let last = stack.layers.count - 1
        return parameters.withUnsafeBufferPointer { p in
            gradients.withUnsafeMutableBufferPointer { g in
                // Non-empty: lengths are checked above and every network has parameters.
                let params = p.baseAddress!, grads = g.baseAddress!, x = features.baseAddress!
                forward(ws, batch: batch, input: x, parameters: params)
                let (lossSum, _) = SoftmaxCrossEntropy.evaluate(
                    logits: ws.activations[last], labels: labels.baseAddress!, batch: batch, classes: stack.classCount,
                    gradient: ws.activationGradients[last], gradientScale: 1 / Float(batch))
                backward(ws, batch: batch, input: x, parameters: params, gradients: grads)
                return Float(lossSum / Double(batch))
            }
        }
    }

    /// The logits (`batch × classCount`, row-major) for `batch` samples.
    ///
    /// Inference only: `gradients` is left untouched.
    public func logits(features: UnsafeBufferPointer<Float>, batch: Int) -> [Float] {
        checkBatch(features: features, batch: batch)
        let ws = runForward(features: features.baseAddress!, batch: batch)
        return Array(UnsafeBufferPointer(start: ws.activations[stack.layers.count - 1], count: batch * stack.classCount))
    }

    /// The logits and the penultimate representation — the input of the output layer (the last
    /// hidden layer after its ReLU; the input itself for logistic regression) — for `batch`
    /// samples. Activation proofs (MurmurVerify) commit to the latter.
    public func inference(features: UnsafeBufferPointer<Float>, batch: Int) -> (logits: [Float], penultimate: [Float], width: Int) {
        checkBatch(features: features, batch: batch)
        let ws = runForward(features: features.baseAddress!, batch: batch)
        let last = stack.layers.count - 1
        let logits = Array(UnsafeBufferPointer(start: ws.activations[last], count: batch * stack.classCount))
        if last == 0 {
            return (logits, Array(features.prefix(batch * inputSize)), inputSize)
        }
        let width = stack.layers[last - 1].outputSize
        return (logits, Array(UnsafeBufferPointer(start: ws.activations[last - 1], count: batch * width)), width)
    }

    /// Runs the forward pass and hands the logits to `body` without copying them (they live in
    /// the workspace until the next pass).
    func withLogits<R>(features: UnsafePointer<Float>, batch: Int, _ body: (UnsafePointer<Float>) -> R) -> R {
        body(runForward(features: features, batch: batch).activations[stack.layers.count - 1])
    }

    /// The forward pass over `batch` samples into the workspace, which it returns.
    private func runForward(features: UnsafePointer<Float>, batch: Int) -> Workspace {
        let ws = workspace(for: batch)
        parameters.withUnsafeBufferPointer { p in
            forward(ws, batch: batch, input: features, parameters: p.baseAddress!)
        }
        return ws
    }

    private func checkBatch(features: UnsafeBufferPointer<Float>, batch: Int) {
        precondition(batch > 0, "batch must be positive, got \(batch)")
        precondition(features.count >= batch * inputSize,
                     "\(features.count) features for a batch of \(batch) × \(inputSize)")
        precondition(parameters.count == parameterCount,
                     "parameters has \(parameters.count) values; this network needs \(parameterCount)")
    }

    /// The workspace, grown (never shrunk) to hold `batch` samples.
    private func workspace(for batch: Int) -> Workspace {
        if let ws = workspace, ws.capacity >= batch { return ws }
        let ws = Workspace(layers: stack.layers, capacity: batch)
        workspace = ws
        return ws
    }

    private func forward(_ ws: Workspace, batch: Int, input: UnsafePointer<Float>, parameters: UnsafePointer<Float>) {
        var x = input
        for i in stack.layers.indices {
            stack.layers[i].forward(batch: batch, input: x, output: ws.activations[i],
                                    parameters: parameters + stack.offsets[i], scratch: ws.scratch[i])
            x = UnsafePointer(ws.activations[i])
        }
    }

    private func backward(_ ws: Workspace, batch: Int, input: UnsafePointer<Float>,
                          parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        for i in stack.layers.indices.reversed() {
            stack.layers[i].backward(
                batch: batch, input: i == 0 ? input : UnsafePointer(ws.activations[i - 1]),
                output: ws.activations[i], outputGradient: ws.activationGradients[i],
                inputGradient: i == 0 ? nil : ws.activationGradients[i - 1],
                parameters: parameters + stack.offsets[i], parameterGradient: gradients + stack.offsets[i],
                scratch: ws.scratch[i])
        }
    }
}
