import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurVerify

@Suite(.ownThreads) struct ActivationProofTests {
    @Test func topKPicksLargestMagnitudes() {
        let v: [Float] = [0.1, -5, 3, 0, 2, -2.5]
        v.withUnsafeBufferPointer { #expect(ActivationProof.topK($0, k: 3) == [1, 2, 5]) }
        var rng = SeededRNG(seed: 2)
        for _ in 0..<50 {
            let w = (0..<200).map { _ in Float(rng.nextGaussian()) }
            let want = Array(w.indices.sorted { abs(w[$0]) > abs(w[$1]) || (abs(w[$0]) == abs(w[$1]) && $0 < $1) }.prefix(16)).sorted()
            w.withUnsafeBufferPointer { #expect(ActivationProof.topK($0, k: 16) == want) }
        }
    }

    @Test func commitAndCompare() {
        var rng = SeededRNG(seed: 9)
        let v = (0..<128).map { _ in Float(rng.nextGaussian()) }
        let proof = v.withUnsafeBufferPointer { ActivationProof.commit($0, k: 16) }
        #expect(proof.bytes(width: 128).count == 64)
        let same = v.withUnsafeBufferPointer { proof.compare(with: $0) }
        #expect(same.checked == 16 && same.outliers(tolerance: 0) == 0)
        // A one-ulp change passes; a 1 % change does not.
        let nudged = v.map { $0.nextUp }
        #expect(nudged.withUnsafeBufferPointer { proof.compare(with: $0) }.outliers(tolerance: 1e-6) == 0)
        let scaled = v.map { $0 * 1.01 }
        #expect(scaled.withUnsafeBufferPointer { proof.compare(with: $0) }.outliers(tolerance: 1e-4) == 16)
        // Another vector altogether.
        let other = (0..<128).map { _ in Float(rng.nextGaussian()) }
        #expect(other.withUnsafeBufferPointer { proof.compare(with: $0) }.outliers(tolerance: 1e-4) >= 15)
    }

    @Test func bytesRoundTripForNarrowAndWideLayers() throws {
        var rng = SeededRNG(seed: 4)
        for width in [64, 256, 300, 4000] {
            let v = (0..<width).map { _ in Float(rng.nextGaussian()) }
            let p = v.withUnsafeBufferPointer { ActivationProof.commit($0, k: 16) }
            #expect(try ActivationProof(bytes: p.bytes(width: width), width: width) == p)
            #expect(v.withUnsafeBufferPointer { p.compare(with: $0) }.outliers(tolerance: 0) == 0)
        }
        #expect(throws: RejectionReason.self) { try ActivationProof(bytes: [200, 0, 0, 0], width: 100) }  // index ≥ width
        #expect(throws: RejectionReason.self) { try ActivationProof(bytes: [1, 2, 3], width: 100) }
    }
}
