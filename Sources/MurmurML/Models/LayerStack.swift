/// The layers a `ModelConfig` describes, in forward order, with each layer's parameter offset,
/// initialisation scheme and named slots.
///
/// - logisticRegression: Dense(features → classes)
/// - mlp(hidden: h₀…): Dense → ReLU per width, then Dense(→ classes)
/// - cnn(channels: c₀…, hidden: h): per cᵢ Conv 3×3 pad 1 → ReLU → MaxPool 2×2 (executed as
///   Conv → MaxPool → ReLU, which is identical); then Flatten → Dense(h) → ReLU → Dense(→ classes)
///
/// Parameterised layers are named by kind and position: `dense0`, `dense1`, …, `conv0`, ….
/// Every layer followed by a ReLU is He-initialised; the output layer is Glorot-initialised.
struct LayerStack {
    /// The layers in forward order.
    let layers: [any Layer]
    /// Index of each layer's slice in the flat parameter vector.
    let offsets: [Int]
    /// Initialisation of each layer's weights.
    let schemes: [InitScheme]
    /// Named tensors of the whole network in storage order.
    let slots: [ParameterSlot]
    /// Total trainable floats.
    let parameterCount: Int
    /// Floats per input sample.
    let inputSize: Int
    /// Logits per sample.
    let classCount: Int

    /// Largest parameter vector a config may ask for (2³¹ floats = 8 GiB), so that size
    /// arithmetic cannot overflow and a typo in a width fails fast instead of exhausting memory.
    static let maxParameters = 1 << 31

    init(config: ModelConfig) throws(MLError) {
        guard config.classCount >= 2 else {
            throw .invalidConfig("classCount is \(config.classCount); a classifier needs at least 2 classes")
        }
        guard !config.inputShape.isEmpty, config.inputShape.allSatisfy({ $0 > 0 }) else {
            throw .invalidConfig("inputShape \(config.inputShape) must be non-empty with every dimension ≥ 1")
        }
        let features = try Self.product(config.inputShape, what: "inputShape")
        var layers = [any Layer]()
        var named = [String?]()
        switch config.architecture {
        case .logisticRegression:
            layers.append(try Self.dense(features, config.classCount)); named.append("dense")
        case .mlp(let hidden):
            var width = features
            for (i, h) in hidden.enumerated() {
                guard h > 0 else { throw .invalidConfig("mlp hidden width \(i) is \(h); every width must be ≥ 1") }
                layers.append(try Self.dense(width, h)); named.append("dense")
                layers.append(ReLU(size: h)); named.append(nil)
                width = h
            }
            layers.append(try Self.dense(width, config.classCount)); named.append("dense")
        case .cnn(let channels, let hidden):
            guard config.inputShape.count == 3 else {
                throw .invalidConfig("cnn needs inputShape [channels, height, width], got \(config.inputShape); use mlp for flat features")
            }
            guard hidden > 0 else { throw .invalidConfig("cnn hidden width is \(hidden); it must be ≥ 1") }
            var (c, h, w) = (config.inputShape[0], config.inputShape[1], config.inputShape[2])
            for (i, out) in channels.enumerated() {
                guard out > 0 else { throw .invalidConfig("cnn channel count \(i) is \(out); every count must be ≥ 1") }
                guard h >= 2, w >= 2 else {
                    throw .invalidConfig("cnn block \(i) would pool a \(h)×\(w) map to nothing; use fewer conv blocks or larger inputs")
                }
                _ = try Self.product([c, 9, out], what: "conv block \(i) weights")
                _ = try Self.product([out, h, w], what: "conv block \(i) activations")
                let conv = Conv2D(inChannels: c, outChannels: out, height: h, width: w, kernel: 3, padding: 1,
                                  inputLayout: i == 0 ? .sampleMajor : .channelMajor)
                // Conv → ReLU → MaxPool, run as Conv → MaxPool → ReLU: max and ReLU are both
                // monotone, so relu(max(window)) = max(relu(window)) bit for bit and the
                // gradients agree (they differ only where both are zero); ReLU then touches a
                // quarter of the values.
                layers.append(conv); named.append("conv")
                layers.append(MaxPool2D(channels: out, height: h, width: w)); named.append(nil)
                (c, h, w) = (out, h / 2, w / 2)
                layers.append(ReLU(size: out * h * w)); named.append(nil)
            }
            if !channels.isEmpty { layers.append(Flatten(channels: c, plane: h * w)); named.append(nil) }
            layers.append(try Self.dense(c * h * w, hidden)); named.append("dense")
            layers.append(ReLU(size: hidden)); named.append(nil)
            layers.append(try Self.dense(hidden, config.classCount)); named.append("dense")
        }

        var offsets = [Int](), slots = [ParameterSlot](), schemes = [InitScheme]()
        var counters = [String: Int]()
        var total = 0
        for (i, layer) in layers.enumerated() {
            offsets.append(total)
            schemes.append(i == layers.count - 1 ? .glorotUniform : .heNormal)
            if let kind = named[i] {
                let index = counters[kind, default: 0]
                counters[kind] = index + 1
                var offset = total
                for (suffix, shape) in layer.parameterShapes {
                    let slot = ParameterSlot(name: "\(kind)\(index).\(suffix)", shape: shape, offset: offset)
                    slots.append(slot)
                    offset += slot.count
                }
            }
            let (sum, overflow) = total.addingReportingOverflow(layer.parameterCount)
            guard !overflow, sum <= Self.maxParameters else {
                throw .invalidConfig("the network would have more than \(Self.maxParameters) parameters; reduce the widths")
            }
            total = sum
        }
        self.layers = layers
        self.offsets = offsets
        self.schemes = schemes
        self.slots = slots
        self.parameterCount = total
        self.inputSize = features
        self.classCount = config.classCount
    }

    /// A dense layer, once its weight count is known to stay within `maxParameters`.
    private static func dense(_ inputs: Int, _ outputs: Int) throws(MLError) -> Dense {
        _ = try product([inputs, outputs], what: "dense layer \(inputs) → \(outputs) weights")
        return Dense(inputs: inputs, outputs: outputs)
    }

    /// The product of `dims`, or an `invalidConfig` error if it exceeds `maxParameters`.
    private static func product(_ dims: [Int], what: String) throws(MLError) -> Int {
        var p = 1
        for d in dims {
            let (r, overflow) = p.multipliedReportingOverflow(by: d)
            guard !overflow, r <= maxParameters else {
                throw .invalidConfig("\(what) is too large (more than \(maxParameters) elements)")
            }
            p = r
        }
        return p
    }
}
