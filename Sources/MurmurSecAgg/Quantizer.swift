import MurmurCore

/// Maps clipped float updates to Z_{2^b} with unbiased stochastic rounding, and sums back.
///
/// Each coordinate x is clipped to [−c, c] and mapped to (x + c)/(2c)·(2^q − 1) ∈ [0, 2^q − 1],
/// rounded up with probability equal to its fractional part (E[round(v)] = v). The ring has
/// b = q + ⌈log2 n⌉ bits, so a sum of n inputs is < n·2^q ≤ 2^b and cannot wrap
/// (Bonawitz et al. CCS 2017, §3: inputs in Z_R with R large enough for the sum).
public struct Quantizer: Sendable, Hashable {
    /// The clipping bound c (per coordinate).
    public let clip: Float
    /// Bits per quantized input, q.
    public let inputBits: Int
    /// Bits of the ring Z_{2^b}.
    public let ringBits: Int

    /// A quantizer for `clientCount` clients; throws if b = q + ⌈log2 n⌉ exceeds 32.
    public init(clip: Float, inputBits: Int, clientCount: Int) throws {
        guard clip > 0, clip.isFinite else { throw SecAggError.invalidParameters("clip must be positive, got \(clip)") }
        guard inputBits >= 1, clientCount >= 1 else {
            throw SecAggError.invalidParameters("input bits and client count must be positive")
        }
        let b = inputBits + Self.ceilLog2(clientCount)
        guard b <= 32 else {
            throw SecAggError.invalidParameters(
                "ring needs \(b) bits (q = \(inputBits) + ⌈log2 \(clientCount)⌉) but at most 32 are supported; lower inputBits")
        }
        self.clip = clip
        self.inputBits = inputBits
        self.ringBits = b
    }

    /// 2^b − 1, the mask that reduces a UInt32 into Z_{2^b}.
    public var ringMask: UInt32 { ringBits == 32 ? .max : (UInt32(1) << UInt32(ringBits)) - 1 }

    /// The number of quantization steps, 2^q − 1.
    public var levels: Double { Double((UInt64(1) << UInt64(inputBits)) - 1) }

    /// ⌈log2 n⌉.
    public static func ceilLog2(_ n: Int) -> Int { n <= 1 ? 0 : Int.bitWidth - (n - 1).leadingZeroBitCount }

    /// Quantizes one clipped update with stochastic rounding drawn from `rng`.
    public func quantize(_ x: [Float], rng: inout SeededRNG) -> [UInt32] {
        let scale = levels / (2 * Double(clip))
        let c = Double(clip)
        return x.map { value in
            let clipped = Swift.min(Swift.max(Double(value), -c), c)
            let v = (clipped + c) * scale
            let floor = v.rounded(.down)
            let up = rng.nextDouble() < v - floor ? 1.0 : 0.0
            return UInt32(Swift.min(floor + up, levels))
        }
    }

    /// The float sum Σ x_i of `count` clients' updates from their quantized sum in Z_{2^b}.
    public func dequantizeSum(_ sum: [UInt32], count: Int) -> [Float] {
        let step = 2 * Double(clip) / levels
        let offset = Double(count) * Double(clip)
        return sum.map { Float(Double($0) * step - offset) }
    }
}
