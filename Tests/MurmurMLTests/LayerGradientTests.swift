import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurML

/// Finite-difference checks of every layer's hand-written backward pass.
///
/// For a layer y = f(x; θ) and fixed random weights r, the scalar L = Σ r ⊙ y has
/// dL/dy = r; backward(r) must match central differences (L(z + ε) − L(z − ε)) / (2ε) of every
/// input and parameter z, with L accumulated in Double. Inputs are kept at least 0.1 away from
/// the kinks of ReLU and max pooling so that ±ε never crosses one.
@Suite(.ownThreads) struct LayerGradientTests {
    @Test func denseGradients() {
        var rng = SeededRNG(seed: 1)
        let layer = Dense(inputs: 5, outputs: 4)
        let h = Harness(layer: layer, batch: 3, rng: &rng)
        h.expectGradientsMatch()
    }

    @Test func reluGradients() {
        var rng = SeededRNG(seed: 2)
        var h = Harness(layer: ReLU(size: 7), batch: 3, rng: &rng)
        // Keep |x| ≥ 0.1 so ±ε never crosses 0, with both signs present.
        h.input = h.input.map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 }
        h.expectGradientsMatch()
        #expect(h.forward(h.input, h.parameters).contains(0))
    }

    @Test(arguments: [PlanarLayout.sampleMajor, .channelMajor])
    func conv2DGradientsWithPadding(layout: PlanarLayout) {
        var rng = SeededRNG(seed: 3)
        let layer = Conv2D(inChannels: 2, outChannels: 3, height: 5, width: 4, kernel: 3, padding: 1, inputLayout: layout)
        Harness(layer: layer, batch: 2, rng: &rng).expectGradientsMatch()
    }

    /// The shifted-copy lowering (used when the output keeps the input size) equals the
    /// row-by-row one, and col2im is its adjoint: ⟨im2col(x), d⟩ = ⟨x, col2im(d)⟩.
    @Test(arguments: [
        (PlanarLayout.sampleMajor, 2, 5, 4, 3, 1), (.sampleMajor, 1, 4, 6, 3, 1), (.channelMajor, 3, 3, 3, 3, 1),
        (.channelMajor, 1, 2, 1, 5, 2), (.sampleMajor, 2, 1, 3, 5, 2),
        // Several mask tiles per run, the last one partial (10×10: 2 planes per tile).
        (.channelMajor, 2, 10, 10, 3, 1), (.sampleMajor, 1, 16, 16, 3, 1),
    ])
    func im2colPathsAgree(layout: PlanarLayout, channels: Int, height: Int, width: Int, kernel: Int, padding: Int) {
        var rng = SeededRNG(seed: 9)
        let conv = Conv2D(inChannels: channels, outChannels: 1, height: height, width: width, kernel: kernel,
                          padding: padding, inputLayout: layout)
        #expect(conv.keepsSize)
        let batch = 3
        let x = (0..<(batch * conv.inputSize)).map { _ in Float(rng.nextGaussian()) }
        let columns = conv.patch * batch * conv.outHeight * conv.outWidth
        var shifted = [Float](repeating: .nan, count: columns), rows = [Float](repeating: .nan, count: columns)
        x.withUnsafeBufferPointer { xp in
            shifted.withUnsafeMutableBufferPointer { conv.im2colShifted(xp.baseAddress!, into: $0.baseAddress!, batch: batch) }
            rows.withUnsafeMutableBufferPointer { conv.im2colRows(xp.baseAddress!, into: $0.baseAddress!, batch: batch) }
        }
        #expect(shifted == rows)
        let d = (0..<columns).map { _ in Float(rng.nextGaussian()) }
        var dcol = d, dx = [Float](repeating: .nan, count: x.count)
        dcol.withUnsafeMutableBufferPointer { dp in dx.withUnsafeMutableBufferPointer { conv.col2im(dp.baseAddress!, into: $0.baseAddress!, batch: batch) } }
        let lhs = zip(shifted, d).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x, dx).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)))
        var dxRows = [Float](repeating: 0, count: x.count)
        d.withUnsafeBufferPointer { dp in dxRows.withUnsafeMutableBufferPointer { conv.col2imRows(dp.baseAddress!, into: $0.baseAddress!, batch: batch) } }
        for (a, b) in zip(dx, dxRows) { #expect(abs(a - b) <= 1e-5 * max(1, abs(a))) }
    }

    @Test func conv2DGradientsSingleChannelBatchMajor() {
        var rng = SeededRNG(seed: 10)
        let layer = Conv2D(inChannels: 1, outChannels: 2, height: 4, width: 3, kernel: 3, padding: 1, inputLayout: .sampleMajor)
        Harness(layer: layer, batch: 3, rng: &rng).expectGradientsMatch()
    }

    @Test func conv2DGradientsWithoutPadding() {
        var rng = SeededRNG(seed: 4)
        let layer = Conv2D(inChannels: 1, outChannels: 2, height: 4, width: 5, kernel: 3, padding: 0, inputLayout: .channelMajor)
        Harness(layer: layer, batch: 3, rng: &rng).expectGradientsMatch()
    }

    @Test func maxPoolGradientsOnOddSizes() {
        var rng = SeededRNG(seed: 5)
        let layer = MaxPool2D(channels: 2, height: 5, width: 3)
        var h = Harness(layer: layer, batch: 2, rng: &rng)
        // Distinct values 0.1 apart: no window has a near-tie.
        let n = h.input.count
        var values = (0..<n).map { Float($0) * 0.1 - 1 }
        for i in stride(from: n - 1, to: 0, by: -1) { values.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        h.input = values
        h.expectGradientsMatch()
    }

    @Test func maxPoolPicksTheWindowMaximum() {
        // One 4×4 plane: windows {1,2,5,6}, {3,4,7,8}, {9,10,13,14}, {11,12,15,16} with a tie.
        let layer = MaxPool2D(channels: 1, height: 4, width: 4)
        let x: [Float] = [1, 9, 3, 4, 5, 6, 7, 2, 9, 10, 13, 14, 0, 0, 15, 15]
        var rng = SeededRNG(seed: 0)
        var h = Harness(layer: layer, batch: 1, rng: &rng)
        h.input = x
        #expect(h.forward(x, []) == [9, 7, 10, 15])
        let (dx, _) = h.analytic()
        // The tie (15, 15) goes to the first in row-major order.
        let r = h.upstream
        #expect(dx == [0, r[0], 0, 0, 0, 0, r[1], 0, 0, r[2], 0, 0, 0, 0, r[3], 0])
    }

    /// Wide planes (and 4-wide ones) take 4-windows-at-a-time SIMD paths plus scalar tails; with
    /// many ties and a few NaNs all must pick what a row-major scan keeping the first maximum
    /// picks (NaN wins).
    @Test(arguments: [(5, 21), (5, 4), (4, 4), (7, 16)])
    func maxPoolSIMDPathsMatchARowMajorScan(height: Int, width: Int) {
        var rng = SeededRNG(seed: 8)
        let (channels, batch) = (2, 2)
        let layer = MaxPool2D(channels: channels, height: height, width: width)
        var h = Harness(layer: layer, batch: batch, rng: &rng)
        h.input = h.input.map { _ in rng.next() % 23 == 0 ? .nan : Float(rng.next() % 3) }
        let y = h.forward(h.input, [])
        let (dx, _) = h.analytic()
        var expectedY = [Float](), expectedDx = [Float](repeating: 0, count: h.input.count)
        for p in 0..<(channels * batch) {
            for oy in 0..<(height / 2) {
                for ox in 0..<(width / 2) {
                    var at = p * height * width + 2 * oy * width + 2 * ox
                    for i in [at + 1, at + width, at + width + 1] where h.input[i] > h.input[at] || (h.input[i].isNaN && !h.input[at].isNaN) {
                        at = i
                    }
                    expectedDx[at] = h.upstream[expectedY.count]
                    expectedY.append(h.input[at])
                }
            }
        }
        #expect(y.map(\.bitPattern) == expectedY.map(\.bitPattern))
        #expect(dx == expectedDx)
        #expect(y.contains { $0.isNaN } || height * width < 40)
    }

    @Test func flattenGradientsAndOrder() {
        var rng = SeededRNG(seed: 6)
        let layer = Flatten(channels: 3, plane: 2)
        let h = Harness(layer: layer, batch: 2, rng: &rng)
        h.expectGradientsMatch()
        // CNHW [c][b][p] → NCHW [b][c][p].
        let x: [Float] = (0..<12).map(Float.init)
        #expect(h.forward(x, []) == [0, 1, 4, 5, 8, 9, 2, 3, 6, 7, 10, 11])
    }

    @Test func softmaxCrossEntropyGradients() {
        var rng = SeededRNG(seed: 7)
        let batch = 4, classes = 5
        let z = (0..<(batch * classes)).map { _ in Float(rng.nextGaussian() * 2) }
        let labels: [Int32] = [0, 4, 2, 2]
        func meanLoss(_ z: [Float]) -> Double {
            z.withUnsafeBufferPointer { zp in
                labels.withUnsafeBufferPointer { lp in
                    SoftmaxCrossEntropy.evaluate(logits: zp.baseAddress!, labels: lp.baseAddress!, batch: batch, classes: classes,
                                                 gradient: nil, gradientScale: 0).lossSum / Double(batch)
                }
            }
        }
        var g = [Float](repeating: 0, count: z.count)
        z.withUnsafeBufferPointer { zp in
            labels.withUnsafeBufferPointer { lp in
                g.withUnsafeMutableBufferPointer { gp in
                    _ = SoftmaxCrossEntropy.evaluate(logits: zp.baseAddress!, labels: lp.baseAddress!, batch: batch,
                                                     classes: classes, gradient: gp.baseAddress!, gradientScale: 1 / Float(batch))
                }
            }
        }
        for i in z.indices {
            var zp = z, zm = z
            zp[i] += 1e-2
            zm[i] -= 1e-2
            let numeric = (meanLoss(zp) - meanLoss(zm)) / Double(zp[i] - zm[i])
            #expect(close(numeric, Double(g[i]), atol: 1e-4, rtol: 1e-2), "dL/dz[\(i)]: numeric \(numeric), analytic \(g[i])")
        }
    }

    @Test func softmaxCrossEntropyKnownValues() {
        // Two equal logits: loss = log 2, gradient (½ − 1, ½); large logits must not overflow.
        let z: [Float] = [3, 3, 1000, 0]
        let labels: [Int32] = [0, 0]
        var g = [Float](repeating: 0, count: 4)
        let r = z.withUnsafeBufferPointer { zp in
            labels.withUnsafeBufferPointer { lp in
                g.withUnsafeMutableBufferPointer { gp in
                    SoftmaxCrossEntropy.evaluate(logits: zp.baseAddress!, labels: lp.baseAddress!, batch: 2, classes: 2,
                                                 gradient: gp.baseAddress!, gradientScale: 1)
                }
            }
        }
        #expect(abs(r.lossSum - 0.693_147_18) < 1e-6)
        #expect(g == [-0.5, 0.5, 0, 0])
        #expect(r.correct == 2)
    }
}

