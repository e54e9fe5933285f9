import Foundation
import MurmurLog

/// Who a node trusts for model transparency: the federation log's key, the witnesses (keys, and for
/// the aggregator their tlog-witness URLs) and how many of them must cosign a checkpoint.
/// Why: a client accepts a model only from a checkpoint signed by the log and cosigned by `quorum`
/// of these witnesses (c2sp.org/tlog-cosignature); the aggregator asks exactly these witnesses.
public struct TransparencySettings: Sendable {
    /// A witness: its cosigning key (type 0x04) and, where the node submits checkpoints, its URL.
    public struct WitnessEndpoint: Sendable {
        /// The witness's verifier key (`name+hex+base64`, as `/v1/status` shows under `witness_key`).
        public var key: VerifierKey
        /// Its c2sp.org/tlog-witness prefix (the node's HTTP URL), or nil where only the key is needed.
        public var url: URL?

        /// A witness from its key and optional URL.
        public init(key: VerifierKey, url: URL? = nil) { self.key = key; self.url = url }

        /// Parses `KEY` or `KEY URL` (one space), the form of the `witnesses` setting.
        public init(parsing text: String) throws(TransparencyError) {
            let parts = text.split(separator: " ", omittingEmptySubsequences: true)
            guard (1...2).contains(parts.count) else { throw .invalidSetting("witness '\(text.prefix(60))' must be 'KEY' or 'KEY URL'") }
            do { key = try VerifierKey(parts[0]) } catch { throw .invalidSetting("witness key '\(parts[0].prefix(60))': \(error)") }
            guard key.type == .cosignatureV1 else { throw .invalidSetting("witness key '\(key.name)' is not a cosignature/v1 key (type 0x04)") }
            if parts.count == 2 {
                guard let u = URL(string: String(parts[1])), u.scheme == "http" || u.scheme == "https" else {
                    throw .invalidSetting("witness URL '\(parts[1])' is not an http(s) URL")
                }
                url = u
            } else {
                url = nil
            }
        }
    }

    /// The federation log's verifier key (the aggregator's `log.verifier_key`); nil on the aggregator
    /// itself, which uses its own log.
    public var logKey: VerifierKey?
    /// The witnesses.
    public var witnesses: [WitnessEndpoint]
    /// Distinct witness cosignatures required, 0…witnesses.count.
    public var quorum: Int

    /// Settings from their parts; `quorum` nil means every witness.
    public init(logKey: VerifierKey?, witnesses: [WitnessEndpoint], quorum: Int? = nil) throws(TransparencyError) {
        let q = quorum ?? witnesses.count
        guard (0...witnesses.count).contains(q) else {
            throw .invalidSetting("witness_quorum \(q) must be between 0 and the \(witnesses.count) witnesses named")
        }
        self.logKey = logKey
        self.witnesses = witnesses
        self.quorum = q
    }

    /// The settings in `config` (`federation_log`, `witnesses`, `witness_quorum`), or nil when none is set.
    public static func from(_ config: NodeConfig) throws(TransparencyError) -> TransparencySettings? {
        guard config.federationLog != nil || !config.witnesses.isEmpty || config.witnessQuorum != nil else { return nil }
        var logKey: VerifierKey?
        if let k = config.federationLog {
            do { logKey = try VerifierKey(k) } catch { throw .invalidSetting("federation_log '\(k.prefix(60))': \(error)") }
        }
        var witnesses = [WitnessEndpoint]()
        for w in config.witnesses { witnesses.append(try WitnessEndpoint(parsing: w)) }
        return try TransparencySettings(logKey: logKey, witnesses: witnesses, quorum: config.witnessQuorum)
    }

    /// The client's acceptance policy for `logKey`.
    func policy(for logKey: VerifierKey) throws(ModelRefusal) -> WitnessPolicy {
        do { return try WitnessPolicy(logKey: logKey, witnesses: witnesses.map(\.key), quorum: quorum) } catch {
            throw .checkpointRejected("\(error)")
        }
    }
}

/// Why the aggregator could not publish a model version.
public enum TransparencyError: Error, Equatable, CustomStringConvertible {
    /// A transparency setting is malformed.
    case invalidSetting(String)
    /// Fewer witnesses than the quorum cosigned the checkpoint.
    case quorumNotReached(cosigned: Int, quorum: Int, failures: [String])
    /// The node log or block index failed.
    case storage(String)

    public var description: String {
        switch self {
        case .invalidSetting(let m): return "transparency: \(m)"
        case let .quorumNotReached(c, q, f):
            return "only \(c) of the \(q) required witnesses cosigned the checkpoint (\(f.joined(separator: "; "))); check that the witness nodes run and follow this log (witness_logs)"
        case .storage(let m): return "transparency: \(m)"
        }
    }
}

/// Why a client refused a model: the typed refusal of issue 11 ("a client accepts a model only when its
/// version is in a checkpoint with enough witness cosignatures").
public enum ModelRefusal: Error, Equatable, CustomStringConvertible {
    /// The node holds split-view evidence against the log.
    case logConvicted(log: String)
    /// The checkpoint is not signed by the log or lacks the witness quorum.
    case checkpointRejected(String)
    /// The entry's inclusion proof does not lead to the checkpoint's root.
    case notInLog(String)
    /// The logged entry does not name this model, round or aggregator.
    case entryMismatch(String)
    /// The model's blocks could not be fetched or do not form the named model.
    case fetchFailed(String)
    /// A fit request whose parameters are not a model this client accepted for the round.
    case notAccepted(round: Int)
    /// The announcement itself is malformed or from someone other than the aggregator.
    case malformed(String)

    public var description: String {
        switch self {
        case .logConvicted(let l): return "model refused: the node holds split-view evidence against log '\(l)' (GET /v1/evidence)"
        case .checkpointRejected(let m): return "model refused: the checkpoint is not acceptable: \(m)"
        case .notInLog(let m): return "model refused: the model version is not in the checkpoint's tree: \(m)"
        case .entryMismatch(let m): return "model refused: the log entry does not match: \(m)"
        case .fetchFailed(let m): return "model refused: fetching the model over /murmur/blocks/1 failed: \(m)"
        case .notAccepted(let r): return "model refused: round \(r)'s parameters are not a model version this client verified in a cosigned checkpoint"
        case .malformed(let m): return "model refused: \(m)"
        }
    }
}
