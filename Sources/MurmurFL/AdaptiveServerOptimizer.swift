/// The shared state of the adaptive federated optimizers of Reddi et al. 2021 ("Adaptive
/// Federated Optimization", Alg. 2): a first moment m and a second moment v over the
/// pseudo-gradient Δ̄, and the step w ← w + η·m / (√v + τ). The three variants differ only in
/// how v is updated, which each strategy file states.
struct AdaptiveMoments: Sendable {
    var m: [Float]
    var v: [Float]
    let beta1: Float
    let tau: Float

    init(parameterCount: Int, beta1: Float, tau: Float) {
        m = [Float](repeating: 0, count: parameterCount)
        // v₋₁ = τ² as in the paper, so the first steps are not divided by ~0.
        v = [Float](repeating: tau * tau, count: parameterCount)
        self.beta1 = beta1
        self.tau = tau
    }

    /// m ← β₁·m + (1 − β₁)·Δ̄, then v ← update(v, Δ̄²), then w ← w + η·m/(√v + τ).
    mutating func step(_ delta: [Float], global: inout [Float], eta: Float, updateV: (Float, Float) -> Float) {
        precondition(delta.count == m.count && global.count == m.count, "adaptive step: size mismatch")  // programmer error
        let b1 = beta1, t = tau
        m.withUnsafeMutableBufferPointer { mp in
            v.withUnsafeMutableBufferPointer { vp in
                delta.withUnsafeBufferPointer { dp in
                    global.withUnsafeMutableBufferPointer { wp in
                        for i in 0..<dp.count {
                            let g = dp[i]
                            mp[i] = b1 * mp[i] + (1 - b1) * g
                            vp[i] = updateV(vp[i], g * g)
                            wp[i] += eta * mp[i] / (vp[i].squareRoot() + t)
                        }
                    }
                }
            }
        }
    }
}
