import Crypto
import Foundation
import MurmurCore

/// Which inference path produced a receipt.
public enum InferenceMode: String, Sendable, Codable {
    /// The fast GEMM path; verification tolerates floating-point reassociation.
    case fast
    /// The bit-exact path (fixed reduction order); verification is exact equality.
    case exact
}

/// A signed statement "device D ran model M on input I and got output O", with an activation
/// proof that lets another peer re-check it by re-execution.
///
/// Wire form: one canonical-JSON object (RFC 8785 style) with the fields below; the signature is
/// Ed25519 over the canonical bytes of the object without `signature`. Reals are written as
/// strings holding Swift's shortest round-tripping Float32 text, so they survive exactly.
public struct Receipt: Sendable, Equatable {
    /// The schema version new receipts carry: 2, whose proof is a `GroupMaxProof`. Version 1
    /// (an `ActivationProof`, exact top-k) still parses and verifies.
    public static let version: Int64 = 2
    /// Versions this build verifies.
    public static let supportedVersions: ClosedRange<Int64> = 1...2
    /// Upper bounds that keep a hostile receipt from costing memory or time.
    public static let maxOutputs = 4096
    public static let maxProofBytes = 256
    public static let maxLineBytes = 1 << 16

    /// Schema version: 1 (top-k `ActivationProof`) or 2 (`GroupMaxProof`).
    public var version: Int64
    /// CID of the model manifest.
    public var model: String
    /// Hex SHA-256 of the input's Float32 little-endian bytes.
    public var inputDigest: String
    /// The logits.
    public var output: [Float]
    /// argmax of the output.
    public var label: Int
    /// The activation proof's wire bytes (decoded against the model's layer width when verified).
    public var proof: [UInt8]
    public var mode: InferenceMode
    /// The device's libp2p peer id (it inlines the Ed25519 key).
    public var device: String
    /// Milliseconds since the Unix epoch.
    public var timestamp: Int64
    /// 16 random bytes, hex; (device, nonce) must be unique.
    public var nonce: String
    public var signature: [UInt8]

    /// The digest of an input vector as receipts carry it.
    public static func digest(of input: UnsafeBufferPointer<Float>) -> String {
        var h = SHA256()
        for v in input { withUnsafeBytes(of: v.bitPattern.littleEndian) { h.update(bufferPointer: $0) } }
        return Multibase.hex(Array(h.finalize()))
    }

    /// The JSON object without the signature (what is signed).
    func unsignedObject() -> [String: JSONValue] {
        [
            "v": .integer(version),
            "model": .string(model),
            "input": .string(inputDigest),
            "output": .array(output.map { .string(String($0)) }),
            "label": .integer(Int64(label)),
            "proof": .string(Data(proof).base64EncodedString()),
            "mode": .string(mode.rawValue),
            "device": .string(device),
            "timestamp": .integer(timestamp),
            "nonce": .string(nonce),
        ]
    }

    /// The bytes the signature covers.
    public var signedBytes: [UInt8] { CanonicalJSON.encode(.object(unsignedObject())) }

    /// The receipt as one canonical JSON line (no newline).
    public var jsonLine: String {
        var o = unsignedObject()
        o["signature"] = .string(Data(signature).base64EncodedString())
        return String(decoding: CanonicalJSON.encode(.object(o)), as: UTF8.self)
    }

    /// Signs the receipt with the device identity (sets `device` and `signature`).
    public mutating func sign(with identity: Identity) throws {
        device = identity.peerID.description
        signature = try identity.sign(signedBytes)
    }

    /// Checks the signature against the key inlined in `device`.
    public var hasValidSignature: Bool {
        guard let peer = try? PeerID(device), let key = peer.publicKey else { return false }
        return key.verify(signature: signature, for: signedBytes)
    }

    public init(model: String, inputDigest: String, output: [Float], label: Int, proof: [UInt8],
                mode: InferenceMode, device: String, timestamp: Int64, nonce: String, signature: [UInt8] = [],
                version: Int64 = Receipt.version) {
        self.version = version
        self.model = model
        self.inputDigest = inputDigest
        self.output = output
        self.label = label
        self.proof = proof
        self.mode = mode
        self.device = device
        self.timestamp = timestamp
        self.nonce = nonce
        self.signature = signature
    }

    /// Parses one JSON line, checking every field's presence, type and bounds (not the signature).
    public init(jsonLine line: String) throws(RejectionReason) {
        let bytes = Array(line.utf8)
        guard bytes.count <= Self.maxLineBytes else { throw .malformed("receipt is \(bytes.count) bytes, more than \(Self.maxLineBytes)") }
        let value: JSONValue
        do {
            value = try CanonicalJSON.parse(bytes)
        } catch {
            throw .malformed("\(error)")
        }
        guard case .object(let o) = value else { throw .malformed("not a JSON object") }
        let known: Set<String> = ["v", "model", "input", "output", "label", "proof", "mode", "device", "timestamp", "nonce", "signature"]
        if let extra = o.keys.first(where: { !known.contains($0) }) { throw .malformed("unknown field '\(extra)'") }
        func string(_ k: String) throws(RejectionReason) -> String {
            guard case .string(let s)? = o[k] else { throw .malformed("field '\(k)' missing or not a string") }
            return s
        }
        func integer(_ k: String) throws(RejectionReason) -> Int64 {
            guard case .integer(let i)? = o[k] else { throw .malformed("field '\(k)' missing or not an integer") }
            return i
        }
        let v = try integer("v")
        guard Self.supportedVersions.contains(v) else { throw .malformed("unsupported receipt version \(v); this build reads \(Self.supportedVersions)") }
        version = v
        model = try string("model")
        inputDigest = try string("input")
        guard inputDigest.count == 64, inputDigest.allSatisfy(\.isHexDigit) else { throw .malformed("input digest is not 64 hex digits") }
        guard case .array(let outs)? = o["output"], !outs.isEmpty, outs.count <= Self.maxOutputs else {
            throw .malformed("field 'output' missing, empty or longer than \(Self.maxOutputs)")
        }
        var output = [Float]()
        for v in outs {
            guard case .string(let s) = v, let f = Float(s), f.isFinite else { throw .malformed("output value is not a finite number string") }
            output.append(f)
        }
        self.output = output
        let label = try integer("label")
        guard label >= 0, label < output.count else { throw .malformed("label \(label) out of range") }
        self.label = Int(label)
        guard let proofData = Data(base64Encoded: try string("proof")) else { throw .malformedProof("not base64") }
        guard !proofData.isEmpty, proofData.count % 4 == 0, proofData.count <= Self.maxProofBytes else {
            throw .malformedProof("proof is \(proofData.count) bytes; expected a positive multiple of 4, at most \(Self.maxProofBytes)")
        }
        proof = [UInt8](proofData)
        guard let mode = InferenceMode(rawValue: try string("mode")) else { throw .malformed("mode must be 'fast' or 'exact'") }
        self.mode = mode
        device = try string("device")
        guard (try? PeerID(device))?.publicKey != nil else { throw .malformed("device is not an Ed25519 peer id") }
        timestamp = try integer("timestamp")
        nonce = try string("nonce")
        guard nonce.count == 32, nonce.allSatisfy(\.isHexDigit) else { throw .malformed("nonce is not 32 hex digits") }
        guard let sig = Data(base64Encoded: try string("signature")), sig.count == 64 else {
            throw .malformed("signature is not 64 base64-encoded bytes")
        }
        signature = [UInt8](sig)
    }
}

