/// Why a receipt was rejected: each case is specific enough to act on.
public enum RejectionReason: Error, Equatable, Sendable, CustomStringConvertible {
    /// The receipt is not valid JSON, misses a field, has an extra one, or a field has the wrong type.
    case malformed(String)
    /// The activation proof cannot be decoded (truncated, oversized, not field elements).
    case malformedProof(String)
    /// The Ed25519 signature does not verify under the device key in the receipt.
    case badSignature
    /// The receipt names a model this verifier does not have.
    case unknownModel(String)
    /// The input digest does not match the input the verifier was given.
    case inputMismatch
    /// The claimed output differs from the re-executed one beyond tolerance.
    case outputMismatch(maxError: Double)
    /// The claimed label is not the argmax of the output.
    case labelMismatch(claimed: Int, actual: Int)
    /// The activation proof does not match the re-executed activations.
    case proofMismatch(outliers: Int, maxRelativeError: Double)
    /// The (device, nonce) pair was seen before.
    case replayedNonce(String)

    /// True when the rejection came after the signature verified (checks run in the order of
    /// docs/verification.md), so the receipt really is its device's and the failure counts
    /// against it; before that, a line proves nothing about the device it names.
    public var signatureVerified: Bool {
        switch self {
        case .malformed, .malformedProof, .badSignature: return false
        case .unknownModel, .inputMismatch, .outputMismatch, .labelMismatch, .proofMismatch, .replayedNonce: return true
        }
    }

    public var description: String {
        switch self {
        case .malformed(let m): return "malformed receipt: \(m)"
        case .malformedProof(let m): return "malformed activation proof: \(m)"
        case .badSignature: return "signature does not verify under the device key"
        case .unknownModel(let c): return "unknown model \(c)"
        case .inputMismatch: return "input digest does not match the given input"
        case .outputMismatch(let e): return "output differs from re-execution (max relative error \(e))"
        case let .labelMismatch(c, a): return "label \(c) is not the output's argmax \(a)"
        case let .proofMismatch(o, e): return "activation proof does not match re-execution (\(o) outlier(s), max relative error \(e))"
        case .replayedNonce(let n): return "nonce \(n) was already used by this device"
        }
    }

    /// A short machine-readable code for JSON output.
    public var code: String {
        switch self {
        case .malformed: return "malformed"
        case .malformedProof: return "malformed_proof"
        case .badSignature: return "bad_signature"
        case .unknownModel: return "unknown_model"
        case .inputMismatch: return "input_mismatch"
        case .outputMismatch: return "output_mismatch"
        case .labelMismatch: return "label_mismatch"
        case .proofMismatch: return "proof_mismatch"
        case .replayedNonce: return "replayed_nonce"
        }
    }
}
