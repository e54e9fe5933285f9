#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Adam (Kingma & Ba 2015, Algorithm 1) with PyTorch's `torch.optim.Adam` semantics
/// (L2 weight decay added to the gradient, not decoupled; no AMSGrad). At step t = 1, 2, …:
///
///     g ← g + wd·w
///     m ← m + (1 − β₁)·(g − m)          (PyTorch's lerp form of β₁·m + (1 − β₁)·g)
///     v ← β₂·v + (1 − β₂)·g²
///     w ← w − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// m and v start at zero; the bias corrections are computed in Double, as PyTorch does.
public struct Adam: Optimizer, Sendable {
    /// Step size lr.
    public var learningRate: Float
    /// Decay of the first-moment estimate β₁.
    public var beta1: Float
    /// Decay of the second-moment estimate β₂.
    public var beta2: Float
    /// ε added to the denominator.
    public var epsilon: Float
    /// L2 penalty coefficient wd, added to the gradient as wd·w.
    public var weightDecay: Float
    /// Steps taken so far (t).
    public private(set) var stepCount = 0
    /// First-moment estimate m (empty until the first step).
    public private(set) var firstMoment: [Float] = []
    /// Second-moment estimate v (empty until the first step).
    public private(set) var secondMoment: [Float] = []

    /// An Adam optimizer; see the type's documentation for the exact update.
    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One Adam step (see the type's documentation); sizes m and v on the first call.
    public mutating func step(parameters w: UnsafeMutableBufferPointer<Float>, gradients g: UnsafeBufferPointer<Float>) {
        precondition(w.count == g.count, "Adam: \(w.count) parameters but \(g.count) gradients")
        let n = w.count
        guard n > 0, let wp = w.baseAddress, let gp = g.baseAddress else { return }
        if firstMoment.count != n {
            precondition(firstMoment.isEmpty, "Adam: one optimizer per parameter vector (had \(firstMoment.count), now \(n))")
            firstMoment = [Float](repeating: 0, count: n)
            secondMoment = [Float](repeating: 0, count: n)
        }
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let correction2 = Float((1 - pow(Double(beta2), t)).squareRoot())
        let wd = weightDecay, b2 = beta2, eps = epsilon
        let a1 = Float(1 - Double(beta1)), a2 = Float(1 - Double(beta2))
        firstMoment.withUnsafeMutableBufferPointer { m in
            secondMoment.withUnsafeMutableBufferPointer { v in
                let mp = m.baseAddress!, vp = v.baseAddress!  // n > 0
                for i in 0..<n {
                    let gi = gp[i] + wd * wp[i]
                    // torch.lerp's two-sided formula, exact at both ends.
                    mp[i] = a1 < 0.5 ? mp[i] + a1 * (gi - mp[i]) : gi - (gi - mp[i]) * (1 - a1)
                    vp[i] = vp[i] * b2 + a2 * (gi * gi)
                    wp[i] += -stepSize * (mp[i] / (vp[i].squareRoot() / correction2 + eps))
                }
            }
        }
    }
}
