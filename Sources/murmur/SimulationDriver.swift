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
    }

    static func run(config: SimulationConfig, out: String?, json: Bool, title: String) async throws {
        let simulation = try Simulation(config: config)
        let parameterCount = try Network.parameterCount(of: simulation.model)
        let log: (String) -> Void = json ? { line in FileHandle.standardError.write(Data((line + "\n").utf8)) } : { print($0) }
        log("murmur: \(config.clients) clients on \(simulation.train.name) (\(simulation.train.count) train / \(simulation.test.count) test samples), "
            + "\(describe(config.partition, config)) split, \(config.model.rawValue) with \(parameterCount) parameters, "
            + "\(config.strategy.rawValue), \(config.rounds) rounds, \(Int((config.fraction * Double(config.clients)).rounded())) clients per round")
        log("aggregator \(config.aggregator.rawValue)" + (config.attack.map { ", attack \($0.rawValue) by \(simulation.maliciousClients.count) malicious clients" } ?? ""))
        let result = try await simulation.run { r in
            var line = String(format: "round %3d/%d", r.round, config.rounds)
            if let a = r.accuracy, let l = r.loss { line += String(format: "  accuracy %6.2f %%  loss %.4f", a * 100, l) }
            if let f = r.federatedAccuracy { line += String(format: "  fed-acc %6.2f %%", f * 100) }
            line += String(format: "  train-loss %.4f  clients %d/%d", r.trainLoss, r.completed, r.selected)
            if r.dropped + r.stragglers > 0 { line += "  (\(r.dropped) dropped, \(r.stragglers) late)" }
            if let e = r.epsilon { line += String(format: "  ε %.3f", e) }  // DP budget spent so far
            line += String(format: "  elapsed %.2f s", r.elapsed)
            log(line)
        }
        var cid: String?
        var reportPath: String?
        if let out {
            let dir = URL(fileURLWithPath: out)
            let network = try Network(config: result.model, parameters: result.parameters)
            let metadata = [
                "strategy": config.strategy.rawValue, "rounds": String(config.rounds), "dataset": simulation.train.name,
                "seed": String(config.seed), "clients": String(config.clients),
            ]
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
                epsilon: result.history.last?.epsilon, delta: config.dp?.delta)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(s), as: UTF8.self))
        } else {
            print(String(format: "done: test accuracy %.2f %%, loss %.4f after %d rounds in %.2f s", result.final.accuracy * 100, result.final.loss, config.rounds, result.seconds))
            if let dp = config.dp, let e = result.history.last?.epsilon {
                let mode = config.secagg != nil ? "distributed (clients add the noise, SecAgg+ sums it)" : dp.mode.rawValue
                print(String(format: "privacy: (ε = %.3f, δ = %g) client-level %@ DP", e, dp.delta, mode))
            }
            if let reportPath, let cid {
                print("report: \(reportPath)")
                print("model:  \(cid) (model.json + model.safetensors in \(out ?? "."))")
            }
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
