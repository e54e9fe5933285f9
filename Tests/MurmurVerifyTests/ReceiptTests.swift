import Foundation
import MurmurCore
import MurmurML
import MurmurTestSupport
import Testing
@testable import MurmurVerify

/// Shared fixture: a trained-enough digits MLP, its CID, a device identity and signed receipts.
struct Fixture {
    let network: Network
    let cid: String
    let device: Identity
    let inputs: [Float]
    let count: Int

    init(architecture: Architecture = .mlp(hidden: [32]), count: Int = 40) throws {
        let (train, test) = Digits.split()
        let shape = architecture == .logisticRegression || { if case .mlp = architecture { return true }; return false }() ? [64] : [1, 8, 8]
        network = try Network(config: ModelConfig(architecture: architecture, inputShape: shape, classCount: 10), seed: 5)
        var opt = SGD(learningRate: 0.05, momentum: 0.9)
        var rng = SeededRNG(seed: 5)
        _ = Trainer.train(network, on: train, epochs: 2, batchSize: 32, optimizer: &opt, rng: &rng)
        cid = try ModelArtifact(network: network).manifest.cid().description
        var idRNG = SeededRNG(seed: 77)
        device = Identity(deterministic: &idRNG)
        self.count = count
        inputs = Array(test.features[0..<(count * 64)])
    }

    func input(_ i: Int) -> [Float] { Array(inputs[(i * 64)..<((i + 1) * 64)]) }

    func receipts(mode: InferenceMode = .fast, k: Int = 16, seed: UInt64 = 1) throws -> [Receipt] {
        var nonces = SeededRNG(seed: seed)
        return try InferenceProver(network: network, modelCID: cid, identity: device, k: k, mode: mode)
            .run(features: inputs, count: count, nonces: &nonces, now: 1_700_000_000_000).map(\.receipt)
    }

    func verifier() -> ReceiptVerifier { ReceiptVerifier(models: [cid: network]) }
}

@Suite(.ownThreads) struct ReceiptTests {
    @Test func honestReceiptsVerifyInBothModes() throws {
        let f = try Fixture()
        for mode in [InferenceMode.fast, .exact] {
            var v = f.verifier()
            for (i, r) in try f.receipts(mode: mode).enumerated() {
                #expect(r.proof.count == 64)
                let parsed = try Receipt(jsonLine: r.jsonLine)
                #expect(parsed == r)
                #expect(throws: Never.self) { try v.verify(parsed, input: f.input(i)) }
            }
        }
    }

    @Test func cnnAndLogregToo() throws {
        for arch in [Architecture.cnn(channels: [4], hidden: 16), .logisticRegression] {
            let f = try Fixture(architecture: arch, count: 10)
            for mode in [InferenceMode.fast, .exact] {
                var v = f.verifier()
                for (i, r) in try f.receipts(mode: mode).enumerated() {
                    #expect(throws: Never.self) { try v.verify(r, input: f.input(i)) }
                }
            }
        }
    }

    /// The exact path agrees with the fast path to float tolerance (it is the same function).
    @Test func exactPathMatchesFastPath() throws {
        let f = try Fixture(count: 5)
        for i in 0..<5 {
            let x = f.input(i)
            let exact = try x.withUnsafeBufferPointer { try ExactInference.run(f.network, input: $0) }
            let fast = x.withUnsafeBufferPointer { f.network.inference(features: $0, batch: 1) }
            for (a, b) in zip(exact.logits, fast.logits) { #expect(abs(a - b) <= 1e-4 * max(1, abs(b))) }
            #expect(exact.penultimate.count == fast.width)
        }
    }

    @Test func tamperedReceiptsAreRejectedWithReasons() throws {
        let f = try Fixture(count: 4)
        let rs = try f.receipts()
        var v = f.verifier()

        var forged = rs[0]
        forged.output[0] += 1
        #expect(throws: RejectionReason.badSignature) { try v.verify(forged, input: f.input(0)) }

        // A re-signed forgery passes the signature check but not re-execution.
        var resigned = rs[1]
        resigned.output[resigned.label] += 0.5
        try resigned.sign(with: f.device)
        #expect { try v.verify(resigned, input: f.input(1)) } throws: { ($0 as? RejectionReason)?.code == "output_mismatch" }

        #expect(throws: RejectionReason.inputMismatch) { try v.verify(rs[2], input: f.input(3)) }

        var unknown = rs[3]
        unknown.model = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        try unknown.sign(with: f.device)
        #expect { try v.verify(unknown, input: f.input(3)) } throws: { ($0 as? RejectionReason)?.code == "unknown_model" }

        // Replay: the same receipt twice.
        var v2 = f.verifier()
        try v2.verify(rs[0], input: f.input(0))
        #expect { try v2.verify(rs[0], input: f.input(0)) } throws: { ($0 as? RejectionReason)?.code == "replayed_nonce" }
    }

    /// A proof whose indices are out of order or outside the layer is a typed rejection.
    @Test func malformedProofEntries() throws {
        let f = try Fixture(count: 1)
        var r = try f.receipts()[0]
        r.proof[4] = r.proof[0]  // entry 1's index equals entry 0's: not increasing
        try r.sign(with: f.device)
        var v = f.verifier()
        #expect { try v.verify(r, input: f.input(0)) } throws: { ($0 as? RejectionReason)?.code == "malformed_proof" }
    }

    @Test func malformedLinesAreTypedErrors() throws {
        let f = try Fixture(count: 1)
        let line = try f.receipts()[0].jsonLine
        let cases: [(String, String)] = [
            ("not json", "malformed"),
            ("[]", "malformed"),
            (line.replacingOccurrences(of: "\"v\":2", with: "\"v\":2,\"extra\":2"), "malformed"),
            (line.replacingOccurrences(of: "\"mode\":\"fast\"", with: "\"mode\":\"turbo\""), "malformed"),
            (String(line.prefix(line.count / 2)), "malformed"),
            (String(repeating: " ", count: Receipt.maxLineBytes + 1), "malformed"),
        ]
        for (text, code) in cases {
            #expect { _ = try Receipt(jsonLine: text) } throws: { ($0 as? RejectionReason)?.code == code }
        }
        // Truncated and oversized proofs.
        let r = try f.receipts()[0]
        for bytes in [[UInt8](r.proof.prefix(6)), [UInt8](repeating: 1, count: 400), []] {
            let bad = line.replacingOccurrences(of: Data(r.proof).base64EncodedString(), with: Data(bytes).base64EncodedString())
            #expect { _ = try Receipt(jsonLine: bad) } throws: { ($0 as? RejectionReason)?.code == "malformed_proof" }
        }
    }
}
