import CMurmurKernels
import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurVerify

/// Receipt version 2's proof (`GroupMaxProof`, `murmur_groupmax_proof_rows`): both C paths give
/// the bytes a direct Swift reading of the definition gives; decoding checks classes; the
/// comparison excuses near ties within a class and flags a wrong unit or value.
@Suite(.ownThreads) struct GroupMaxProofTests {
    /// The definition, written out: per class g (index mod G), the unit of largest key (|x| bits
    /// with the low 8 cleared, NaN above every number), ties to the lower index.
    static func reference(_ v: ArraySlice<Float>, groups: Int) -> [UInt8] {
        let width = v.count, g = min(groups, width), wide = width > 256
        let base = v.startIndex
        func key(_ x: Float) -> Int64 { Int64(x.bitPattern & 0x7FFF_FF00) }
        var out = [UInt8]()
        for c in 0..<g {
            var best = c
            for i in stride(from: c, to: width, by: g) where key(v[base + i]) > key(v[base + best]) { best = i }
            let b = v[base + best].bitPattern
            out += wide ? [UInt8(best >> 8), UInt8(best & 0xFF), UInt8(b >> 24), UInt8((b >> 16) & 0xFF)]
                : [UInt8(best), UInt8(b >> 24), UInt8((b >> 16) & 0xFF), UInt8((b >> 8) & 0xFF)]
        }
        return out
    }

    @Test(arguments: [0, 1, 2, 3, 4])
    func bothKernelsGiveTheDefinition(shape: Int) {
        var rng = SeededRNG(seed: UInt64(90 + shape))
        for trial in 0..<40 {
            let width = [16, 17, 31, 64, 100, 128, 256, 257, 512, 1500][trial % 10]
            let groups = trial % 3 == 0 ? 1 + Int(rng.next() % 20) : 16
            let rows = 1 + Int(rng.next() % 20)
            let m = ProofRowsTests.matrix(rows: rows, width: width, shape: shape, rng: &rng)
            let want = (0..<rows).flatMap { Self.reference(m[($0 * width)..<(($0 + 1) * width)], groups: groups) }
            for kernel: CInt in [0, 1] {
                let got = m.withUnsafeBufferPointer { GroupMaxProof.commitRows($0, rows: rows, width: width, groups: groups, kernel: kernel) }
                #expect(got == want, "kernel \(kernel) width \(width) groups \(groups) rows \(rows) shape \(shape)")
            }
            #expect(want.count == rows * GroupMaxProof.proofByteCount(width: width, groups: groups))
        }
    }

    @Test func callerBufferGetsTheSameBytes() {
        var rng = SeededRNG(seed: 3)
        let v = (0..<128).map { _ in max(0, Float(rng.nextGaussian())) }
        var buffer = [UInt8](repeating: 0xAA, count: 80)
        let n = v.withUnsafeBufferPointer { h in buffer.withUnsafeMutableBufferPointer { GroupMaxProof.commitRows(h, rows: 1, width: 128, into: $0) } }
        #expect(n == 64)
        #expect(Array(buffer[0..<64]) == v.withUnsafeBufferPointer { GroupMaxProof.commitRows($0, rows: 1, width: 128) })
        #expect(buffer[64...].allSatisfy { $0 == 0xAA })
    }

    @Test func decodingChecksClasses() throws {
        var rng = SeededRNG(seed: 4)
        let v = (0..<128).map { _ in Float(rng.nextGaussian()) }
        let bytes = v.withUnsafeBufferPointer { GroupMaxProof.commitRows($0, rows: 1, width: 128) }
        let proof = try GroupMaxProof(bytes: bytes, width: 128)
        for (g, e) in proof.entries.enumerated() { #expect(e.index % 16 == g) }
        var bad = bytes
        bad[4] = bytes[0]  // entry 1 names a unit of class 0
        #expect { _ = try GroupMaxProof(bytes: bad, width: 128) } throws: { ($0 as? RejectionReason)?.code == "malformed_proof" }
        #expect { _ = try GroupMaxProof(bytes: bytes, width: 8) } throws: { ($0 as? RejectionReason)?.code == "malformed_proof" }
    }

    @Test func comparisonExcusesNearTiesOnly() throws {
        // Class 0 holds units 0, 16, 32, …: make units 0 and 16 nearly equal, commit unit 0,
        // then recompute with unit 16 a hair larger (a flip honest rounding can cause).
        var v = [Float](repeating: 0.5, count: 128)
        v[0] = 3.0; v[16] = 2.99999; v[5] = 4.0
        let bytes = v.withUnsafeBufferPointer { GroupMaxProof.commitRows($0, rows: 1, width: 128) }
        let proof = try GroupMaxProof(bytes: bytes, width: 128)
        #expect(proof.entries[0].index == 0)
        var flipped = v
        flipped[16] = 3.00001
        let near = flipped.withUnsafeBufferPointer { proof.compare(with: $0, tieTolerance: 2e-5) }
        #expect(near.outliers(tolerance: 1e-5) == 0)
        var far = v
        far[16] = 3.1  // a real change: unit 0 is no longer near its class's largest
        #expect(far.withUnsafeBufferPointer { proof.compare(with: $0, tieTolerance: 2e-5) }.notInTopK == 1)
        var scaled = v
        scaled[5] *= 1.01  // the committed value of class 5 moves by 1 %
        #expect(scaled.withUnsafeBufferPointer { proof.compare(with: $0, tieTolerance: 2e-5) }.outliers(tolerance: 1e-5) == 1)
        #expect(v.withUnsafeBufferPointer { proof.compare(with: $0, tieTolerance: 0) }.outliers(tolerance: 0) == 0)
    }
}
