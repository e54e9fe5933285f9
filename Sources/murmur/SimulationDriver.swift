import Foundation
import MurmurFL
import MurmurML

/// Runs a simulation for the CLI: progress lines, summary, report folder and `--json` output.
enum SimulationDriver {
    struct JSONSummary: Encodable {
        var accuracy: Double
        var loss: Double
        var rounds: Int
        var clients: Int
        var seconds: Double
        var strategy: String
        var model: String
        var dataset: String
        var seed: UInt64
        var parameters: Int
        var train_samples: Int
        var test_samples: Int
        var model_cid: String?
        var report: String?
        var history: [RoundRecord]
        // Differential privacy (absent when --dp is off): ε spent after the last round, at δ.
        var epsilon: Double?
        var delta: Double?
        // Robust aggregation: the aggregator always; the attack, its malicious share and (for the
        // backdoor) the trigger's success rate on the final model only when an attack ran.
        var aggregator: String
        var attack: String?
        var malicious: Double?
        var malicious_clients: Int?
        var backdoor_success: Double?
        // Contribution scoring (absent without --scoring): totals over the run, best first.
        var contributors: [ContributorJSON]?
        // The ledger (absent without --ledger).
        var ledger: LedgerJSON?
    }

    struct LedgerJSON: Encodable {
        var path: String
        var records: Int
        var state_digest: String
        var credits_paid: Int
        var model: String?
        var checkpoint: String
    }

    struct ContributorJSON: Encodable {
        var client: Int
        var role: String
        var rounds: Int
        var samples: Int
        var score: Double
        var mean_rank: Double
    }

    /// The model artifact's metadata after `round` rounds (the ledger's per-round model CIDs and
    /// the final `--out` model share it, so the last model-version record names the printed CID).
    static func metadata(_ config: SimulationConfig, dataset: String, round: Int) -> [String: String] {
        config.modelMetadata(dataset: dataset, round: round)
    }

