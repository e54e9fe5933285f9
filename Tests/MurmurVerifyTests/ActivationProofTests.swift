import MurmurCore
import Testing
@testable import MurmurVerify

@Suite struct ActivationProofTests {
    /// The interpolated polynomial reproduces every committed value at its index.
    @Test func interpolationRoundTrips() {
        var rng = SeededRNG(seed: 3)
        for _ in 0..<20 {
            let n = 1 + Int(rng.next() % 40)
            var xs = Set<UInt64>()
            while xs.count < n { xs.insert(1 + rng.next() % 1000) }
            let xl = Array(xs)
            let ys = xl.map { _ in rng.next() % ActivationProof.prime }
            let p = ActivationProof(coefficients: ActivationProof.interpolate(xs: xl, ys: ys).map { UInt32($0) })
            for (x, y) in zip(xl, ys) { #expect(p.evaluate(at: x) == y) }
        }
    }

    @Test func topKPicksLargestMagnitudes() {
        let v: [Float] = [0.1, -5, 3, 0, 2, -2.5]
        v.withUnsafeBufferPointer { #expect(ActivationProof.topK($0, k: 3) == [1, 2, 5]) }
    }

    @Test func commitAndCompare() {
        var rng = SeededRNG(seed: 9)
        let v = (0..<128).map { _ in Float(rng.nextGaussian()) }
        let proof = v.withUnsafeBufferPointer { ActivationProof.commit($0, k: 16) }
        #expect(proof.bytes.count == 64)
        let same = v.withUnsafeBufferPointer { proof.compare(with: $0) }
        #expect(same.checked == 16 && same.outliers(tolerance: 0) == 0)
        // A one-ulp change passes a small tolerance; a 1 % change does not.
        let nudged = v.map { $0.nextUp }
        #expect(nudged.withUnsafeBufferPointer { proof.compare(with: $0) }.outliers(tolerance: 1e-6) == 0)
        let scaled = v.map { $0 * 1.01 }
        #expect(scaled.withUnsafeBufferPointer { proof.compare(with: $0) }.outliers(tolerance: 1e-4) == 16)
        // Another vector altogether: indices move, P returns unrelated values.
        let other = (0..<128).map { _ in Float(rng.nextGaussian()) }
        #expect(other.withUnsafeBufferPointer { proof.compare(with: $0) }.outliers(tolerance: 1e-4) >= 15)
    }

    @Test func bytesRoundTrip() throws {
        let p = ActivationProof(coefficients: [1, 2, 4_294_967_290])
        #expect(try ActivationProof(bytes: p.bytes) == p)
        #expect(throws: RejectionReason.self) { try ActivationProof(bytes: [0xFF, 0xFF, 0xFF, 0xFF]) }  // ≥ p
    }
}
