import Foundation
import MurmurCore
import MurmurML

/// The device side: runs a model and issues one signed receipt per input.
public struct InferenceProver {
    /// One input's result.
    public struct Result {
        public var logits: [Float]
        public var label: Int
        public var receipt: Receipt
    }

    public let network: Network
    /// The model's identity (the manifest CID).
    public let modelCID: String
    public let identity: Identity
    /// Activations committed per input (4 proof bytes each): the k of the top-k (version 1) or
    /// the number of classes (version 2).
    public var k: Int
    /// Receipt version to issue: 2 (`GroupMaxProof`, the default) or 1 (top-k `ActivationProof`).
    public var version: Int64 = Receipt.version
    public var mode: InferenceMode
    /// Samples per forward pass on the fast path (the result does not depend on it beyond
    /// floating-point reassociation, which verification tolerates).
    public var batchSize: Int = 256

    public init(network: Network, modelCID: String, identity: Identity, k: Int = 16, mode: InferenceMode = .fast) {
        self.network = network
        self.modelCID = modelCID
        self.identity = identity
        self.k = k
        self.mode = mode
    }

    /// The proofs of `rows` activation vectors of `width` floats under this prover's receipt
    /// version (top-k for 1, group-max for 2), as one buffer of `perRow` bytes per row.
    func commitRows(_ activations: UnsafeBufferPointer<Float>, rows: Int, width: Int) -> (bytes: [UInt8], perRow: Int) {
        if version == 1 {
            return (ActivationProof.commitRows(activations, rows: rows, width: width, k: k), ActivationProof.proofByteCount(width: width, k: k))
        }
        return (GroupMaxProof.commitRows(activations, rows: rows, width: width, groups: k), GroupMaxProof.proofByteCount(width: width, groups: k))
    }

    /// Runs `count` samples (`count × inputSize` floats) and signs a receipt for each.
    /// Nonces come from `nonces` (the system's secure generator in real use).
    public func run<G: RandomNumberGenerator>(features: [Float], count: Int, nonces: inout G,
                                              now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws -> [Result] {
        let d = network.inputSize
        precondition(features.count == count * d, "features must hold count × inputSize values")  // programmer error
        let classes = network.config.classCount
        var results = [Result]()
        results.reserveCapacity(count)
        let chunk = max(1, batchSize)
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            try features.withUnsafeBufferPointer { all in
                let xs = UnsafeBufferPointer(rebasing: all[(start * d)..<((start + n) * d)])
                var logits = [Float](), proofs = [UInt8](), proofBytes = 0
                if mode == .fast {
                    // one forward pass for the batch, then every proof in one kernel call over
                    // its penultimate matrix (still in cache)
                    let (l, hidden, width) = network.inference(features: xs, batch: n)
                    logits = l
                    (proofs, proofBytes) = hidden.withUnsafeBufferPointer { commitRows($0, rows: n, width: width) }
                }
                for s in 0..<n {
                    let x = UnsafeBufferPointer(rebasing: xs[(s * d)..<((s + 1) * d)])
                    let out: [Float], proof: [UInt8]
                    if mode == .fast {
                        out = Array(logits[(s * classes)..<((s + 1) * classes)])
                        proof = Array(proofs[(s * proofBytes)..<((s + 1) * proofBytes)])
                    } else {
                        let (o, act) = try ExactInference.run(network, input: x)
                        out = o
                        proof = act.withUnsafeBufferPointer { commitRows($0, rows: 1, width: $0.count).bytes }
                    }
                    let label = argmax(out)
                    var nonceBytes = [UInt8]()
                    for _ in 0..<2 { withUnsafeBytes(of: nonces.next()) { nonceBytes += $0 } }
                    let nonce = Multibase.hex(nonceBytes)
                    var r = Receipt(model: modelCID, inputDigest: Receipt.digest(of: x), output: out, label: label,
                                    proof: proof, mode: mode, device: "", timestamp: now, nonce: nonce, version: version)
                    try r.sign(with: identity)
                    results.append(Result(logits: out, label: label, receipt: r))
                }
            }
            start += n
        }
        return results
    }
}

/// Index of the largest value (the first one on ties).
func argmax(_ v: [Float]) -> Int {
    var best = 0
    for i in v.indices where v[i] > v[best] { best = i }
    return best
}
