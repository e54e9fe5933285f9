import Foundation
import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurML

@Suite(.ownThreads) struct NetworkTests {
    static let cnn = ModelConfig(architecture: .cnn(channels: [3, 2], hidden: 5), inputShape: [2, 6, 5], classCount: 3)
    static let mlp = ModelConfig(architecture: .mlp(hidden: [6, 4]), inputShape: [2, 3], classCount: 3)

    @Test func parameterLayoutNamesShapesAndOffsets() throws {
        let net = try Network(config: Self.cnn, seed: 1)
        let expected: [(String, [Int])] = [
            ("conv0.weight", [3, 2, 3, 3]), ("conv0.bias", [3]),
            ("conv1.weight", [2, 3, 3, 3]), ("conv1.bias", [2]),
            // 6×5 → pool → 3×2 → pool → 1×1, two channels.
            ("dense0.weight", [5, 2]), ("dense0.bias", [5]),
            ("dense1.weight", [3, 5]), ("dense1.bias", [3]),
        ]
        #expect(net.parameterLayout.map(\.name) == expected.map(\.0))
        #expect(net.parameterLayout.map(\.shape) == expected.map(\.1))
        var offset = 0
        for slot in net.parameterLayout {
            #expect(slot.offset == offset)
            offset += slot.count
        }
        #expect(offset == net.parameterCount)
        #expect(net.parameters.count == 54 + 3 + 54 + 2 + 10 + 5 + 15 + 3)
        #expect(net.gradients.count == net.parameterCount)

        let lr = try Network(config: ModelConfig(architecture: .logisticRegression, inputShape: [1, 8, 8], classCount: 10), seed: 1)
        #expect(lr.parameterLayout == [ParameterSlot(name: "dense0.weight", shape: [10, 64], offset: 0),
                                       ParameterSlot(name: "dense0.bias", shape: [10], offset: 640)])
    }

    @Test func initialisationIsSeededAndScaled() throws {
        let config = ModelConfig(architecture: .mlp(hidden: [200]), inputShape: [100], classCount: 10)
        let a = try Network(config: config, seed: 7), b = try Network(config: config, seed: 7), c = try Network(config: config, seed: 8)
        #expect(a.parameters == b.parameters)
        #expect(a.parameters != c.parameters)
        let w0 = a.parameters[a.parameterLayout[0].range]
        let b0 = a.parameters[a.parameterLayout[1].range]
        let w1 = a.parameters[a.parameterLayout[2].range]
        // He normal: variance 2/fan_in = 0.02 over 20 000 draws.
        let var0 = w0.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(w0.count)
        #expect(abs(var0 - 0.02) < 0.002)
        #expect(b0.allSatisfy { $0 == 0 })
        // Glorot uniform: |w| ≤ √(6/(200+10)).
        let limit = Float((6.0 / 210).squareRoot())
        #expect(w1.allSatisfy { abs($0) <= limit })
        #expect(w1.map { abs($0) }.max()! > limit * 0.9)
    }

    @Test(arguments: [
        (ModelConfig(architecture: .cnn(channels: [4], hidden: 8), inputShape: [64], classCount: 10), "[channels, height, width]"),
        (ModelConfig(architecture: .mlp(hidden: [16, 0]), inputShape: [64], classCount: 10), "width 1 is 0"),
        (ModelConfig(architecture: .cnn(channels: [4], hidden: 0), inputShape: [1, 8, 8], classCount: 10), "hidden width is 0"),
        (ModelConfig(architecture: .cnn(channels: [4, 4, 4, 4], hidden: 8), inputShape: [1, 8, 8], classCount: 10), "pool a 1×1"),
        (ModelConfig(architecture: .logisticRegression, inputShape: [64], classCount: 1), "at least 2 classes"),
        (ModelConfig(architecture: .logisticRegression, inputShape: [], classCount: 2), "non-empty"),
        (ModelConfig(architecture: .logisticRegression, inputShape: [8, 0], classCount: 2), "every dimension"),
        (ModelConfig(architecture: .mlp(hidden: [1 << 40]), inputShape: [1 << 20], classCount: 2), "too large"),
    ])
    func unusableConfigsAreRejected(config: ModelConfig, mention: String) {
        do {
            _ = try Network(config: config, seed: 1)
            Issue.record("accepted \(config)")
        } catch let error as MLError {
            guard case .invalidConfig = error else { Issue.record("wrong error \(error)"); return }
            #expect(error.description.contains(mention), "\(error)")
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func parameterCountIsChecked() throws {
        #expect(throws: MLError.parameterCountMismatch(expected: 50, actual: 49)) {
            try Network(config: ModelConfig(architecture: .logisticRegression, inputShape: [24], classCount: 2), parameters: [Float](repeating: 0, count: 49))
        }
        let net = try Network(config: Self.mlp, seed: 3)
        let copy = try Network(config: Self.mlp, parameters: net.parameters)
        #expect(copy.parameters == net.parameters)
    }

    /// The network's logits equal a direct, PyTorch-semantics evaluation (NCHW convolution,
    /// ReLU, floor max-pool, C-major flatten, x·Wᵀ + b) in Double: this pins the weight layouts
    /// and the flatten order a PyTorch model would use.
    @Test(arguments: [cnn, mlp, ModelConfig(architecture: .logisticRegression, inputShape: [5], classCount: 4)])
    func logitsMatchAReferenceEvaluation(config: ModelConfig) throws {
        var rng = SeededRNG(seed: 11)
        let net = try Network(config: config, seed: 5)
        // Non-zero biases so their layout is checked too.
        for slot in net.parameterLayout where slot.name.hasSuffix("bias") {
            for i in slot.range { net.parameters[i] = Float(rng.nextGaussian() * 0.1) }
        }
        let batch = 3, d = config.inputShape.reduce(1, *)
        let x = (0..<(batch * d)).map { _ in Float(rng.nextGaussian()) }
        let logits = x.withUnsafeBufferPointer { net.logits(features: $0, batch: batch) }
        let expected = referenceLogits(net, x, batch: batch)
        #expect(logits.count == expected.count)
        for (a, b) in zip(logits, expected) { #expect(close(Double(a), b, atol: 1e-5, rtol: 1e-4), "\(a) vs \(b)") }
    }

    /// d(mean loss)/dθ of the whole network (CNN with padding and pooling, MLP) against central
    /// differences of the loss returned by `lossAndGradients`.
    @Test(arguments: [cnn, mlp])
    func fullLossGradientMatchesFiniteDifferences(config: ModelConfig) throws {
        var rng = SeededRNG(seed: 12)
        let net = try Network(config: config, seed: 9)
        let batch = 4, d = config.inputShape.reduce(1, *)
        let x = (0..<(batch * d)).map { _ in Float(rng.nextGaussian()) }
        let y: [Int32] = [0, 1, 2, 1]
        func loss() -> Double {
            x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { Double(net.lossAndGradients(features: xp, labels: $0, batch: batch)) } }
        }
        _ = loss()
        let analytic = net.gradients
        let theta = net.parameters
        let eps: Float = 1e-3
        for i in theta.indices {
            net.parameters = theta
            net.parameters[i] += eps
            let up = loss()
            net.parameters[i] = theta[i] - eps
            let down = loss()
            let numeric = (up - down) / Double((theta[i] + eps) - (theta[i] - eps))
            #expect(close(numeric, Double(analytic[i]), atol: 2e-3, rtol: 2e-2),
                    "\(config.architecture) dL/dθ[\(i)]: numeric \(numeric), analytic \(analytic[i])")
        }
    }

    @Test func batchSizeChangesDoNotChangeResults() throws {
        // The workspace grows for larger batches and is reused (prefix) for smaller ones.
        let net = try Network(config: Self.cnn, seed: 2)
        var rng = SeededRNG(seed: 3)
        let x = (0..<(5 * 60)).map { _ in Float(rng.nextGaussian()) }
        let one = x.withUnsafeBufferPointer { p in (0..<5).flatMap { i in net.logits(features: UnsafeBufferPointer(rebasing: p[(i * 60)..<((i + 1) * 60)]), batch: 1) } }
        let five = x.withUnsafeBufferPointer { net.logits(features: $0, batch: 5) }
        let two = x.withUnsafeBufferPointer { net.logits(features: $0, batch: 2) }
        for (a, b) in zip(one, five) { #expect(abs(a - b) <= 1e-5 * max(1, abs(a))) }
        // Equal up to rounding: a GEMM may block rows differently for different batch sizes.
        for (a, b) in zip(five.prefix(6), two) { #expect(abs(a - b) <= 1e-5 * max(1, abs(a))) }
    }

    @Test func lossAndGradientsOverwritesGradients() throws {
        let net = try Network(config: Self.mlp, seed: 4)
        let x: [Float] = (0..<12).map { Float($0) / 6 - 1 }
        let y: [Int32] = [2, 0]
        net.gradients = [Float](repeating: 99, count: net.parameterCount)
        let l1 = x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { net.lossAndGradients(features: xp, labels: $0, batch: 2) } }
        let g1 = net.gradients
        let l2 = x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { net.lossAndGradients(features: xp, labels: $0, batch: 2) } }
        #expect(l1 == l2)
        #expect(net.gradients == g1)
        #expect(!g1.contains(99))
        // A fresh 3-class network starts near log 3 loss.
        #expect(abs(Double(l1) - 1.0986) < 0.6)
    }

    @Test func evaluateCountsAccuracyAndLoss() throws {
        // Logistic regression with hand-set weights: class = sign of the first feature.
        let config = ModelConfig(architecture: .logisticRegression, inputShape: [2], classCount: 2)
        let net = try Network(config: config, parameters: [-1, 0, 1, 0, 0, 0])
        let data = Dataset(name: "t", features: [2, 0, -2, 0, 1, 5, -3, 1], labels: [1, 0, 0, 0], sampleShape: [2], classCount: 2)
        let e = net.evaluate(data, batchSize: 3)
        #expect(e.count == 4)
        #expect(e.accuracy == 0.75)
        // Per-sample loss: log(1 + e^{-2·|x₀|·(±1)}).
        let losses = [log1p(exp(-4.0)), log1p(exp(-4.0)), log1p(exp(2.0)), log1p(exp(-6.0))]
        #expect(abs(e.loss - losses.reduce(0, +) / 4) < 1e-6)
        let empty = net.evaluate(Dataset(name: "e", features: [], labels: [], sampleShape: [2], classCount: 2))
        #expect(empty == Evaluation(accuracy: 0, loss: 0, count: 0))
    }
}

