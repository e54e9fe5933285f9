import MurmurML

/// The bit-exact inference path: plain scalar loops with one fixed reduction order and no fused
/// multiply-add, so every conforming machine computes the same bits. Verification of an `exact`
/// receipt is equality, not tolerance. Slower than the GEMM path (docs/verification.md).
public enum ExactInference {
    /// Logits and penultimate activations for one sample, computed in a fixed order.
    public static func run(_ network: Network, input: UnsafeBufferPointer<Float>) throws(RejectionReason) -> (logits: [Float], penultimate: [Float]) {
        let slots = Dictionary(uniqueKeysWithValues: network.parameterLayout.map { ($0.name, $0) })
        let p = network.parameters
        func tensor(_ name: String) throws(RejectionReason) -> (ArraySlice<Float>, [Int]) {
            guard let s = slots[name] else { throw .malformed("model has no tensor \(name)") }
            return (p[s.offset..<(s.offset + s.count)], s.shape)
        }
        var x = Array(input)
        var shape = network.config.inputShape
        var penultimate = x
        if case .cnn(let channels, _) = network.config.architecture {
            for i in channels.indices {
                let (w, ws) = try tensor("conv\(i).weight")
                let (b, _) = try tensor("conv\(i).bias")
                x = conv3x3(x, shape: shape, weight: w, outChannels: ws[0], bias: b)
                shape = [ws[0], shape[1], shape[2]]
                (x, shape) = maxPool2(x, shape: shape)
                for j in x.indices where !(x[j] > 0) { x[j] = 0 }
            }
        }
        var d = 0
        while slots["dense\(d).weight"] != nil { d += 1 }
        for i in 0..<d {
            let (w, ws) = try tensor("dense\(i).weight")
            let (b, _) = try tensor("dense\(i).bias")
            guard ws[1] == x.count else { throw .malformed("dense\(i) expects \(ws[1]) inputs, got \(x.count)") }
            if i == d - 1 { penultimate = x }
            x = dense(x, weight: w, out: ws[0], bias: b, relu: i < d - 1)
        }
        return (x, penultimate)
    }

    /// y[o] = b[o] + Σᵢ W[o, i]·x[i], summed left to right.
    static func dense(_ x: [Float], weight: ArraySlice<Float>, out: Int, bias: ArraySlice<Float>, relu: Bool) -> [Float] {
        let n = x.count
        let w0 = weight.startIndex, b0 = bias.startIndex
        var y = [Float](repeating: 0, count: out)
        for o in 0..<out {
            var s: Float = 0
            for i in 0..<n {
                let prod = weight[w0 + o * n + i] * x[i]
                s = s + prod
            }
            s = s + bias[b0 + o]
            y[o] = relu && !(s > 0) ? 0 : s
        }
        return y
    }

    /// 3×3 convolution, stride 1, zero padding 1, summed over (input channel, ky, kx) in order.
    static func conv3x3(_ x: [Float], shape: [Int], weight: ArraySlice<Float>, outChannels: Int, bias: ArraySlice<Float>) -> [Float] {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        let w0 = weight.startIndex, b0 = bias.startIndex
        var y = [Float](repeating: 0, count: outChannels * h * w)
        for oc in 0..<outChannels {
            for oy in 0..<h {
                for ox in 0..<w {
                    var s: Float = 0
                    for ic in 0..<c {
                        for ky in 0..<3 {
                            let iy = oy + ky - 1
                            guard iy >= 0, iy < h else { continue }
                            for kx in 0..<3 {
                                let ix = ox + kx - 1
                                guard ix >= 0, ix < w else { continue }
                                let prod = weight[w0 + ((oc * c + ic) * 3 + ky) * 3 + kx] * x[(ic * h + iy) * w + ix]
                                s = s + prod
                            }
                        }
                    }
                    y[(oc * h + oy) * w + ox] = s + bias[b0 + oc]
                }
            }
        }
        return y
    }

    /// 2×2 max pooling, stride 2 (odd trailing rows/columns dropped).
    static func maxPool2(_ x: [Float], shape: [Int]) -> ([Float], [Int]) {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        let (oh, ow) = (h / 2, w / 2)
        var y = [Float](repeating: 0, count: c * oh * ow)
        for ch in 0..<c {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let base = (ch * h + 2 * oy) * w + 2 * ox
                    y[(ch * oh + oy) * ow + ox] = max(max(x[base], x[base + 1]), max(x[base + w], x[base + w + 1]))
                }
            }
        }
        return (y, [c, oh, ow])
    }
}
