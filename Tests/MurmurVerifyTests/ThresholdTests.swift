import Foundation
import MurmurCore
import MurmurML
import MurmurTestSupport
import Testing
@testable import MurmurVerify

/// `ProofThresholds.standard` against honest variation and a one-weight change: receipts from
/// other batch sizes and from the scalar no-FMA path (another summation order, as another
/// machine would use) verify; a model with one influential weight × 1.01 is caught.
@Suite(.ownThreads) struct ThresholdTests {
    /// Receipts claimed as `fast` but computed by the exact path (scalar, fixed order, no FMA).
    static func scalarReceipts(_ f: Fixture, network: Network? = nil, version: Int64 = Receipt.version) throws -> [Receipt] {
        let net = network ?? f.network
        var nonces = SeededRNG(seed: 31)
        return try (0..<f.count).map { i in
            let x = f.input(i)
            let (out, act) = try x.withUnsafeBufferPointer { try ExactInference.run(net, input: $0) }
            let proof = act.withUnsafeBufferPointer {
                version == 1 ? ActivationProof.commitBytes($0, k: 16) : GroupMaxProof.commitRows($0, rows: 1, width: $0.count, groups: 16)
            }
            var r = Receipt(model: f.cid, inputDigest: x.withUnsafeBufferPointer { Receipt.digest(of: $0) }, output: out,
                            label: argmax(out), proof: proof, mode: .fast, device: "", timestamp: 1, nonce: String(format: "%032llx", nonces.next()),
                            version: version)
            try r.sign(with: f.device)
            return r
        }
    }

    static func receipts(_ f: Fixture, network: Network, batch: Int, version: Int64 = Receipt.version) throws -> [Receipt] {
        var nonces = SeededRNG(seed: UInt64(batch) &+ 1000)
        var prover = InferenceProver(network: network, modelCID: f.cid, identity: f.device)
        prover.batchSize = batch
        prover.version = version
        return try prover.run(features: f.inputs, count: f.count, nonces: &nonces, now: 1).map(\.receipt)
    }

    static func rejections(_ f: Fixture, _ rs: [Receipt]) -> Int {
        var v = f.verifier()
        return rs.indices.filter { i in (try? v.verify(rs[i], input: f.input(i))) == nil }.count
    }

    @Test(arguments: [Int64(1), 2])
    func honestVariantsAreAccepted(version: Int64) throws {
        for arch in [Architecture.mlp(hidden: [32]), .cnn(channels: [4], hidden: 16)] {
            let f = try Fixture(architecture: arch, count: 24)
            for batch in [1, 7, 24] {
                #expect(Self.rejections(f, try Self.receipts(f, network: f.network, batch: batch, version: version)) == 0, "\(arch) batch \(batch)")
            }
            #expect(Self.rejections(f, try Self.scalarReceipts(f, version: version)) == 0, "\(arch) scalar path")
        }
    }

    /// Weights drawn at random until eight influence an output bit on the inputs; each such
    /// model × 1.01 at one weight must have at least one receipt rejected.
    @Test func oneInfluentialWeightChangedByOnePercentIsCaught() throws {
        let f = try Fixture(count: 24)
        let reference = f.inputs.withUnsafeBufferPointer { f.network.inference(features: $0, batch: f.count).logits }
        var rng = SeededRNG(seed: 12)
        var found = 0, drawn = 0
        while found < 8, drawn < 400 {
            drawn += 1
            var p = f.network.parameters
            let j = Int(rng.next() % UInt64(p.count))
            p[j] *= 1.01
            let tampered = try Network(config: f.network.config, parameters: p)
            let l = f.inputs.withUnsafeBufferPointer { tampered.inference(features: $0, batch: f.count).logits }
            guard zip(l, reference).contains(where: { $0.bitPattern != $1.bitPattern }) else { continue }
            found += 1
            #expect(Self.rejections(f, try Self.receipts(f, network: tampered, batch: 24)) > 0, "weight \(j)")
        }
        #expect(found == 8)
    }

    /// A version 1 receipt (exact top-k proof) still parses and verifies; its proof is not
    /// accepted as a version 2 one.
    @Test func versionOneReceiptsStillVerify() throws {
        let f = try Fixture(count: 4)
        let rs = try Self.receipts(f, network: f.network, batch: 4, version: 1)
        var v = f.verifier()
        for (i, r) in rs.enumerated() {
            #expect(r.jsonLine.contains("\"v\":1"))
            let parsed = try Receipt(jsonLine: r.jsonLine)
            #expect(parsed.version == 1)
            #expect(throws: Never.self) { try v.verify(parsed, input: f.input(i)) }
        }
        var relabelled = rs[0]
        relabelled.version = 2
        try relabelled.sign(with: f.device)
        #expect(throws: (any Error).self) { try v.verify(relabelled, input: f.input(0)) }
    }
}
