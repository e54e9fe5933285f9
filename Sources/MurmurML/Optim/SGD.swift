/// Stochastic gradient descent with optional momentum and L2 weight decay, with PyTorch's
/// `torch.optim.SGD` semantics (dampening 0, no Nesterov):
///
///     g ← g + wd·w;   v ← μ·v + g  (v starts at 0, so the first v is g);   w ← w − lr·v
///
/// Without momentum the step is w ← w − lr·g. Momentum follows Sutskever et al. 2013 in the
/// form PyTorch documents; this is the client optimizer of FedAvg/FedProx.
public struct SGD: Optimizer, Sendable {
    /// Step size lr.
    public var learningRate: Float
    /// Momentum μ (0 disables the velocity buffer).
    public var momentum: Float
    /// L2 penalty coefficient wd, added to the gradient as wd·w.
    public var weightDecay: Float
    /// The velocity v (empty until the first step with momentum).
    public private(set) var velocity: [Float] = []

    /// An SGD optimizer; see the type's documentation for the exact update.
    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// One SGD step (see the type's documentation); sizes the velocity on the first call.
    public mutating func step(parameters w: UnsafeMutableBufferPointer<Float>, gradients g: UnsafeBufferPointer<Float>) {
        precondition(w.count == g.count, "SGD: \(w.count) parameters but \(g.count) gradients")
        let n = w.count
        guard n > 0, let wp = w.baseAddress, let gp = g.baseAddress else { return }
        let lr = learningRate, mu = momentum, wd = weightDecay
        if mu == 0 {
            let lrv = SIMD8(repeating: lr), wdv = SIMD8(repeating: wd)
            var i = 0
            while i + 8 <= n {
                let wv = Kernels.load(wp + i)
                Kernels.store(wv - lrv * (Kernels.load(gp + i) + wdv * wv), wp + i)
                i += 8
            }
            while i < n { wp[i] -= lr * (gp[i] + wd * wp[i]); i += 1 }
            return
        }
        if velocity.count != n {
            precondition(velocity.isEmpty, "SGD: one optimizer per parameter vector (had \(velocity.count), now \(n))")
            velocity = [Float](repeating: 0, count: n)
        }
        velocity.withUnsafeMutableBufferPointer { v in
            let vp = v.baseAddress!  // n > 0
            let lrv = SIMD8(repeating: lr), wdv = SIMD8(repeating: wd), muv = SIMD8(repeating: mu)
            var i = 0
            while i + 8 <= n {
                let wv = Kernels.load(wp + i)
                let vv = muv * Kernels.load(vp + i) + (Kernels.load(gp + i) + wdv * wv)
                Kernels.store(vv, vp + i)
                Kernels.store(wv - lrv * vv, wp + i)
                i += 8
            }
            while i < n {
                vp[i] = mu * vp[i] + (gp[i] + wd * wp[i])
                wp[i] -= lr * vp[i]
                i += 1
            }
        }
    }
}
