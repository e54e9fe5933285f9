import CMurmurKernels
import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurVerify

/// The C top-k kernel behind activation proofs: both paths (portable and AVX-512, when this CPU
/// has it) against a plain sort, on data with ties, zeros, negative values and NaN.
@Suite(.ownThreads) struct TopKKernelTests {
    /// The definition: the k largest |x| (NaN as 0), ties to the lower index, ascending indices.
    static func reference(_ v: [Float], k: Int) -> [Int] {
        func mag(_ x: Float) -> Float { x.isNaN ? 0 : abs(x) }
        return Array(v.indices.sorted { mag(v[$0]) > mag(v[$1]) || (mag(v[$0]) == mag(v[$1]) && $0 < $1) }.prefix(k)).sorted()
    }

    static func kernel(_ path: CInt, _ v: [Float], k: Int) -> [Int] {
        var out = [CInt](repeating: -1, count: max(1, k))
        let w = v.withUnsafeBufferPointer { murmur_topk_abs_kernel(path, $0.baseAddress!, CInt(v.count), CInt(k), &out) }
        return out.prefix(Int(w)).map { Int($0) }
    }

    @Test(arguments: [0, 1, 2, 3])
    func bothPathsMatchTheDefinition(shape: Int) {
        var rng = SeededRNG(seed: UInt64(40 + shape))
        for _ in 0..<400 {
            let n = 1 + Int(rng.next() % 300), k = 1 + Int(rng.next() % 40)
            let v: [Float] = (0..<n).map { _ in
                let g = Float(rng.nextGaussian())
                switch shape {
                case 0: return g  // signed, distinct
                case 1: return max(0, g)  // ReLU: half zeros, many ties at 0
                case 2: return Float(rng.next() % 3)  // heavy ties
                default: return rng.next() % 40 == 0 ? .nan : g * 1e-3  // NaN and tiny values
                }
            }
            let want = Self.reference(v, k: min(k, n))
            #expect(Self.kernel(0, v, k: k) == want, "portable n=\(n) k=\(k)")
            #expect(Self.kernel(1, v, k: k) == want, "dispatched n=\(n) k=\(k)")
        }
    }

    @Test func commitBytesIsTheWireFormOfCommit() {
        var rng = SeededRNG(seed: 5)
        for width in [10, 128, 256, 300, 1000] {
            let v = (0..<width).map { _ in Float(rng.nextGaussian()) }
            v.withUnsafeBufferPointer { p in
                #expect(ActivationProof.commitBytes(p, k: 16) == ActivationProof.commit(p, k: 16).bytes(width: width))
            }
        }
        #expect([Float]().withUnsafeBufferPointer { ActivationProof.commitBytes($0, k: 16) }.isEmpty)
    }
}