/// |a − b| ≤ atol + rtol·max(|a|, |b|).
func close(_ a: Double, _ b: Double, atol: Double, rtol: Double) -> Bool {
    abs(a - b) <= atol + rtol * max(abs(a), abs(b))
}

/// One layer with random input, parameters and upstream gradient, and the buffers to run it.
struct Harness {
    let layer: any Layer
    let batch: Int
    var input: [Float]
    var parameters: [Float]
    /// dL/dy, the weights r of L = Σ r ⊙ y.
    let upstream: [Float]

    init(layer: any Layer, batch: Int, rng: inout SeededRNG) {
        self.layer = layer
        self.batch = batch
        input = (0..<(batch * layer.inputSize)).map { _ in Float(rng.nextGaussian()) }
        parameters = (0..<layer.parameterCount).map { _ in Float(rng.nextGaussian() * 0.5) }
        upstream = (0..<(batch * layer.outputSize)).map { _ in Float(rng.nextGaussian()) }
    }

    /// Runs forward then (optionally) backward with fresh buffers.
    private func run(_ x: [Float], _ p: [Float], backward: Bool) -> (y: [Float], dx: [Float], dp: [Float]) {
        var y = [Float](repeating: .nan, count: batch * layer.outputSize)
        var dx = [Float](repeating: .nan, count: batch * layer.inputSize)
        var dp = [Float](repeating: .nan, count: max(layer.parameterCount, 1))
        var floats = [Float](repeating: .nan, count: max(batch * layer.scratchPerSample, 1))
        var ints = [Int32](repeating: -1, count: max(batch * layer.indexScratchPerSample, 1))
        let p1 = p.isEmpty ? [0] : p
        x.withUnsafeBufferPointer { xp in
            p1.withUnsafeBufferPointer { pp in
                upstream.withUnsafeBufferPointer { up in
                    y.withUnsafeMutableBufferPointer { yp in
                        dx.withUnsafeMutableBufferPointer { dxp in
                            dp.withUnsafeMutableBufferPointer { dpp in
                                floats.withUnsafeMutableBufferPointer { fp in
                                    ints.withUnsafeMutableBufferPointer { ip in
                                        let s = LayerScratch(floats: fp.baseAddress!, indices: ip.baseAddress!)
                                        layer.forward(batch: batch, input: xp.baseAddress!, output: yp.baseAddress!,
                                                      parameters: pp.baseAddress!, scratch: s)
                                        if backward {
                                            layer.backward(batch: batch, input: xp.baseAddress!, output: yp.baseAddress!,
                                                           outputGradient: up.baseAddress!, inputGradient: dxp.baseAddress!,
                                                           parameters: pp.baseAddress!, parameterGradient: dpp.baseAddress!,
                                                           scratch: s)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, dx, Array(dp.prefix(layer.parameterCount)))
    }

    func forward(_ x: [Float], _ p: [Float]) -> [Float] { run(x, p, backward: false).y }

    /// L = Σ r ⊙ y in Double.
    func loss(_ x: [Float], _ p: [Float]) -> Double {
        zip(forward(x, p), upstream).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// dL/dx and dL/dθ from the layer's backward pass.
    func analytic() -> (dx: [Float], dp: [Float]) {
        let r = run(input, parameters, backward: true)
        return (r.dx, r.dp)
    }

    /// Compares every input and parameter gradient with central differences.
    func expectGradientsMatch(epsilon: Float = 1e-2, sourceLocation: SourceLocation = #_sourceLocation) {
        let (dx, dp) = analytic()
        #expect(!dx.contains { $0.isNaN }, "backward left input gradients unwritten", sourceLocation: sourceLocation)
        #expect(!dp.contains { $0.isNaN }, "backward left parameter gradients unwritten", sourceLocation: sourceLocation)
        for i in input.indices {
            var xp = input, xm = input
            xp[i] += epsilon
            xm[i] -= epsilon
            let numeric = (loss(xp, parameters) - loss(xm, parameters)) / Double(xp[i] - xm[i])
            #expect(close(numeric, Double(dx[i]), atol: 1e-3, rtol: 1e-2),
                    "dL/dx[\(i)]: numeric \(numeric), analytic \(dx[i])", sourceLocation: sourceLocation)
        }
        for i in parameters.indices {
            var pp = parameters, pm = parameters
            pp[i] += epsilon
            pm[i] -= epsilon
            let numeric = (loss(input, pp) - loss(input, pm)) / Double(pp[i] - pm[i])
            #expect(close(numeric, Double(dp[i]), atol: 1e-3, rtol: 1e-2),
                    "dL/dθ[\(i)]: numeric \(numeric), analytic \(dp[i])", sourceLocation: sourceLocation)
        }
    }
}