    static func run(config: SimulationConfig, out: String?, json: Bool, title: String, ledger ledgerPath: String? = nil) async throws {
        let simulation = try Simulation(config: config)
        let ledger = try ledgerPath.map {
            try SimulationLedger(path: $0, config: config, simulation: simulation)
        }
        let parameterCount = try Network.parameterCount(of: simulation.model)
        let log: (String) -> Void = json ? { line in FileHandle.standardError.write(Data((line + "\n").utf8)) } : { print($0) }
        log("murmur: \(config.clients) clients on \(simulation.train.name) (\(simulation.train.count) train / \(simulation.test.count) test samples), "
            + "\(describe(config.partition, config)) split, \(config.model.rawValue) with \(parameterCount) parameters, "
            + "\(config.strategy.rawValue), \(config.rounds) rounds, \(Int((config.fraction * Double(config.clients)).rounded())) clients per round")
        log("aggregator \(config.aggregator.rawValue)" + (config.attack.map { ", attack \($0.rawValue) by \(simulation.maliciousClients.count) malicious clients" } ?? "")
            + (config.freeRiders > 0 ? ", \(simulation.freeRidingClients.count) free-riders" : ""))
        if let scoring = config.scoring {
            log("scoring \(scoring.method.rawValue)" + (simulation.validation.map { " on \($0.count) validation samples (\(scoring.utility.rawValue) utility) carved from the test split" } ?? ""))
        }
        let result = try await simulation.run(progress: { r in
            var line = String(format: "round %3d/%d", r.round, config.rounds)
            if let a = r.accuracy, let l = r.loss { line += String(format: "  accuracy %6.2f %%  loss %.4f", a * 100, l) }
            if let f = r.federatedAccuracy { line += String(format: "  fed-acc %6.2f %%", f * 100) }
            line += String(format: "  train-loss %.4f  clients %d/%d", r.trainLoss, r.completed, r.selected)
            if r.dropped + r.stragglers > 0 { line += "  (\(r.dropped) dropped, \(r.stragglers) late)" }
            if let e = r.epsilon { line += String(format: "  ε %.3f", e) }  // DP budget spent so far
            line += String(format: "  elapsed %.2f s", r.elapsed)
            log(line)
        }, afterRound: { r, parameters in try ledger?.record(r, parameters: parameters) })
        var cid: String?
        var reportPath: String?
        if let out {
            let dir = URL(fileURLWithPath: out)
            let network = try Network(config: result.model, parameters: result.parameters)
            let metadata = Self.metadata(config, dataset: simulation.train.name, round: config.rounds)
            cid = try ModelArtifact(network: network, metadata: metadata).write(to: dir).description
            let summary: [(String, String)] = [
                ("data set", "\(simulation.train.name): \(result.trainSamples) train / \(result.testSamples) test"),
                ("clients", "\(config.clients), \(describe(config.partition, config)), fraction \(config.fraction) per round"),
                ("model", "\(config.model.rawValue), \(parameterCount) parameters"),
                ("strategy", config.strategy.rawValue),
                ("local training", "\(config.localEpochs) epochs, batch \(config.batchSize), lr \(config.learningRate), momentum \(config.momentum)"),
                ("rounds", String(config.rounds)),
                ("final test accuracy", String(format: "%.2f %%", result.final.accuracy * 100)),
                ("final test loss", String(format: "%.4f", result.final.loss)),
                ("wall time", String(format: "%.2f s", result.seconds)),
                ("model CID", cid ?? ""),
                ("seed", String(config.seed)),
            ]
            let html = SimulationReport.html(title: title, summary: summary, history: result.history)
            let page = dir.appendingPathComponent("index.html")
            try Data(html.utf8).write(to: page, options: .atomic)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result.history).write(to: dir.appendingPathComponent("history.json"), options: .atomic)
            reportPath = page.path
        }
        if json {
            let s = JSONSummary(
                accuracy: result.final.accuracy, loss: result.final.loss, rounds: config.rounds, clients: config.clients,
                seconds: result.seconds, strategy: config.strategy.rawValue, model: config.model.rawValue,
                dataset: simulation.train.name, seed: config.seed, parameters: parameterCount,
                train_samples: result.trainSamples, test_samples: result.testSamples, model_cid: cid, report: reportPath,
                history: result.history,
                epsilon: result.history.last?.epsilon, delta: config.dp?.delta,
                aggregator: config.aggregator.rawValue, attack: config.attack?.rawValue,
                malicious: config.attack == nil ? nil : config.malicious,
                malicious_clients: config.attack == nil ? nil : simulation.maliciousClients.count,
                backdoor_success: config.attack == .backdoor ? try simulation.backdoorSuccessRate(result.parameters) : nil,
                contributors: config.scoring == nil ? nil : ContributorTotal.summarize(result.history).map {
                    ContributorJSON(client: $0.client, role: role($0.client, simulation), rounds: $0.rounds, samples: $0.samples, score: $0.score, mean_rank: $0.meanRank)
                },
                ledger: try ledger.map {
                    LedgerJSON(path: $0.writer.directory.path, records: $0.writer.state.entries, state_digest: try $0.writer.state.digest(),
                               credits_paid: $0.writer.state.minted, model: $0.writer.state.model, checkpoint: try $0.writer.latestCheckpoint())
                })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(s), as: UTF8.self))
        } else {
            print(String(format: "done: test accuracy %.2f %%, loss %.4f after %d rounds in %.2f s", result.final.accuracy * 100, result.final.loss, config.rounds, result.seconds))
            if let dp = config.dp, let e = result.history.last?.epsilon {
                let mode = config.secagg != nil ? "distributed (clients add the noise, SecAgg+ sums it)" : dp.mode.rawValue
                print(String(format: "privacy: (ε = %.3f, δ = %g) client-level %@ DP", e, dp.delta, mode))
            }
            if let scoring = config.scoring { printContributors(result.history, method: scoring.method, simulation: simulation) }
            if let ledger { print(try ledger.summary()) }
            if let reportPath, let cid {
                print("report: \(reportPath)")
                print("model:  \(cid) (model.json + model.safetensors in \(out ?? "."))")
            }
        }
    }

    /// What a simulated client is: honest, free-rider, or the attack it plays.
    static func role(_ client: Int, _ simulation: Simulation) -> String {
        if simulation.freeRidingClients.contains(client) { return "free-rider" }
        if let attack = simulation.config.attack, simulation.maliciousClients.contains(client) { return attack.rawValue }
        return "honest"
    }

    /// The top contributors of the run, and each role's mean rank when there are attackers.
    static func printContributors(_ history: [RoundRecord], method: ContributionMethod, simulation: Simulation) {
        let totals = ContributorTotal.summarize(history)
        guard !totals.isEmpty else { return }
        print("top contributors (\(method.rawValue), score summed over rounds; mean rank 1 = best of its round):")
        print("  client  role         rounds  samples        score  mean rank")
        for t in totals.prefix(10) {
            let r = role(t.client, simulation).padding(toLength: 11, withPad: " ", startingAt: 0)
            print(String(format: "  %6d  ", t.client) + r + String(format: "  %6d  %7d  %11.5f  %9.2f", t.rounds, t.samples, t.score, t.meanRank))
        }
        var byRole = [String: [Double]]()
        for t in totals { byRole[role(t.client, simulation), default: []].append(t.meanRank) }
        if byRole.count > 1 {
            let parts = byRole.keys.sorted().map { r in String(format: "%@ %.2f (%d)", r, byRole[r]!.reduce(0, +) / Double(byRole[r]!.count), byRole[r]!.count) }
            print("mean rank by role: " + parts.joined(separator: ", "))
        }
    }

    static func describe(_ p: PartitionKind, _ c: SimulationConfig) -> String {
        switch p {
        case .iid: return "IID"
        case .dirichlet: return "Dirichlet(α = \(c.alpha))"
        case .shards: return "\(c.shardsPerClient) shards per client"
        case .column: return "natural (by column)"
        }
    }
}
