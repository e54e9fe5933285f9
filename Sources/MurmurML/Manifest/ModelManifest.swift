import Foundation
import MurmurCore

/// A model's identity card: the architecture, the tensors and the CID of the safetensors blob that
/// holds their values. Serialised as canonical JSON; the model's identity is the manifest's CID
/// (CIDv1, codec json, sha2-256), so two peers agree on "which model" by comparing one string.
public struct ModelManifest: Codable, Sendable, Equatable {
    /// One named tensor in the blob.
    public struct TensorEntry: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
    }

    /// Schema version of this manifest.
    public var format: String
    public var config: ModelConfig
    public var parameterCount: Int
    public var tensors: [TensorEntry]
    /// CID (codec raw) of the safetensors file.
    public var weights: CID
    /// Free-form provenance (strategy, rounds, data set, seed), strings only.
    public var metadata: [String: String]

    public static let currentFormat = "murmur-model/1"

    /// The manifest of `network` whose safetensors bytes are `blob`.
    public init(network: Network, blob: [UInt8], metadata: [String: String] = [:]) {
        format = Self.currentFormat
        config = network.config
        parameterCount = network.parameterCount
        tensors = network.parameterLayout.map { TensorEntry(name: $0.name, shape: $0.shape) }
        weights = CID.raw(blob)
        self.metadata = metadata
    }

    /// The canonical JSON bytes (what the CID is computed over).
    public func canonicalBytes() throws -> [UInt8] { try CanonicalJSON.encode(self) }

    /// The model's identity: CIDv1(json, sha2-256(canonical bytes)).
    public func cid() throws -> CID { CID.json(try canonicalBytes()) }
}

/// A model as files: `model.json` (the manifest) and `model.safetensors` (the weights).
public struct ModelArtifact: Sendable {
    public var manifest: ModelManifest
    public var blob: [UInt8]

    public static let manifestFile = "model.json"
    public static let weightsFile = "model.safetensors"

    /// Packs a trained network.
    public init(network: Network, metadata: [String: String] = [:]) {
        blob = network.safetensors(metadata: metadata)
        manifest = ModelManifest(network: network, blob: blob, metadata: metadata)
    }

    /// Writes both files into `directory` (created if needed); returns the model CID.
    @discardableResult
    public func write(to directory: URL) throws -> CID {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let json = try manifest.canonicalBytes()
        try Data(json).write(to: directory.appendingPathComponent(Self.manifestFile), options: .atomic)
        try Data(blob).write(to: directory.appendingPathComponent(Self.weightsFile), options: .atomic)
        return CID.json(json)
    }

    /// Reads a model folder and checks that the weights match the manifest's CID and layout.
    public static func read(from directory: URL) throws -> (artifact: ModelArtifact, network: Network) {
        let mURL = directory.appendingPathComponent(manifestFile)
        let wURL = directory.appendingPathComponent(weightsFile)
        guard let json = FileManager.default.contents(atPath: mURL.path) else {
            throw ManifestError.missingFile(mURL.path)
        }
        guard let blob = FileManager.default.contents(atPath: wURL.path) else {
            throw ManifestError.missingFile(wURL.path)
        }
        let manifest: ModelManifest
        do {
            manifest = try JSONDecoder().decode(ModelManifest.self, from: json)
        } catch {
            throw ManifestError.invalidManifest("\(mURL.path): \(error)")
        }
        guard manifest.format == ModelManifest.currentFormat else {
            throw ManifestError.invalidManifest("unsupported format '\(manifest.format)', expected '\(ModelManifest.currentFormat)'")
        }
        let bytes = [UInt8](blob)
        guard CID.raw(bytes) == manifest.weights else {
            throw ManifestError.weightsMismatch(expected: manifest.weights.description, actual: CID.raw(bytes).description)
        }
        let network = try Network(config: manifest.config, safetensors: bytes)
        var artifact = ModelArtifact(manifest: manifest, blob: bytes)
        artifact.manifest = manifest
        return (artifact, network)
    }

    init(manifest: ModelManifest, blob: [UInt8]) {
        self.manifest = manifest
        self.blob = blob
    }
}

/// Problems reading a model folder.
public enum ManifestError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case invalidManifest(String)
    case weightsMismatch(expected: String, actual: String)

    public var description: String {
        switch self {
        case .missingFile(let p): return "model file not found: \(p) (a model folder holds model.json and model.safetensors, as `murmur simulate --out DIR` writes them)"
        case .invalidManifest(let m): return "invalid model manifest: \(m)"
        case let .weightsMismatch(e, a): return "model.safetensors does not match its manifest: expected CID \(e), file has \(a)"
        }
    }
}
