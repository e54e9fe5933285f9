import ArgumentParser
import Foundation
import MurmurLog
import MurmurNode

/// The witness nodes of `murmur cluster --witnesses W`: their keys, URLs and addresses, and the
/// settings they give the clients and the aggregator (docs/node.md, "Checkpoints, witnesses and
/// model distribution").
struct ClusterWitnesses {
    /// The aggregator's log verifier key (created before any node starts).
    var logKey: String
    /// Each witness's cosigning key and HTTP URL.
    var witnesses: [(key: String, url: String, p2p: String)]
    /// Cosignatures required.
    var quorum: Int

    /// Clients trust the aggregator's log and the witnesses' keys.
    func configureClient(_ c: inout NodeConfig) {
        c.federationLog = logKey
        c.witnesses = witnesses.map(\.key)
        c.witnessQuorum = quorum
    }

    /// The aggregator submits its checkpoints to every witness and gossips with them.
    func configureAggregator(_ c: inout NodeConfig) {
        c.witnesses = witnesses.map { "\($0.key) \($0.url)" }
        c.witnessQuorum = quorum
        c.bootstrap += witnesses.map(\.p2p)
    }

    /// Cosignature lines on a checkpoint note: every signature line after the log's own.
    static func cosignatureCount(_ note: String) -> Int {
        max(0, note.split(separator: "\n").filter { $0.hasPrefix("— ") }.count - 1)
    }
}

extension Cluster {
    /// Creates the aggregator's log key and W witness folders, starts the witness nodes and returns
    /// their settings; nil with `--witnesses 0`.
    func startWitnesses(base: String, aggregatorID: String, processes: ChildProcesses) throws -> ClusterWitnesses? {
        guard witnesses > 0 else { return nil }
        let origin = "murmur.node/\(aggregatorID.prefix(16))"
        let logKey = try NodeKeys.logSigner(at: base + "/aggregator/log.key", origin: origin).verifierKey.description
        var list: [(key: String, url: String, p2p: String)] = []
        for j in 0..<witnesses {
            let dir = base + "/witness-\(j)"
            let id = try NodeKeys.identity(at: dir + "/identity.key").identity.peerID
            var c = NodeConfig()
            c.roles = [.witness]
            c.dataDir = dir
            c.witnessLogs = [logKey]
            c.federationLog = logKey
            let wdir = try WitnessDirectory.create(path: c.witnessPath, name: "murmur.witness/\(id.description.prefix(16))")
            let key = try wdir.verifierKey().description
            let child = try processes.start(name: "witness \(j)", config: c, file: base + "/witness-\(j).json")
            let p2p = try child.waitForLine(prefix: "p2p ", seconds: 60)
            let url = try child.waitForLine(prefix: "http ", seconds: 60)
            list.append((key, url, p2p))
        }
        let quorum = witnessQuorum ?? witnesses / 2 + 1
        progress("\(witnesses) witness node(s) up; checkpoints need \(quorum) cosignature(s)")
        return ClusterWitnesses(logKey: logKey, witnesses: list, quorum: quorum)
    }
}
