import ArgumentParser
import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurTensor
import MurmurVerify

/// `murmur bench verify`: receipt throughput, proof overhead, and the proof's quality — false
/// rejects over honest execution variants and detection per tamper class.
struct BenchVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Receipts signed/s and verified/s, proof overhead, false rejects and tamper detection.",
        discussion: """
            Trains the demo MLP on digits (or the digits CNN, --model cnn, or an MLP with other
            --hidden widths), then: (1) issues receipts for all 1,797 digits under every
            GEMM kernel × thread count × batch size and verifies them (honest: any rejection is a
            false reject); (2) verifies receipts from five tamper classes (another model, another
            input, one weight changed by 1 %, Float16 weights, a forged output), all correctly
            signed; (3) times inference, proof generation, signing and verification. Inference is
            timed as `murmur infer` runs it (Network.inference over batches of 256, and one input
            at a time); proof generation as the prover runs it (one commitRows call per batch).
            """)

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: "Activations committed per input.")
    var k = 16

    @Option(help: "The model to serve: mlp (the demo's) or cnn (digits CNN; more work per inference, so the proof's share shrinks).")
    var model: String = "mlp"

    @Option(help: "Hidden widths of the MLP, comma-separated (the demo's: 128; e.g. 512,256 for a larger edge model).")
    var hidden: String = "128"

    func validate() throws {
        guard ["mlp", "cnn"].contains(model) else { throw ValidationError("--model must be mlp or cnn, got '\(model)'") }
        guard (1...64).contains(k) else { throw ValidationError("--k must be in 1...64, got \(k)") }
        guard let widths = hiddenWidths, !widths.isEmpty, widths.allSatisfy({ (1...4096).contains($0) }) else {
            throw ValidationError("--hidden must be comma-separated widths in 1...4096, got '\(hidden)'")
        }
    }

    var hiddenWidths: [Int]? {
        let parts = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return parts.contains(nil) ? nil : parts.compactMap { $0 }
    }

    func run() async throws {
        var config = SimulationConfig()
        config.model = ModelKind(rawValue: model) ?? .mlp
        config.hidden = hiddenWidths ?? [128]
        let sim = try Simulation(config: config)
        let trained = try await sim.run()
        var otherConfig = config
        otherConfig.seed = 4242
        let other = try await Simulation(config: otherConfig).run()
        var bench = try VerifyBenchmark(
            network: try Network(config: trained.model, parameters: trained.parameters),
            otherModel: try Network(config: other.model, parameters: other.parameters), k: k)
        let honest = try bench.honestVariants()
        let detection = try bench.tamperDetection()
        let speed = try bench.speed()
        var obj: [String: Any] = [
            "benchmark": "verify", "model": bench.cid, "architecture": model == "mlp" ? "mlp \(config.hidden.map(String.init).joined(separator: ","))" : model, "gemm_kernels": GEMM.availableKernels, "variants": honest.variants,
            "honest_receipts": honest.receipts, "false_rejects": honest.falseRejects, "proof_bytes": 4 * k,
        ]
        for (key, v) in speed { obj[key] = v }
        for (key, v) in detection { obj["detection_\(key)"] = v }
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("honest receipts: \(honest.receipts) over \(honest.variants) variants (kernels \(GEMM.availableKernels.joined(separator: ", ")) × 1,2 threads × batch 1,7,32,256); false rejects: \(honest.falseRejects)")
        print("detection: " + detection.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f %%", $0.value * 100))" }.joined(separator: ", "))
        print(String(format: "proof: %d bytes per input; generation %.2f %% of batched inference time (%.2f %% with the copy into each receipt), %.2f %% of a single-sample inference (%@)",
                     4 * k, 100 * (speed["proof_overhead_share_of_inference"] ?? 0), 100 * (speed["proof_with_copy_share_of_inference"] ?? 0),
                     100 * (speed["proof_overhead_share_of_single_inference"] ?? 0), model))
        print(String(format: "receipts signed/s %.0f, verified/s %.0f; verification costs %.1f× a batched inference, %.1f× a single one",
                     speed["receipts_signed_per_second"] ?? 0, speed["receipts_verified_per_second"] ?? 0,
                     speed["verify_cost_vs_batched_inference"] ?? 0, speed["verify_cost_vs_single_inference"] ?? 0))
        print(String(format: "exact path: %.1f× the fast single-sample path", speed["exact_cost_vs_fast_single"] ?? 0))
    }
}

/// The measurements behind `murmur bench verify`, one method per part.
struct VerifyBenchmark {
    let network: Network
    let otherModel: Network
    let cid: String
    let k: Int
    let inputs: [Float]
    let n: Int
    let d: Int
    let device: Identity
    var nonceRNG = SeededRNG(seed: 7)

