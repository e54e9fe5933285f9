import ArgumentParser
import Foundation
import MurmurML
import MurmurTensor

/// `murmur bench train`: local training samples/s of the MLP and CNN vs PyTorch eager (CPU).
struct BenchTrain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Local training samples/s (MLP and CNN on digits-sized data) vs PyTorch eager on the CPU.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Models to measure: mlp, cnn or both, comma-separated.")
    var models = "mlp,cnn"

    @Option(help: "Thread counts, comma-separated.")
    var threads = "1,2"

    @Option(help: "Minibatch size.")
    var batchSize = 32

    @Option(help: "Seconds of measurement per point.")
    var seconds = 2.0

    func run() async throws {
        let ts = try parseList(threads, flag: "--threads")
        let names = models.split(separator: ",").map(String.init)
        var rows = [[String: Any]]()
        var ratios = [String: [Double]]()
        var table = ["model  threads   murmur samples/s   pytorch samples/s   ratio"]
        for name in names {
            let config: ModelConfig
            var refArgs = ["--model", name, "--batch-size", String(batchSize), "--seconds", String(seconds)]
            switch name {
            case "mlp":
                config = ModelConfig(architecture: .mlp(hidden: [128]), inputShape: [64], classCount: 10)
                refArgs += ["--hidden", "128"]
            case "cnn":
                config = ModelConfig(architecture: .cnn(channels: [16], hidden: 64), inputShape: [1, 8, 8], classCount: 10)
                refArgs += ["--channels", "16", "--hidden", "64"]
            default:
                throw ValidationError("--models takes mlp and/or cnn, got '\(name)'")
            }
            for t in ts {
                options.progress("murmur \(name), \(t) thread(s)…")
                GEMM.maxThreads = t
                let ours = TrainingBenchmark.samplesPerSecond(config: config, batchSize: batchSize, seconds: seconds)
                var row: [String: Any] = ["model": name, "threads": t, "batch_size": batchSize, "samples_per_second": ours]
                var line = name.padding(toLength: 5, withPad: " ", startingAt: 0) + String(format: "  %7d   %16.0f", t, ours)
                if !options.noReference {
                    options.progress("pytorch \(name), \(t) thread(s)…")
                    let ref = try options.reference("train_torch.py", refArgs + ["--threads", String(t)])
                    if let theirs = (ref["samples_per_second"] as? NSNumber)?.doubleValue, theirs > 0 {
                        row["pytorch_samples_per_second"] = theirs
                        row["ratio_vs_pytorch"] = ours / theirs
                        ratios[name, default: []].append(ours / theirs)
                        line += String(format: "   %17.0f   %5.2f", theirs, ours / theirs)
                    }
                }
                rows.append(row)
                table.append(line)
            }
        }
        GEMM.maxThreads = 2
        var object: [String: Any] = ["benchmark": "train", "results": rows]
        for (name, r) in ratios {
            object["\(name)_ratio_vs_pytorch"] = geometricMean(r)
        }
        let all = ratios.values.flatMap { $0 }
        if !all.isEmpty { object["ratio_vs_pytorch"] = geometricMean(all) }
        try options.emit(object, table: table)
    }
}
