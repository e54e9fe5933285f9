import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurSecAgg

@Suite(.ownThreads) struct ShamirTests {
    @Test func fieldArithmeticIdentities() {
        let p = FieldElement.modulus
        #expect((FieldElement(p - 1) * FieldElement(p - 1)).value == 1)  // (−1)² = 1
        #expect(FieldElement(p).value == 0)
        #expect((FieldElement(3) - FieldElement(5)).value == p - 2)
        var rng = SeededRNG(seed: 1)
        for _ in 0..<200 {
            let a = FieldElement.random(using: &rng), b = FieldElement.random(using: &rng)
            if a.value != 0 { #expect((a * a.inverse).value == 1) }
            #expect((a + b) - b == a)
            // Distributivity checks the 122-bit reduction against the add path.
            let c = FieldElement.random(using: &rng)
            #expect(a * (b + c) == a * b + a * c)
        }
    }

    @Test func anyThresholdSubsetReconstructs() throws {
        var rng = SeededRNG(seed: 2)
        for trial in 0..<30 {
            let k = 3 + trial % 10
            let t = 1 + Int(rng.next() % UInt64(k))
            let secret = (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let points = (0..<k).map { UInt64($0 * 7 + 1) }
            let shares = try Shamir.split(secret, threshold: t, at: points, using: &rng)
            for _ in 0..<5 {
                let subset = Array(shares.shuffled(using: &rng).prefix(t + Int(rng.next() % UInt64(k - t + 1))))
                #expect(try Shamir.reconstruct(subset, threshold: t, byteCount: 32) == secret)
            }
            #expect(throws: SecAggError.self) { try Shamir.reconstruct(Array(shares.prefix(t - 1)), threshold: t, byteCount: 32) }
        }
    }

    /// t − 1 shares are consistent with every secret: for any candidate s′ there is a t-th point
    /// that, with the real t − 1 shares, reconstructs s′ (so t − 1 shares carry no information).
    @Test func fewerThanThresholdSharesFitEverySecret() throws {
        var rng = SeededRNG(seed: 3)
        let t = 4
        let secret = Array(0..<32).map(UInt8.init)
        let shares = try Shamir.split(secret, threshold: t, at: [1, 2, 3, 4, 5, 6], using: &rng)
        let known = Array(shares.prefix(t - 1))
        for candidate in [[UInt8](repeating: 0, count: 32), [UInt8](repeating: 0xFF, count: 32), secret.reversed()] {
            let chunks = Shamir.chunkElements(candidate)
            // Interpolate through (0, s′_c) and the known shares, evaluate at x = 9.
            let xs = [FieldElement(0)] + known.map { FieldElement($0.x) }
            let fake = ShamirShare(x: 9, y: chunks.indices.map { c in
                let ys = [chunks[c]] + known.map { FieldElement($0.y[c]) }
                return lagrange(xs: xs, ys: ys, at: FieldElement(9)).value
            })
            #expect(try Shamir.reconstruct(known + [fake], threshold: t, byteCount: 32) == candidate)
        }
    }

    @Test func rejectsBadParameters() {
        var rng = SeededRNG(seed: 4)
        #expect(throws: SecAggError.self) { try Shamir.split([1, 2], threshold: 3, at: [1, 2], using: &rng) }
        #expect(throws: SecAggError.self) { try Shamir.split([1, 2], threshold: 1, at: [0, 2], using: &rng) }
        #expect(throws: SecAggError.self) { try Shamir.split([1, 2], threshold: 1, at: [2, 2], using: &rng) }
    }

    private func lagrange(xs: [FieldElement], ys: [FieldElement], at x: FieldElement) -> FieldElement {
        var acc = FieldElement(0)
        for i in xs.indices {
            var term = ys[i]
            for j in xs.indices where j != i { term = term * (x - xs[j]) * (xs[i] - xs[j]).inverse }
            acc = acc + term
        }
        return acc
    }
}
