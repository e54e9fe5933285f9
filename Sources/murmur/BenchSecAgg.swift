import ArgumentParser
import Foundation
import MurmurSecAgg

/// `murmur bench secagg`: SecAgg+ client and server compute and bytes per client over a grid of
/// n, d and dropout, and mask expansion against the PRG's keystream limit in the same run.
struct BenchSecAgg: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secagg",
        abstract: "SecAgg+ client/server time and bytes per client over n × d × dropout; mask expansion vs keystream.",
        discussion: """
            Each point runs one full protocol round in memory (MurmurSecAgg), with the given share
            of clients dropping after sharing keys (the costliest case for the server). The PRG
            figures compare mask expansion with the raw keystream of AES-128-CTR (the default) and
            ChaCha20 (`ratio_vs_keystream`). The Flower SecAgg+ comparison is not wired in yet.
            """)

    @OptionGroup var options: BenchOptions

    @Option(help: "Client counts, comma-separated.")
    var clients = "100"

    @Option(help: "Update dimensions, comma-separated.")
    var dimensions = "10000,100000"

    @Option(help: "Dropout rates in percent, comma-separated.")
    var dropouts = "0,10,30"

    func run() async throws {
        let ns = try parseList(clients, flag: "--clients")
        let ds = try parseList(dimensions, flag: "--dimensions")
        let drops = try dropouts.split(separator: ",").map { s -> Double in
            guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v >= 0, v < 100 else {
                throw ValidationError("--dropouts takes percentages in [0, 100), got '\(s)'")
            }
            return v / 100
        }
        var prgRows = [[String: Any]]()
        var table = ["PRG         keystream GB/s   expansion GB/s   ratio"]
        for (name, prg) in [("aes128-ctr", MaskPRG.aes128CTR), ("chacha20", MaskPRG.chacha20)] {
            options.progress("PRG \(name)…")
            let ks = try MaskPRGBenchmark.keystreamBytesPerSecond(prg: prg)
            let ex = try MaskPRGBenchmark.expansionBytesPerSecond(prg: prg)
            prgRows.append(["prg": name, "keystream_bytes_per_second": ks, "expansion_bytes_per_second": ex, "ratio_vs_keystream": ex / ks])
            table.append(name.padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(format: "   %14.2f   %14.2f   %5.2f", ks / 1e9, ex / 1e9, ex / ks))
        }
        var rows = [[String: Any]]()
        table.append("    n         d  dropout    k    t   client ms   server ms   KB sent/client")
        for n in ns {
            for d in ds {
                for p in drops {
                    options.progress("round n=\(n) d=\(d) dropout \(Int(p * 100)) %…")
                    let r = try SecAggBenchmark.run(clients: n, dimension: d, dropoutRate: p)
                    rows.append([
                        "clients": n, "dimension": d, "dropout": p, "degree": r.degree, "threshold": r.threshold,
                        "client_seconds_mean": r.clientSecondsMean, "client_seconds_max": r.clientSecondsMax,
                        "server_seconds": r.serverSeconds, "bytes_sent_per_client": r.bytesSentPerClient,
                    ])
                    table.append(String(format: "%5d  %8d  %6.0f %%  %3d  %3d   %9.1f   %9.1f   %14.1f", n, d, p * 100, r.degree, r.threshold,
                                        r.clientSecondsMean * 1000, r.serverSeconds * 1000, r.bytesSentPerClient / 1000))
                }
            }
        }
        let ratio = (prgRows.first?["ratio_vs_keystream"] as? Double) ?? 0
        try options.emit(["benchmark": "secagg", "prg": prgRows, "rounds": rows, "ratio_vs_keystream": ratio], table: table)
    }
}
