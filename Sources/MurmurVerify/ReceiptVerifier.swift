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
        let m = try measure(r, input: input)
        let exact = r.mode == .exact
        guard m.outputError <= (exact ? 0 : thresholds.maxOutputError) else { throw .outputMismatch(maxError: m.outputError) }
        guard r.label == m.actualLabel else { throw .labelMismatch(claimed: r.label, actual: m.actualLabel) }
        let outliers = m.proof.outliers(tolerance: exact ? 0 : thresholds.maxRelativeError)
        guard outliers <= (exact ? 0 : thresholds.maxOutliers), m.proof.checked == m.proof.expected else {
            throw .proofMismatch(outliers: outliers, maxRelativeError: m.proof.maxRelativeError)
        }
    }

    /// How a receipt's claims deviate from a re-execution, without judging them (no signature
    /// or nonce check): what `verify` compares with the thresholds, and what calibrating them
    /// measures on honest receipts (docs/verification.md, "Thresholds").
    public struct Deviation: Sendable {
        /// Largest |claimed − recomputed| logit over the largest recomputed logit magnitude
        /// (exact mode: 0 when bit-identical, else ∞).
        public var outputError: Double
        /// The recomputed argmax.
        public var actualLabel: Int
        /// The proof against the recomputed last hidden layer (tie tolerance from `thresholds`;
        /// 0 in exact mode).
        public var proof: ProofComparison
    }

    /// Re-executes the receipt's model on `input` and measures the output's and the proof's
    /// deviation; throws for an unknown model, a wrong input or a malformed proof.
    public func measure(_ r: Receipt, input: [Float]) throws(RejectionReason) -> Deviation {
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
        let scale = logits.withUnsafeBufferPointer { ActivationProof.rowScale($0) }
        for (a, b) in zip(r.output, logits) {
            let e = r.mode == .exact ? (a.bitPattern == b.bitPattern ? 0 : Double.infinity)
                : (b.isFinite ? Double(abs(a - b)) / scale : .infinity)
            maxErr = max(maxErr, e)
        }
        let tie = r.mode == .exact ? 0 : thresholds.tieTolerance
        let cmp: ProofComparison
        if r.version == 1 {
            let proof = try ActivationProof(bytes: r.proof, width: hidden.count, maxBytes: Receipt.maxProofBytes)
            cmp = hidden.withUnsafeBufferPointer { proof.compare(with: $0, tieTolerance: tie) }
        } else {
            let proof = try GroupMaxProof(bytes: r.proof, width: hidden.count, maxBytes: Receipt.maxProofBytes)
            cmp = hidden.withUnsafeBufferPointer { proof.compare(with: $0, tieTolerance: tie) }
        }
        return Deviation(outputError: maxErr, actualLabel: argmax(logits), proof: cmp)
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
