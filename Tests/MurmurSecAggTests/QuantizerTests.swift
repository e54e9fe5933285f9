import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurSecAgg

@Suite(.ownThreads) struct QuantizerTests {
    @Test func ringIsWideEnoughForTheSum() throws {
        for (q, n) in [(16, 100), (8, 1000), (20, 1 << 12), (31, 2)] {
            let quantizer = try Quantizer(clip: 1, inputBits: q, clientCount: n)
            #expect(quantizer.ringBits == q + Quantizer.ceilLog2(n))
            // n · (2^q − 1) < 2^b: the sum of n maximal inputs does not wrap.
            #expect(UInt64(n) * ((1 << UInt64(q)) - 1) <= UInt64(quantizer.ringMask))
        }
        #expect(throws: SecAggError.self) { try Quantizer(clip: 1, inputBits: 30, clientCount: 100) }
    }

    @Test func stochasticRoundingIsUnbiased() throws {
        let quantizer = try Quantizer(clip: 1, inputBits: 4, clientCount: 1)  // 15 levels: step 2/15
        var rng = SeededRNG(seed: 7)
        let x: Float = 0.05  // between grid points
        let trials = 20_000
        let q = quantizer.quantize([Float](repeating: x, count: trials), rng: &rng)
        let sum = q.reduce(UInt32(0), &+)
        let mean = quantizer.dequantizeSum([sum], count: trials)[0] / Float(trials)
        // Std of one rounding ≤ step/2 = 0.067; of the mean ≤ 0.0005: 10 σ margin.
        #expect(abs(mean - x) < 0.005)
    }

    @Test func dequantizedSumIsCloseAndClips() throws {
        let n = 10
        let quantizer = try Quantizer(clip: 0.5, inputBits: 16, clientCount: n)
        var rng = SeededRNG(seed: 8)
        var total = [UInt32](repeating: 0, count: 3), plain = [Float](repeating: 0, count: 3)
        for _ in 0..<n {
            let x: [Float] = [rng.nextFloat() - 0.5, 2, -3]
            for (i, v) in quantizer.quantize(x, rng: &rng).enumerated() { total[i] &+= v }
            for i in 0..<3 { plain[i] += min(max(x[i], -0.5), 0.5) }
        }
        let back = quantizer.dequantizeSum(total, count: n)
        let step = 1.0 / Float(quantizer.levels)
        for i in 0..<3 { #expect(abs(back[i] - plain[i]) <= Float(n) * step + 1e-4) }
    }
}