    init(network: Network, otherModel: Network, k: Int) throws {
        self.network = network
        self.otherModel = otherModel
        self.k = k
        cid = try ModelArtifact(network: network).manifest.cid().description
        let all = Digits.load()
        inputs = all.features
        n = all.count
        d = all.featureCount
        var idRNG = SeededRNG(seed: 99)
        device = Identity(deterministic: &idRNG)
    }

    func input(_ i: Int) -> [Float] { Array(inputs[(i * d)..<((i + 1) * d)]) }

    func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    mutating func receipts(from net: Network, features: [Float], batch: Int = 256) throws -> [Receipt] {
        var prover = InferenceProver(network: net, modelCID: cid, identity: device, k: k)
        prover.batchSize = batch
        return try prover.run(features: features, count: n, nonces: &nonceRNG).map(\.receipt)
    }

    /// Rejections among `receipts` verified by a fresh verifier on the default kernel.
    func rejections(_ receipts: [Receipt]) -> Int {
        var verifier = ReceiptVerifier(models: [cid: network])
        var rejected = 0
        for (i, r) in receipts.enumerated() {
            do { try verifier.verify(r, input: input(i)) } catch {
                rejected += 1
            }
        }
        return rejected
    }

    /// Receipts issued under every kernel × thread count × batch size, verified on the default.
    mutating func honestVariants() throws -> (receipts: Int, falseRejects: Int, variants: Int) {
        var total = 0, rejected = 0, variants = 0
        for kernel in GEMM.availableKernels {
            for threads in [1, 2] {
                for batch in [1, 7, 32, 256] {
                    GEMM.useKernel(kernel)
                    GEMM.maxThreads = threads
                    let rs = try receipts(from: network, features: inputs, batch: batch)
                    GEMM.useKernel(nil)
                    GEMM.maxThreads = 2
                    let r = rejections(rs)
                    if r > 0 { log("false rejects: \(r) under \(kernel), \(threads) thread(s), batch \(batch)") }
                    total += rs.count
                    rejected += r
                    variants += 1
                }
            }
            log("honest receipts so far: \(total), false rejects: \(rejected)")
        }
        return (total, rejected, variants)
    }

    /// Detection rate per tamper class; every tampered receipt is correctly signed and fresh.
    mutating func tamperDetection() throws -> [String: Double] {
        var detection = [String: Double]()
        let count = Double(n)
        detection["another_model"] = Double(rejections(try receipts(from: otherModel, features: inputs))) / count
        var shifted = [Float]()
        for i in 0..<n { shifted += input((i + 1) % n) }
        var swapped = try receipts(from: network, features: shifted)
        for i in 0..<n {
            swapped[i].inputDigest = input(i).withUnsafeBufferPointer { Receipt.digest(of: $0) }
            try swapped[i].sign(with: device)
        }
        detection["another_input"] = Double(rejections(swapped)) / count
        var wRNG = SeededRNG(seed: 5)
        var perReceipt = 0.0
        var modelsCaught = 0
        for _ in 0..<10 {
            var p = network.parameters
            let j = Int(wRNG.next() % UInt64(p.count))
            p[j] *= 1.01
            let r = rejections(try receipts(from: try Network(config: network.config, parameters: p), features: inputs))
            perReceipt += Double(r) / count / 10
            if r > 0 { modelsCaught += 1 }
        }
        detection["one_weight_1pct_per_receipt"] = perReceipt
        detection["one_weight_1pct_per_model"] = Double(modelsCaught) / 10
        let half = network.parameters.map { Float(Float16($0)) }
        detection["float16_weights"] = Double(rejections(try receipts(from: try Network(config: network.config, parameters: half), features: inputs))) / count
        var forged = try receipts(from: network, features: inputs)
        for i in 0..<n {
            var o = forged[i].output
            let a = forged[i].label
            var b = a == 0 ? 1 : 0
            for c in o.indices where c != a && o[c] > o[b] { b = c }
            o.swapAt(a, b)
            forged[i].output = o
            forged[i].label = b
            try forged[i].sign(with: device)
        }
        detection["forged_output"] = Double(rejections(forged)) / count
        return detection
    }

