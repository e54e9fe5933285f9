import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurML

/// FedProx Synthetic(α, β) (Li et al., MLSys 2020, §5.1 and the authors' generate_synthetic.py).
@Suite(.ownThreads) struct DataSyntheticTests {
    @Test func shapesAndRanges() {
        let d = Synthetic.generate(alpha: 1, beta: 1, devices: 30, seed: 1)
        #expect(d.name == "synthetic(1,1)")
        #expect(d.sampleShape == [60] && d.featureCount == 60)
        #expect(d.classCount == 10)
        #expect(d.labels.allSatisfy { (0..<10).contains($0) })
        let groups = d.groups ?? []
        #expect(groups.count == d.count)
        #expect(Set(groups) == Set(0..<30))
        let sizes = Dictionary(grouping: groups, by: { $0 }).mapValues(\.count)
        #expect(sizes.values.allSatisfy { (50...5_000).contains($0) })
        #expect(Synthetic.generate(alpha: 0.5, beta: 0.5, devices: 1, seed: 1).name == "synthetic(0.5,0.5)")
    }

    @Test func deterministicAndPrefixStable() {
        let a = Synthetic.generate(alpha: 0.5, beta: 0.5, devices: 8, seed: 3)
        #expect(a == Synthetic.generate(alpha: 0.5, beta: 0.5, devices: 8, seed: 3))
        #expect(a != Synthetic.generate(alpha: 0.5, beta: 0.5, devices: 8, seed: 4))
        // Device k uses its own sub-stream: the first 5 of 8 devices are the 5-device data set.
        let five = Synthetic.generate(alpha: 0.5, beta: 0.5, devices: 5, seed: 3)
        #expect(Array(a.labels.prefix(five.count)) == five.labels)
        #expect(Array(a.features.prefix(five.features.count)) == five.features)
    }

    /// Σ = diag(j^-1.2): within one device, x_1 has variance 1 and x_60 has 60^-1.2 ≈ 0.0074.
    @Test func inputCovarianceFollowsThePaper() {
        let d = Synthetic.generate(alpha: 0, beta: 0, devices: 40, seed: 2)
        let groups = d.groups ?? []
        let big = Dictionary(grouping: groups.indices, by: { groups[$0] }).values.max { $0.count < $1.count } ?? []
        #expect(big.count >= 300)
        func variance(_ j: Int) -> Double {
            let v = big.map { Double(d.features[$0 * 60 + j]) }
            let m = v.reduce(0, +) / Double(v.count)
            return v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)
        }
        #expect(abs(variance(0) - 1) < 0.2)
        #expect(abs(variance(59) / pow(60, -1.2) - 1) < 0.2)
    }

    /// Mean over devices of the total-variation distance between the device's label
    /// distribution and the pooled one: 0 when every device looks alike.
    func labelHeterogeneity(_ d: Dataset) -> Double {
        let groups = d.groups ?? []
        let pooled = d.classHistogram.map { Double($0) / Double(d.count) }
        let byDevice = Dictionary(grouping: groups.indices, by: { groups[$0] })
        var total = 0.0
        for members in byDevice.values {
            var h = [Double](repeating: 0, count: d.classCount)
            for i in members { h[Int(d.labels[i])] += 1 / Double(members.count) }
            total += zip(h, pooled).map { abs($0 - $1) }.reduce(0, +) / 2
        }
        return total / Double(byDevice.count)
    }

    /// β moves each device's inputs (v_k ~ N(B_k, 1), B_k ~ N(0, β)); a larger β pushes W_k x
    /// towards one dominant class per device, so devices' label distributions differ more.
    /// (Averaged over three seeds; devices are already far from IID at β = 0 because each has its
    /// own W_k and v_k, so the effect is a few hundredths of TV distance per step.)
    @Test func largerBetaMakesDevicesDifferMore() async throws {
        try await onOwnThreads {
            let h = [0.0, 1, 10].map { beta in
                (1...3).map { labelHeterogeneity(Synthetic.generate(alpha: 0, beta: beta, devices: 30, seed: $0)) }
                    .reduce(0, +) / 3
            }
            #expect(h[0] < h[1] && h[1] < h[2])
            #expect(h[2] - h[0] > 0.03)
        }
    }

    /// α shifts all ten logits of a device by the same u_k · (Σx + 1), which argmax ignores: with
    /// the same seed, labels do not depend on α (up to float rounding at near-ties).
    @Test func alphaDoesNotChangeLabels() {
        let a = Synthetic.generate(alpha: 0, beta: 1, devices: 20, seed: 5)
        let b = Synthetic.generate(alpha: 1, beta: 1, devices: 20, seed: 5)
        #expect(a.features == b.features)
        let same = zip(a.labels, b.labels).filter { $0 == $1 }.count
        #expect(Double(same) / Double(a.count) > 0.99)
    }
}
