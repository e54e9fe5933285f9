import CMurmurKernels
import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurVerify

/// The batch proof kernel (`murmur_topk_proof_rows` behind `ActivationProof.commitRows`): every
/// row's bytes must be exactly what the one-input `commitBytes` gives, on both C paths, for
/// narrow (1 index byte) and wide (2 index bytes) layers, ties, zeros, NaN and any k.
@Suite(.ownThreads) struct ProofRowsTests {
    static func matrix(rows: Int, width: Int, shape: Int, rng: inout SeededRNG) -> [Float] {
        (0..<(rows * width)).map { _ in
            let g = Float(rng.nextGaussian())
            switch shape {
            case 0: return g  // signed, distinct
            case 1: return max(0, g)  // ReLU: half zeros
            case 2: return Float(rng.next() % 3)  // heavy ties
            case 3: return rng.next() % 40 == 0 ? .nan : g * 1e-3  // NaN and tiny values
            default: return rng.next() % 10 == 0 ? g : 0  // sparse ReLU: fewer than k non-zero
            }
        }
    }

    @Test(arguments: [0, 1, 2, 3, 4])
    func everyRowIsItsCommitBytes(shape: Int) {
        var rng = SeededRNG(seed: UInt64(70 + shape))
        for trial in 0..<60 {
            let width = [8, 16, 17, 64, 100, 128, 256, 257, 300, 1024][trial % 10]
            let k = 1 + Int(rng.next() % 20), rows = 1 + Int(rng.next() % 40)
            let m = Self.matrix(rows: rows, width: width, shape: shape, rng: &rng)
            let want = m.withUnsafeBufferPointer { p in
                (0..<rows).flatMap { ActivationProof.commitBytes(UnsafeBufferPointer(rebasing: p[($0 * width)..<(($0 + 1) * width)]), k: k) }
            }
            for kernel: CInt in [0, 1] {
                let got = m.withUnsafeBufferPointer { ActivationProof.commitRows($0, rows: rows, width: width, k: k, kernel: kernel) }
                #expect(got == want, "kernel \(kernel) width \(width) k \(k) rows \(rows)")
            }
            #expect(want.count == rows * ActivationProof.proofByteCount(width: width, k: k))
        }
    }

    @Test func neverWritesPastTheRows() {
        // The kernel stores whole 64-byte vectors inside the buffer; the bytes after the last
        // row must stay untouched for every k (small k: a row is shorter than one store).
        var rng = SeededRNG(seed: 11)
        for k in [1, 2, 3, 7, 15, 16] {
            for rows in [1, 2, 5, 17, 33] {
                let width = 128
                let m = Self.matrix(rows: rows, width: width, shape: 0, rng: &rng)
                let b = ActivationProof.proofByteCount(width: width, k: k)
                var out = [UInt8](repeating: 0xAB, count: rows * b + 128)
                for kernel: CInt in [0, 1] {
                    let r = m.withUnsafeBufferPointer { murmur_topk_proof_rows(kernel, $0.baseAddress!, CInt(rows), CInt(width), width, CInt(k), &out) }
                    #expect(Int(r) == b)
                    #expect(out[(rows * b)...].allSatisfy { $0 == 0xAB }, "kernel \(kernel) k \(k) rows \(rows)")
                }
            }
        }
    }

    @Test func wideRowsAndLargeKTakeTheOtherPaths() {
        // width > 1024 and k > 16 run the portable path; k ≥ width commits every unit.
        var rng = SeededRNG(seed: 9)
        for (width, k) in [(1500, 16), (128, 40), (10, 16), (5, 5)] {
            let m = Self.matrix(rows: 3, width: width, shape: 0, rng: &rng)
            let want = m.withUnsafeBufferPointer { p in
                (0..<3).flatMap { ActivationProof.commitBytes(UnsafeBufferPointer(rebasing: p[($0 * width)..<(($0 + 1) * width)]), k: k) }
            }
            #expect(m.withUnsafeBufferPointer { ActivationProof.commitRows($0, rows: 3, width: width, k: k) } == want, "width \(width) k \(k)")
        }
        #expect([Float]().withUnsafeBufferPointer { ActivationProof.commitRows($0, rows: 0, width: 128, k: 16) }.isEmpty)
    }
}