    /// Seconds per sample of each path, as rates and ratios.
    ///
    /// The denominator is the inference a user's `murmur infer` runs: `Network.inference` over
    /// batches of 256 (`InferenceProver`'s default; the same call, so the same GEMM path and
    /// the same copy of the penultimate matrix the proof reads). Proof generation is what the
    /// prover adds: one `ActivationProof.commitRows` call per batch on that matrix, right after
    /// the batch's forward pass; the copy of each proof into its receipt is reported apart.
    mutating func speed() throws -> [String: Double] {
        // Inference and proof generation are timed batch by batch, the proof right after its
        // batch's forward pass (as the prover runs them), summed per pass over all n samples;
        // each keeps its fastest of 25 passes: a pass takes ~1 ms, so on a shared machine one
        // preemption would otherwise decide the ratio.
        let reps = 25, batch = 256
        let k = self.k
        var sink = 0
        func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
        // GEMM as configured (the default: up to all cores for large products, so the batch's
        // first layer may run on 2 threads here) and, for the CPU-time view, on one thread.
        func batchedPasses(threads: Int?) -> (infer: Double, proof: Double, copy: Double) {
            let saved = GEMM.maxThreads
            if let threads { GEMM.maxThreads = threads }
            defer { GEMM.maxThreads = saved }
            var best = (infer: Double.infinity, proof: Double.infinity, copy: Double.infinity)
            for _ in 0..<reps {
                var tInfer: UInt64 = 0, tProof: UInt64 = 0, tCopy: UInt64 = 0
                for start in stride(from: 0, to: n, by: batch) {
                    let m = min(batch, n - start)
                    let t0 = now()
                    let r = inputs.withUnsafeBufferPointer { network.inference(features: UnsafeBufferPointer(rebasing: $0[(start * d)..<((start + m) * d)]), batch: m) }
                    let t1 = now()
                    let proofs = r.penultimate.withUnsafeBufferPointer { ActivationProof.commitRows($0, rows: m, width: r.width, k: k) }
                    let t2 = now()
                    let b = ActivationProof.proofByteCount(width: r.width, k: k)
                    for i in 0..<m { sink &+= Int(Array(proofs[(i * b)..<((i + 1) * b)])[1]) }
                    let t3 = now()
                    tInfer += t1 - t0
                    tProof += t2 - t1
                    tCopy += t3 - t2
                }
                best.infer = min(best.infer, Double(tInfer) * 1e-9 / Double(n))
                best.proof = min(best.proof, Double(tProof) * 1e-9 / Double(n))
                best.copy = min(best.copy, Double(tCopy) * 1e-9 / Double(n))
            }
            return best
        }
        let (infer, proofTime, copyTime) = batchedPasses(threads: nil)
        let oneThread = batchedPasses(threads: 1)
        // One input at a time (a device answering single requests): the same calls with batch 1.
        var single = Double.infinity, singleProof = Double.infinity
        for _ in 0..<3 {
            var tInfer: UInt64 = 0, tProof: UInt64 = 0
            for i in 0..<n {
                let t0 = now()
                let r = inputs.withUnsafeBufferPointer { network.inference(features: UnsafeBufferPointer(rebasing: $0[(i * d)..<((i + 1) * d)]), batch: 1) }
                let t1 = now()
                let proof = r.penultimate.withUnsafeBufferPointer { ActivationProof.commitRows($0, rows: 1, width: r.width, k: k) }
                let t2 = now()
                tInfer += t1 - t0
                tProof += t2 - t1
                sink &+= Int(proof[1])
            }
            single = min(single, Double(tInfer) * 1e-9 / Double(n))
            singleProof = min(singleProof, Double(tProof) * 1e-9 / Double(n))
        }
        var t = Date()
        let rs = try receipts(from: network, features: inputs)
        let sign = Date().timeIntervalSince(t) / Double(n)
        t = Date()
        let rejected = rejections(rs)
        let verify = Date().timeIntervalSince(t) / Double(n)
        t = Date()
        for i in 0..<n { _ = try input(i).withUnsafeBufferPointer { try ExactInference.run(network, input: $0) } }
        let exact = Date().timeIntervalSince(t) / Double(n)
        if rejected > 0 || sink == 1 { log("note: \(rejected) rejections in the timing run") }
        return [
            "inference_samples_per_second": 1 / infer, "proof_overhead_share_of_inference": proofTime / infer,
            "proof_overhead_share_of_single_inference": singleProof / single, "proof_seconds_per_input": proofTime,
            "proof_seconds_per_input_single": singleProof, "proof_copy_seconds_per_input": copyTime,
            "proof_with_copy_share_of_inference": (proofTime + copyTime) / infer,
            "gemm_max_threads": Double(GEMM.maxThreads), "inference_seconds_per_input_batched_1_thread": oneThread.infer,
            "proof_overhead_share_of_inference_1_thread": oneThread.proof / oneThread.infer,
            "inference_seconds_per_input_batched": infer, "inference_seconds_per_input_single": single,
            "receipts_signed_per_second": 1 / sign, "receipts_verified_per_second": 1 / verify,
            "verify_cost_vs_batched_inference": verify / infer, "verify_cost_vs_single_inference": verify / single,
            "exact_cost_vs_fast_single": exact / single,
        ]
    }
}
