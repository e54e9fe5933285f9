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
            Each point runs one full protocol round in memory (MurmurSecAgg), with the given share of \
            clients dropping after sharing keys (the costliest case for the server). Times are process \
            CPU time on both sides (server_wall_seconds too), so that other jobs on the machine distort \
            them little. The PRG figures compare mask expansion with the raw keystream of AES-128-CTR \
            (the default) and ChaCha20 (`ratio_vs_keystream`).

            Unless --no-reference, every point also runs Flower 1.42's SecAgg+ (SecAggPlusWorkflow + \
            secaggplus_mod, scripts/reference/flower_secagg.py, same n, d, dropout, k and t) and reports \
            `ratio_vs_flower` = Flower's server time / Murmur's (and `client_ratio_vs_flower`). A Flower \
            round over its CPU budget (--flower-budget seconds) is stopped; it still reports the server \
            CPU time Flower spent until then (`server_seconds_at_least`, a lower bound on its full \
            round), so the point gets `ratio_vs_flower_at_least`, printed "≥ N×". Without \
            --flower-budget-ratio, larger points (n, d and dropout all ≥) are then not run. With \
            --flower-budget-ratio R, each point's budget is max(--flower-budget, R × Murmur's server CPU \
            time + an allowance for Flower's clients, which spend most (58–70 %) of its CPU before its \
            server's costliest stage), `flower_budget_seconds` in the row, and every point is run.

            With --flower-bound, Flower's round is not run; instead scripts/reference/flower_unmask_bound.py \
            times Flower's own unmasking functions (Shamir combine on t real shares, key agreement, \
            pseudo_rand_gen, vector add) and multiplies by the calls its unmask stage makes for this \
            point's n, d, dropped count, k and t: `flower_server_seconds_at_least` (a lower bound on \
            Flower's server time; it leaves out its other stages and Python overhead) and \
            `ratio_vs_flower_at_least`, `flower_bound` in the row.
            """)

    @OptionGroup var options: BenchOptions

    @Option(help: "Client counts, comma-separated.")
    var clients = "100"

    @Option(help: "Update dimensions, comma-separated.")
    var dimensions = "10000,100000"

    @Option(help: "Dropout rates in percent, comma-separated.")
    var dropouts = "0,10,30"

    @Option(help: "CPU seconds (Flower's server + clients) one Flower SecAgg+ round may take; a stopped round gives only a lower bound on its server time.")
    var flowerBudget: Double = 120

    @Option(help: ArgumentHelp(
        "Give each Flower round a CPU budget of max(--flower-budget, R × Murmur's server CPU seconds + Flower's estimated client time), and run every point.",
        valueName: "R"))
    var flowerBudgetRatio: Double?

    @Flag(help: "Instead of Flower's round, a measured lower bound on its server time (its unmask stage's calls timed one by one, flower_unmask_bound.py).")
    var flowerBound = false

    func validate() throws {
        if let r = flowerBudgetRatio, !(r > 0) {
            throw ValidationError("--flower-budget-ratio takes a positive number, got \(r)")
        }
        guard flowerBudget > 0 else { throw ValidationError("--flower-budget takes a positive number of seconds, got \(flowerBudget)") }
    }

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
        var table = ["PRG             keystream GB/s   expansion GB/s   ratio"]
        let aesBest = MaskPRGBackend.best
        var prgs: [(String, MaskPRG, MaskPRGBackend)] = [("aes128-ctr", .aes128CTR, .automatic)]
        if aesBest != .library { prgs.append(("aes128-ctr-lib", .aes128CTR, .library)) }
        prgs.append(("chacha20", .chacha20, .automatic))
        for (name, prg, backend) in prgs {
            options.progress("PRG \(name)…")
            let ks = try MaskPRGBenchmark.keystreamBytesPerSecond(prg: prg, backend: backend)
            let ex = try MaskPRGBenchmark.expansionBytesPerSecond(prg: prg, backend: backend)
            prgRows.append([
                "prg": name, "backend": prg == .aes128CTR ? backend.resolvedName : "library",
                "keystream_bytes_per_second": ks, "expansion_bytes_per_second": ex, "ratio_vs_keystream": ex / ks,
            ])
            table.append(name.padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(format: "   %14.2f   %14.2f   %5.2f", ks / 1e9, ex / 1e9, ex / ks))
        }
        var rows = [[String: Any]]()
        var overBudget = [(n: Int, d: Int, p: Double)]()
        table.append("    n         d  dropout    k    t   client ms   server ms (wall)   KB sent/client   Flower server ms   ratio")
        for n in ns {
            for d in ds {
                for p in drops {
                    options.progress("round n=\(n) d=\(d) dropout \(Int(p * 100)) %…")
                    let r = try SecAggBenchmark.run(clients: n, dimension: d, dropoutRate: p)
                    var row: [String: Any] = [
                        "clients": n, "dimension": d, "dropout": p, "degree": r.degree, "threshold": r.threshold,
                        "client_seconds_mean": r.clientSecondsMean, "client_seconds_max": r.clientSecondsMax,
                        "server_seconds": r.serverSeconds, "server_wall_seconds": r.serverWallSeconds,
                        "bytes_sent_per_client": r.bytesSentPerClient, "clock": "process CPU time",
                    ]
                    var flowerCell = "                 —        —"
                    let point = FlowerSecAggPoint(
                        clients: n, dimension: d, degree: r.degree, threshold: r.threshold,
                        murmurServerSeconds: r.serverSeconds, murmurClientSecondsMean: r.clientSecondsMean)
                    if flowerBound {
                        options.progress("  Flower unmask-stage bound n=\(n) d=\(d) dropout \(Int(p * 100)) %…")
                        let f = try options.reference("flower_unmask_bound.py", [
                            "--clients", String(n), "--dimension", String(d), "--dropout", String(p),
                            "--shares", String(r.degree), "--threshold", String(r.threshold),
                        ])
                        row["flower_bound"] = f
                        if let b = point.bound(f) {
                            row.merge(b.fields) { _, new in new }
                            flowerCell = b.cell
                        }
                    } else if !options.noReference {
                        if flowerBudgetRatio == nil, overBudget.contains(where: { n >= $0.n && d >= $0.d && p >= $0.p }) {
                            row["flower"] = ["skipped": "over budget (a smaller point already was)"]
                            flowerCell = "  skipped (budget)        —"
                        } else {
                            let budget = point.budget(floor: flowerBudget, ratio: flowerBudgetRatio)
                            row["flower_budget_seconds"] = budget
                            if flowerBudgetRatio != nil { row["flower_client_allowance_seconds"] = point.flowerClientAllowance }
                            options.progress("  Flower SecAgg+ n=\(n) d=\(d) dropout \(Int(p * 100)) %, budget \(Int(budget)) CPU s…")
                            let f = try options.reference("flower_secagg.py", [
                                "--clients", String(n), "--dimension", String(d), "--dropout", String(p),
                                "--shares", String(r.degree), "--threshold", String(r.threshold),
                                "--budget", String(budget),
                            ])
                            row["flower"] = f
                            let c = point.compare(f)
                            row.merge(c.fields) { _, new in new }
                            flowerCell = c.cell
                            if !c.finished { overBudget.append((n, d, p)) }
                        }
                    }
                    rows.append(row)
                    let line = String(format: "%5d  %8d  %6.0f %%  %3d  %3d   %9.1f   %9.1f (%7.1f)   %14.1f", n, d, p * 100, r.degree, r.threshold,
                                      r.clientSecondsMean * 1000, r.serverSeconds * 1000, r.serverWallSeconds * 1000,
                                      r.bytesSentPerClient / 1000) + flowerCell
                    table.append(line)
                    options.progress(line)  // long grids: every finished point is visible at once
                }
            }
        }
        let ratio = (prgRows.first?["ratio_vs_keystream"] as? Double) ?? 0
        var object: [String: Any] = ["benchmark": "secagg", "prg": prgRows, "rounds": rows, "ratio_vs_keystream": ratio]
        let flowerRatios = rows.compactMap { $0["ratio_vs_flower"] as? Double }
        if !flowerRatios.isEmpty {
            object["ratio_vs_flower"] = geometricMean(flowerRatios)
            object["ratio_vs_flower_min"] = flowerRatios.min()
        }
        let bounds = rows.compactMap { $0["ratio_vs_flower_at_least"] as? Double }
        if !bounds.isEmpty {
            // Points Flower did not finish: only lower bounds, kept apart from the measured ratios.
            object["ratio_vs_flower_at_least_min"] = bounds.min()
        }
        try options.emit(object, table: table)
    }
}

extension MaskPRGBackend {
    /// The backend `.automatic` stands for on this CPU, as printed in the PRG rows.
    var resolvedName: String { self == .automatic ? MaskPRGBackend.best.rawValue : rawValue }
}
