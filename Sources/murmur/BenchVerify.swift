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

    @Option(help: "Receipt version to issue and measure: 2 (group-max proof, the default) or 1 (exact top-k proof).")
    var proofVersion: Int64 = Receipt.version

    @Option(help: "Weights changed by 1 % per class (random, and random among those that influence an output).")
    var weights = 20

    func validate() throws {
        guard ["mlp", "cnn"].contains(model) else { throw ValidationError("--model must be mlp or cnn, got '\(model)'") }
        guard (1...64).contains(k) else { throw ValidationError("--k must be in 1...64, got \(k)") }
        guard Receipt.supportedVersions.contains(proofVersion) else { throw ValidationError("--proof-version must be 1 or 2, got \(proofVersion)") }
        guard (1...1000).contains(weights) else { throw ValidationError("--weights must be in 1...1000, got \(weights)") }
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
            otherModel: try Network(config: other.model, parameters: other.parameters), k: k,
            version: proofVersion, weightTrials: weights)
        let honest = try bench.honestVariants()
        let detection = try bench.tamperDetection()
        let speed = try bench.speed()
        var obj: [String: Any] = [
            "benchmark": "verify", "model": bench.cid, "architecture": model == "mlp" ? "mlp \(config.hidden.map(String.init).joined(separator: ","))" : model, "gemm_kernels": GEMM.availableKernels, "variants": honest.variants,
            "honest_receipts": honest.receipts, "false_rejects": honest.falseRejects, "proof_bytes": 4 * k,
            "receipt_version": proofVersion,
            "honest_max_output_error": honest.maxOutputError, "honest_max_proof_error": honest.maxProofError,
            "honest_max_tie_shortfall": honest.maxShortfall, "honest_proof_outliers": honest.outliers,
            "threshold_output_error": ProofThresholds.standard.maxOutputError,
            "threshold_proof_error": ProofThresholds.standard.maxRelativeError,
            "threshold_tie": ProofThresholds.standard.tieTolerance,
            "threshold_max_outliers": ProofThresholds.standard.maxOutliers,
        ]
        for (key, v) in speed { obj[key] = v }
        for (key, v) in detection { obj["detection_\(key)"] = v }
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("honest receipts (v\(proofVersion)): \(honest.receipts) over \(honest.variants) variants (kernels \(GEMM.availableKernels.joined(separator: ", ")) × 1,2 threads × batch 1,7,32,256); false rejects: \(honest.falseRejects)")
        print(String(format: "honest deviation, largest: output %.3g (threshold %.3g), proof value %.3g (threshold %.3g), tie shortfall %.3g (tolerance %.3g); outliers %d",
                     honest.maxOutputError, ProofThresholds.standard.maxOutputError, honest.maxProofError, ProofThresholds.standard.maxRelativeError,
                     honest.maxShortfall, ProofThresholds.standard.tieTolerance, honest.outliers))
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
    let version: Int64
    let weightTrials: Int
    let inputs: [Float]
    let n: Int
    let d: Int
    let device: Identity
    var nonceRNG = SeededRNG(seed: 7)

    init(network: Network, otherModel: Network, k: Int, version: Int64, weightTrials: Int) throws {
        self.network = network
        self.otherModel = otherModel
        self.k = k
        self.version = version
        self.weightTrials = weightTrials
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
        prover.version = version
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

    /// The largest honest deviations seen (`ReceiptVerifier.measure`): what the thresholds are
    /// calibrated against.
    struct Honest {
        var receipts = 0, falseRejects = 0, variants = 0, outliers = 0
        var maxOutputError = 0.0, maxProofError = 0.0, maxShortfall = 0.0
    }

    /// Receipts issued under every kernel × thread count × batch size, measured and verified on
    /// the default.
    mutating func honestVariants() throws -> Honest {
        var h = Honest()
        for kernel in GEMM.availableKernels {
            for threads in [1, 2] {
                for batch in [1, 7, 32, 256] {
                    GEMM.useKernel(kernel)
                    GEMM.maxThreads = threads
                    let rs = try receipts(from: network, features: inputs, batch: batch)
                    GEMM.useKernel(nil)
                    GEMM.maxThreads = 2
                    let r = rejections(rs)
                    let measurer = ReceiptVerifier(models: [cid: network])
                    for (i, receipt) in rs.enumerated() {
                        let m = try measurer.measure(receipt, input: input(i))
                        h.maxOutputError = max(h.maxOutputError, m.outputError)
                        h.maxProofError = max(h.maxProofError, m.proof.maxRelativeError)
                        h.maxShortfall = max(h.maxShortfall, m.proof.maxShortfall)
                        h.outliers += m.proof.outliers(tolerance: ProofThresholds.standard.maxRelativeError)
                    }
                    if r > 0 { log("false rejects: \(r) under \(kernel), \(threads) thread(s), batch \(batch)") }
                    h.receipts += rs.count
                    h.falseRejects += r
                    h.variants += 1
                }
            }
            log(String(format: "honest receipts so far: %d, false rejects: %d; largest output error %.3g, proof error %.3g, shortfall %.3g",
                       h.receipts, h.falseRejects, h.maxOutputError, h.maxProofError, h.maxShortfall))
        }
        return h
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
        // One weight × 1.01: `weightTrials` weights drawn at random among all parameters (the raw
        // figure), and as many drawn among those that influence at least one output bit on the
        // 1,797 inputs (the same deterministic inference, original vs tampered). A weight whose
        // input is zero on every input (an always-blank pixel, a ReLU unit that never fires)
        // changes nothing, so no verifier can detect it.
        let reference = inputs.withUnsafeBufferPointer { network.inference(features: $0, batch: n).logits }
        // effect: the largest |Δ logit| over the largest reference logit magnitude of its input
        // (the verifier's output measure); 0 exactly when no output bit moves
        let classes = network.config.classCount
        func effect(_ p: [Float]) throws -> Double {
            let net = try Network(config: network.config, parameters: p)
            let l = inputs.withUnsafeBufferPointer { net.inference(features: $0, batch: n).logits }
            var worst = 0.0
            for i in 0..<n {
                let row = reference[(i * classes)..<((i + 1) * classes)]
                let scale = max(Double(Float.leastNormalMagnitude), Double(row.map { abs($0) }.max() ?? 0))
                for c in 0..<classes where l[i * classes + c].bitPattern != reference[i * classes + c].bitPattern {
                    worst = max(worst, Double(abs(l[i * classes + c] - reference[i * classes + c])) / scale + 1e-300)
                }
            }
            return worst
        }
        func influences(_ p: [Float]) throws -> Bool { try effect(p) > 0 }
        let threshold = ProofThresholds.standard.maxOutputError
        var effective = 0, effectiveCaught = 0, missedEffect = 0.0
        var wRNG = SeededRNG(seed: 5)
        var perReceipt = 0.0, modelsCaught = 0, rawInfluential = 0
        var infPerReceipt = 0.0, infCaught = 0, infFound = 0, drawn = 0
        for trial in 0..<weightTrials {
            var p = network.parameters
            let j = Int(wRNG.next() % UInt64(p.count))
            p[j] *= 1.01
            if try influences(p) { rawInfluential += 1 }
            let r = rejections(try receipts(from: try Network(config: network.config, parameters: p), features: inputs))
            perReceipt += Double(r) / count / Double(weightTrials)
            if r > 0 { modelsCaught += 1 } else { log("one weight × 1.01, raw trial \(trial): weight \(j) not detected") }
        }
        var iRNG = SeededRNG(seed: 6)
        while infFound < weightTrials, drawn < 100 * weightTrials {
            var p = network.parameters
            let j = Int(iRNG.next() % UInt64(p.count))
            drawn += 1
            p[j] *= 1.01
            let e = try effect(p)
            guard e > 0 else { continue }
            infFound += 1
            let rs = try receipts(from: try Network(config: network.config, parameters: p), features: inputs)
            let r = rejections(rs)
            infPerReceipt += Double(r) / count / Double(weightTrials)
            if e > threshold {
                effective += 1
                if r > 0 { effectiveCaught += 1 }
            }
            if r > 0 { infCaught += 1 } else {
                missedEffect = max(missedEffect, e)
                let measurer = ReceiptVerifier(models: [cid: network])
                var out = 0.0, proof = 0.0
                for (i, receipt) in rs.enumerated() {
                    let m = try measurer.measure(receipt, input: input(i))
                    out = max(out, m.outputError)
                    proof = max(proof, m.proof.maxRelativeError)
                }
                log("one weight × 1.01, influential: weight \(j) (value \(network.parameters[j])) not detected; effect \(e), largest output error \(out), proof error \(proof)")
            }
        }
        detection["one_weight_1pct_per_receipt"] = perReceipt
        detection["one_weight_1pct_per_model"] = Double(modelsCaught) / Double(weightTrials)
        detection["one_weight_1pct_raw_influential_share"] = Double(rawInfluential) / Double(weightTrials)
        detection["one_weight_1pct_influential_per_model"] = Double(infCaught) / Double(max(1, infFound))
        detection["one_weight_1pct_influential_per_receipt"] = infPerReceipt * Double(weightTrials) / Double(max(1, infFound))
        detection["one_weight_1pct_influential_share_of_weights"] = Double(infFound) / Double(max(1, drawn))
        detection["one_weight_1pct_trials"] = Double(weightTrials)
        detection["one_weight_1pct_above_tolerance_per_model"] = Double(effectiveCaught) / Double(max(1, effective))
        detection["one_weight_1pct_above_tolerance_count"] = Double(effective)
        detection["one_weight_1pct_influential_missed_max_effect"] = missedEffect
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
        let k = self.k, v1 = version == 1
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
                    let proofs = r.penultimate.withUnsafeBufferPointer {
                        v1 ? ActivationProof.commitRows($0, rows: m, width: r.width, k: k) : GroupMaxProof.commitRows($0, rows: m, width: r.width, groups: k)
                    }
                    let t2 = now()
                    let b = v1 ? ActivationProof.proofByteCount(width: r.width, k: k) : GroupMaxProof.proofByteCount(width: r.width, groups: k)
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
        var proofBuffer = [UInt8](repeating: 0, count: 4 * 256)
        for _ in 0..<3 {
            var tInfer: UInt64 = 0, tProof: UInt64 = 0
            for i in 0..<n {
                let t0 = now()
                let r = inputs.withUnsafeBufferPointer { network.inference(features: UnsafeBufferPointer(rebasing: $0[(i * d)..<((i + 1) * d)]), batch: 1) }
                let t1 = now()
                // version 2: into a caller-provided buffer (no array per input)
                if v1 {
                    let proof = r.penultimate.withUnsafeBufferPointer { ActivationProof.commitRows($0, rows: 1, width: r.width, k: k) }
                    sink &+= Int(proof[1])
                } else {
                    _ = r.penultimate.withUnsafeBufferPointer { h in
                        proofBuffer.withUnsafeMutableBufferPointer { GroupMaxProof.commitRows(h, rows: 1, width: r.width, groups: k, into: $0) }
                    }
                }
                let t2 = now()
                tInfer += t1 - t0
                tProof += t2 - t1
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
        sink &+= Int(proofBuffer[1])
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
