import Foundation
import MurmurCore
import MurmurFL
import MurmurML

/// Where an aggregator's federation stands: the last completed round and the global model after it.
/// Why: kept in `node.sqlite` after every round, so an aggregator killed mid-round (SIGKILL, power
/// loss) restarts at the interrupted round and retries it from the same model (issue 11, item 6).
public struct AggregatorProgress: Codable, Sendable, Equatable {
    /// Fingerprint of the federation's settings (`AggregatorProgress.fingerprint(of:)`); progress
    /// of another federation in the same data folder is ignored.
    public var federation: String
    /// The last round whose model was stored (0 = none yet).
    public var round: Int
    /// The CID of the model after `round` (its manifest and weights are in the block index).
    public var model: String

    /// A progress record.
    public init(federation: String, round: Int, model: String) {
        self.federation = federation; self.round = round; self.model = model
    }

    /// The CID of the federation settings' JSON with sorted keys: equal settings, equal fingerprint.
    public static func fingerprint(of config: SimulationConfig) throws(NodeError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return CID.raw(Array(try encoder.encode(config))).description } catch {
            throw .storage("encoding the federation settings: \(error)")
        }
    }
}

extension NodeStore {
    static let aggregatorProgressKey = "federation.progress"

    /// The aggregator's stored progress, or nil before its first completed round.
    public func aggregatorProgress() throws(NodeError) -> AggregatorProgress? {
        guard let text = try metadata(Self.aggregatorProgressKey) else { return nil }
        do { return try JSONDecoder().decode(AggregatorProgress.self, from: Data(text.utf8)) } catch {
            throw .storage("the stored federation progress is not readable: \(error)")
        }
    }

    /// Stores `model` (after `round` of the federation `federation`) in the block index, then the
    /// progress pointing at it; returns the model's CID. The model is written first, so a crash
    /// between the two writes leaves the previous progress (and that round is simply retried).
    @discardableResult
    public func saveAggregatorProgress(federation: String, round: Int, model: ModelArtifact) throws(NodeError) -> CID {
        let cid = try putModel(model)
        let body: String
        do {
            body = String(decoding: try JSONEncoder().encode(AggregatorProgress(federation: federation, round: round, model: cid.description)), as: UTF8.self)
        } catch { throw .storage("encoding the federation progress: \(error)") }
        try setMetadata(Self.aggregatorProgressKey, body)
        return cid
    }

    /// The parameters of the stored model `cid`, checked against the manifest's weights CID.
    public func modelParameters(_ cid: String) throws(NodeError) -> [Float] {
        guard let (manifest, weights) = try model(cid) else { throw .storage("the model \(cid) of the stored progress is missing from the block index") }
        guard CID.raw(weights) == manifest.weights else { throw .storage("the weights of model \(cid) do not match its manifest") }
        do { return try Network(config: manifest.config, safetensors: weights).parameters } catch {
            throw .storage("the weights of model \(cid) do not load: \(error)")
        }
    }
}