/// A straightforward Double-precision evaluation of `net` with PyTorch semantics, reading
/// tensors by name from `parameterLayout`.
func referenceLogits(_ net: Network, _ x: [Float], batch: Int) -> [Double] {
    func tensor(_ name: String) -> [Double] {
        guard let slot = net.parameterLayout.first(where: { $0.name == name }) else { return [] }
        return net.parameters[slot.range].map(Double.init)
    }
    let config = net.config
    let d = config.inputShape.reduce(1, *)
    var out = [Double]()
    for b in 0..<batch {
        var a = x[(b * d)..<((b + 1) * d)].map(Double.init)
        var dense = 0
        func linear(_ v: [Double], relu: Bool) -> [Double] {
            let w = tensor("dense\(dense).weight"), bias = tensor("dense\(dense).bias")
            dense += 1
            let n = bias.count, k = v.count
            return (0..<n).map { o in
                let s = bias[o] + (0..<k).reduce(0.0) { $0 + w[o * k + $1] * v[$1] }
                return relu ? max(s, 0) : s
            }
        }
        switch config.architecture {
        case .logisticRegression:
            a = linear(a, relu: false)
        case .mlp(let hidden):
            for _ in hidden { a = linear(a, relu: true) }
            a = linear(a, relu: false)
        case .cnn(let channels, _):
            var (c, h, w) = (config.inputShape[0], config.inputShape[1], config.inputShape[2])
            for (i, oc) in channels.enumerated() {
                let k = tensor("conv\(i).weight"), bias = tensor("conv\(i).bias")
                var conv = [Double](repeating: 0, count: oc * h * w)
                for o in 0..<oc {
                    for y in 0..<h {
                        for xx in 0..<w {
                            var s = bias[o]
                            for ci in 0..<c {
                                for ky in 0..<3 {
                                    for kx in 0..<3 {
                                        let iy = y + ky - 1, ix = xx + kx - 1
                                        if iy >= 0, iy < h, ix >= 0, ix < w {
                                            s += k[((o * c + ci) * 3 + ky) * 3 + kx] * a[(ci * h + iy) * w + ix]
                                        }
                                    }
                                }
                            }
                            conv[(o * h + y) * w + xx] = max(s, 0)
                        }
                    }
                }
                let ph = h / 2, pw = w / 2
                var pooled = [Double](repeating: 0, count: oc * ph * pw)
                for o in 0..<oc {
                    for y in 0..<ph {
                        for xx in 0..<pw {
                            let base = (o * h + 2 * y) * w + 2 * xx
                            pooled[(o * ph + y) * pw + xx] = max(max(conv[base], conv[base + 1]), max(conv[base + w], conv[base + w + 1]))
                        }
                    }
                }
                a = pooled
                (c, h, w) = (oc, ph, pw)
            }
            a = linear(a, relu: true)
            a = linear(a, relu: false)
        }
        out += a
    }
    return out
}
