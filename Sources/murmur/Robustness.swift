import ArgumentParser
import Foundation
import MurmurFL

extension AggregatorKind: ExpressibleByArgument {}
extension AttackKind: ExpressibleByArgument {}

/// `murmur robustness`: every aggregator × attack pair on digits, written to a Markdown table
/// and a heat-map SVG.
struct Robustness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every robust aggregator against every attack on digits; write docs/robustness.md and .svg.",
        discussion: """
            Each cell is one seeded simulation with the `murmur simulate` defaults (100 clients,
            Dirichlet α = 0.5, 20 per round, MLP) and the given share of malicious clients. It
            reports the final test accuracy and, for every cell, the backdoor success rate (the
            share of triggered test digits classified as the target). The column "none" is the
            clean run. Subsets: --aggregators mean,krum --attacks none,alie --rounds 10.
            """)

    @Option(help: "Aggregators, comma-separated (default: all).")
    var aggregators: String?

    @Option(help: "Attacks, comma-separated; 'none' is the clean run (default: none and every attack).")
    var attacks: String?

    @Option(help: "Fraction of malicious clients.")
    var malicious = 0.2

    @Option(help: "Rounds per simulation.")
    var rounds = 30

    @Option(help: "First seed; each cell runs --seeds simulations (seed, seed + 1, …) and reports their mean.")
    var seed: UInt64 = 42

    @Option(help: "Simulations per cell (different seeds: data split, malicious clients, initial model).")
    var seeds = 1

    @Option(help: "Markdown output.")
    var out = "docs/robustness.md"

    @Option(help: "Heat-map SVG output.")
    var svg = "docs/robustness.svg"

    struct Cell {
        var accuracy: Double
        var backdoor: Double
        var seconds: Double
    }

    func run() async throws {
        guard rounds >= 1, seeds >= 1 else { throw ValidationError("--rounds and --seeds must be ≥ 1") }
        let aggs = try parse(aggregators, all: AggregatorKind.allCases, flag: "--aggregators")
        let attackNames = try attacks.map { try $0.split(separator: ",").map { s -> AttackKind? in
            if s == "none" { return nil }
            guard let a = AttackKind(rawValue: String(s)) else {
                throw ValidationError("--attacks: unknown '\(s)'; use none, \(AttackKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return a
        } } ?? ([nil] + AttackKind.allCases.map { Optional($0) })
        var cells = [String: Cell]()
        let total = aggs.count * attackNames.count
        var done = 0
        let start = Date()
        for agg in aggs {
            for attack in attackNames {
                let t = Date()
                var cell = Cell(accuracy: 0, backdoor: 0, seconds: 0)
                for k in 0..<seeds {
                    var c = SimulationConfig()
                    c.rounds = rounds
                    c.seed = seed + UInt64(k)
                    c.evaluateEvery = 0
                    c.aggregator = agg
                    c.attack = attack
                    c.malicious = attack == nil ? 0 : malicious
                    let sim = try Simulation(config: c)
                    let result = try await sim.run()
                    cell.accuracy += result.final.accuracy / Double(seeds)
                    cell.backdoor += try sim.backdoorSuccessRate(result.parameters) / Double(seeds)
                }
                cell.seconds = Date().timeIntervalSince(t)
                cells[key(agg, attack)] = cell
                done += 1
                let name = "\(agg.rawValue) × \(attack?.rawValue ?? "none")"
                let line = "[\(done)/\(total)] " + name.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + String(format: "accuracy %6.2f %%  backdoor %6.2f %%  (%.1f s, elapsed %.0f s)\n",
                             cell.accuracy * 100, cell.backdoor * 100, cell.seconds, Date().timeIntervalSince(start))
                FileHandle.standardOutput.write(Data(line.utf8))  // unbuffered: progress shows when piped
            }
        }
        let md = markdown(aggs, attackNames, cells, seconds: Date().timeIntervalSince(start))
        try write(md, to: out)
        try write(heatMap(aggs, attackNames, cells), to: svg)
        print("wrote \(out) and \(svg)")
    }

    func key(_ a: AggregatorKind, _ t: AttackKind?) -> String { "\(a.rawValue)|\(t?.rawValue ?? "none")" }

    func parse(_ list: String?, all: [AggregatorKind], flag: String) throws -> [AggregatorKind] {
        guard let list else { return all }
        return try list.split(separator: ",").map { s in
            guard let k = AggregatorKind(rawValue: String(s)) else {
                throw ValidationError("\(flag): unknown '\(s)'; use \(all.map(\.rawValue).joined(separator: ", "))")
            }
            return k
        }
    }

    func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    func markdown(_ aggs: [AggregatorKind], _ attacks: [AttackKind?], _ cells: [String: Cell], seconds: Double) -> String {
        let names = attacks.map { $0?.rawValue ?? "none" }
        var command = "murmur robustness --rounds \(rounds) --malicious \(malicious) --seed \(seed) --seeds \(seeds)"
        if let a = aggregators { command += " --aggregators \(a)" }
        if let t = self.attacks { command += " --attacks \(t)" }
        let header = "| aggregator | " + names.joined(separator: " | ") + " |\n|---|" + names.map { _ in "---:" }.joined(separator: "|") + "|\n"
        func row(_ a: AggregatorKind, _ value: (Cell) -> Double) -> String {
            let values: [String] = attacks.map { t in cells[key(a, t)].map { String(format: "%.1f", value($0) * 100) } ?? "" }
            return "| " + a.rawValue + " | " + values.joined(separator: " | ") + " |\n"
        }
        var s = """
            # Robustness matrix

            Generated by `\(command)` (\(String(format: "%.0f", seconds)) s, release build). Digits, 100 clients (Dirichlet α = 0.5), 20 sampled per round,
            MLP 64-128-10, FedAvg server step, \(Int(malicious * 100)) % of the clients malicious (chosen by the seed),
            aggregators assume f = ⌊0.2·20⌋ = 4 bad updates per round (trimmed mean β = 0.2). Column
            `none` is the clean run. Each cell is the mean over \(seeds) seed(s) (\(seed)…\(seed + UInt64(seeds) - 1)); the test split has 359 digits, so one seed's resolution is 0.28 points. Colluding attacks (alie, ipm, min-max, min-sum) know the round's
            honest updates (full-knowledge oracle, as in their papers). Heat map: `robustness.svg`.

            ## Final test accuracy (%)


            """
        s += header
        for a in aggs { s += row(a) { $0.accuracy } }
        s += """

            ## Backdoor success rate (%)

            Share of triggered test digits (true label ≠ 0, 2×2 bright square in the bottom-right
            corner) classified as 0. It is meaningful in the `backdoor` column; the others show
            the base rate.


            """
        s += header
        for a in aggs { s += row(a) { $0.backdoor } }
        if let clean = cells[key(.mean, nil)] {
            s += "\n## Best aggregator per attack\n\nClean accuracy (mean, no attack): \(String(format: "%.1f", clean.accuracy * 100)) %. "
            s += "The default of `murmur simulate` is `\(SimulationOptions.defaultAggregator.rawValue)`.\n\n"
            s += "| attack | best aggregator | accuracy | gap to clean |\n|---|---|---:|---:|\n"
            for t in attacks.compactMap({ $0 }) {
                let best = aggs.compactMap { a in cells[key(a, t)].map { (a, $0) } }.max { $0.1.accuracy < $1.1.accuracy }
                if let (a, c) = best {
                    s += String(format: "| %@ | %@ | %.1f | %+.1f |\n", t.rawValue, a.rawValue, c.accuracy * 100, (c.accuracy - clean.accuracy) * 100)
                }
            }
        }
        s += "\n## Worst case per aggregator\n\n| aggregator | clean | worst accuracy under attack | worst attack | backdoor success |\n|---|---:|---:|---|---:|\n"
        for a in aggs {
            let attacked = attacks.compactMap { t in t.flatMap { t in cells[key(a, t)].map { (t, $0) } } }
            guard let worst = attacked.min(by: { $0.1.accuracy < $1.1.accuracy }) else { continue }
            let clean = cells[key(a, nil)].map { String(format: "%.1f", $0.accuracy * 100) } ?? ""
            let bd = cells[key(a, .backdoor)].map { String(format: "%.1f", $0.backdoor * 100) } ?? ""
            s += "| \(a.rawValue) | \(clean) | " + String(format: "%.1f", worst.1.accuracy * 100) + " | \(worst.0.rawValue) | \(bd) |\n"
        }
        return s
    }

    func heatMap(_ aggs: [AggregatorKind], _ attacks: [AttackKind?], _ cells: [String: Cell]) -> String {
        let cw = 78, ch = 26, left = 110, top = 60
        let w = left + cw * attacks.count + 20, h = top + ch * aggs.count + 40
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"\(w)\" height=\"\(h)\" fill=\"white\"/>\n"
        s += "<text x=\"\(left)\" y=\"18\" font-size=\"14\" font-weight=\"bold\">Final test accuracy (%) on digits, \(Int(malicious * 100)) % malicious clients</text>\n"
        s += "<text x=\"\(left)\" y=\"34\" font-size=\"11\">backdoor column: accuracy / backdoor success rate (%); colour: 50 % or less red, 95 % green</text>\n"
        for (j, t) in attacks.enumerated() {
            s += "<text x=\"\(left + j * cw + cw / 2)\" y=\"\(top - 8)\" text-anchor=\"middle\">\(t?.rawValue ?? "none")</text>\n"
        }
        for (i, a) in aggs.enumerated() {
            let y = top + i * ch
            s += "<text x=\"\(left - 8)\" y=\"\(y + ch / 2 + 4)\" text-anchor=\"end\">\(a.rawValue)</text>\n"
            for (j, t) in attacks.enumerated() {
                guard let c = cells[key(a, t)] else { continue }
                // ≤ 50 % → red, 95 % → green, through yellow: the interesting range is 85–95 %.
                let v = max(0, min(1, (c.accuracy - 0.5) / 0.45))
                let r = Int(v < 0.5 ? 230 : 230 - (v - 0.5) * 2 * 180), g = Int(v < 0.5 ? 60 + v * 2 * 150 : 210), b = 70
                s += "<rect x=\"\(left + j * cw)\" y=\"\(y)\" width=\"\(cw - 2)\" height=\"\(ch - 2)\" fill=\"rgb(\(r),\(g),\(b))\"/>\n"
                var label = String(format: "%.1f", c.accuracy * 100)
                if t == .backdoor { label += String(format: " / %.0f", c.backdoor * 100) }
                s += "<text x=\"\(left + j * cw + cw / 2 - 1)\" y=\"\(y + ch / 2 + 3)\" text-anchor=\"middle\">\(label)</text>\n"
            }
        }
        s += "</svg>\n"
        return s
    }
}
