import MurmurML

/// The verifier side: checks receipts by signature, model, input digest, nonce freshness and
/// re-execution (output within tolerance, label, activation proof).
public struct ReceiptVerifier {
    /// Known models by manifest CID.
    public var models: [String: Network]
    public var thresholds: ProofThresholds
    /// (device, nonce) pairs already seen.
    var seen = Set<String>()

    public init(models: [String: Network], thresholds: ProofThresholds = .standard) {
        self.models = models
        self.thresholds = thresholds
    }

    /// Parses and verifies one JSON line against the input it claims to be about.
    public mutating func verify(line: String, input: [Float]) -> Swift.Result<Receipt, RejectionReason> {
        do {
            let r = try Receipt(jsonLine: line)
            try verify(r, input: input)
            return .success(r)
        } catch {
            return .failure(error)
        }
    }

    /// Verifies a parsed receipt; throws the first reason to reject it.
    public mutating func verify(_ r: Receipt, input: [Float]) throws(RejectionReason) {
        guard r.hasValidSignature else { throw .badSignature }
        let key = r.device + "/" + r.nonce
        guard !seen.contains(key) else { throw .replayedNonce(r.nonce) }
        seen.insert(key)
        guard let network = models[r.model] else { throw .unknownModel(r.model) }
        guard input.count == network.inputSize else {
            throw .malformed("input has \(input.count) values; the model takes \(network.inputSize)")
        }
        let digest = input.withUnsafeBufferPointer { Receipt.digest(of: $0) }
        guard digest == r.inputDigest else { throw .inputMismatch }
        guard r.output.count == network.config.classCount else {
            throw .malformed("output has \(r.output.count) values; the model has \(network.config.classCount) classes")
        }
        let (logits, hidden) = try reexecute(network, input: input, mode: r.mode)
        var maxErr = 0.0
        for (a, b) in zip(r.output, logits) {
            let e = r.mode == .exact ? (a.bitPattern == b.bitPattern ? 0 : Double.infinity)
                : Double(abs(a - b)) / Double(max(1, abs(b)))
            maxErr = max(maxErr, e)
        }
        guard maxErr <= (r.mode == .exact ? 0 : thresholds.maxOutputError) else { throw .outputMismatch(maxError: maxErr) }
        let actual = argmax(logits)
        guard r.label == actual else { throw .labelMismatch(claimed: r.label, actual: actual) }
        let proof = try ActivationProof(bytes: r.proof, width: hidden.count, maxBytes: Receipt.maxProofBytes)
        let cmp = hidden.withUnsafeBufferPointer { proof.compare(with: $0, tieTolerance: r.mode == .exact ? 0 : 1e-4) }
        let tolerance = r.mode == .exact ? 0 : thresholds.maxRelativeError
        let allowed = r.mode == .exact ? 0 : thresholds.maxOutliers
        let outliers = cmp.outliers(tolerance: tolerance)
        guard outliers <= allowed, cmp.checked == cmp.expected else {
            throw .proofMismatch(outliers: outliers, maxRelativeError: cmp.maxRelativeError)
        }
    }

    func reexecute(_ network: Network, input: [Float], mode: InferenceMode) throws(RejectionReason) -> ([Float], [Float]) {
        switch mode {
        case .exact:
            return try input.withUnsafeBufferPointer { (x) throws(RejectionReason) in try ExactInference.run(network, input: x) }
        case .fast:
            let r = input.withUnsafeBufferPointer { network.inference(features: $0, batch: 1) }
            return (r.logits, r.penultimate)
        }
    }
}
