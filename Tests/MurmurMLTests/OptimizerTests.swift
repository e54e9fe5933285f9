import MurmurTestSupport
import Testing
@testable import MurmurML

/// Optimizer steps against values worked out by hand from the PyTorch update rules.
@Suite(.ownThreads) struct OptimizerTests {
    @Test func sgdWithoutMomentum() {
        var sgd = SGD(learningRate: 0.1)
        var w: [Float] = [1, -2]
        sgd.step(parameters: &w, gradients: [0.5, 0.25])
        // w − lr·g = (1 − 0.05, −2 − 0.025).
        #expect(w == [0.95, -2.025])
        #expect(sgd.velocity.isEmpty)
    }

    /// lr 0.1, μ 0.9, wd 0.01, w₀ = 1, g = 0.5 twice:
    /// step 1: g' = 0.5 + 0.01·1 = 0.51, v = 0.51, w = 1 − 0.051 = 0.949;
    /// step 2: g' = 0.5 + 0.01·0.949 = 0.50949, v = 0.9·0.51 + 0.50949 = 0.96849,
    ///         w = 0.949 − 0.096849 = 0.852151.
    /// 19 identical coordinates exercise the SIMD body and the scalar tail.
    @Test func sgdWithMomentumAndWeightDecay() {
        var sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        var w = [Float](repeating: 1, count: 19)
        let g = [Float](repeating: 0.5, count: 19)
        sgd.step(parameters: &w, gradients: g)
        for x in w { #expect(abs(x - 0.949) < 1e-6) }
        sgd.step(parameters: &w, gradients: g)
        for x in w { #expect(abs(x - 0.852151) < 1e-6) }
        for v in sgd.velocity { #expect(abs(v - 0.96849) < 1e-6) }
    }

    /// lr 0.1, default β, ε; w₀ = 1; g₁ = 0.5, g₂ = −0.25:
    /// step 1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25 → w = 1 − 0.1·0.5/(0.5 + 1e-8) ≈ 0.9;
    /// step 2: m = 0.045 − 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225,
    ///         m̂ = 0.02/0.19 = 0.1052632, √v̂ = √(0.00031225/0.001999) = 0.3952254,
    ///         w = 0.9 − 0.1·0.1052632/0.3952254 = 0.8733663.
    @Test func adamTwoSteps() {
        var adam = Adam(learningRate: 0.1)
        var w: [Float] = [1]
        adam.step(parameters: &w, gradients: [0.5])
        #expect(abs(w[0] - 0.9) < 1e-6)
        adam.step(parameters: &w, gradients: [-0.25])
        #expect(abs(w[0] - 0.8733663) < 1e-6)
        #expect(adam.stepCount == 2)
        #expect(abs(adam.firstMoment[0] - 0.02) < 1e-7)
        // β₂ is the Float32 nearest 0.999 (0.99900001…), so v differs from the decimal value in
        // the fifth significant digit; the bias correction divides that difference out of w.
        #expect(abs(adam.secondMoment[0] - 0.00031225) < 1e-8)
    }

    /// With weight decay 0.1 (added to g as 0.1·w) over three steps, for two coordinates;
    /// expected values from the same formulas evaluated in float64.
    @Test func adamThreeStepsWithWeightDecay() {
        var adam = Adam(learningRate: 0.1, weightDecay: 0.1)
        var w: [Float] = [1, -2]
        let expected: [[Double]] = [
            [0.9000000016666666, -2.099999996666667],
            [0.8544413674617625, -2.0742512837589757],
            [0.7815043998631658, -2.1154392297802467],
        ]
        for (g, e) in zip([Float(0.5), -0.25, 1.0], expected) {
            adam.step(parameters: &w, gradients: [g, g])
            #expect(abs(Double(w[0]) - e[0]) < 2e-6)
            #expect(abs(Double(w[1]) - e[1]) < 2e-6)
        }
    }

    @Test func emptyParameterVectorIsANoOp() {
        var sgd = SGD(learningRate: 1, momentum: 0.9)
        var w: [Float] = []
        sgd.step(parameters: &w, gradients: [])
        var adam = Adam(learningRate: 1)
        adam.step(parameters: &w, gradients: [])
        #expect(w.isEmpty)
    }
}
