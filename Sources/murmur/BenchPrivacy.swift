import ArgumentParser
import Foundation
import MurmurPrivacy

/// `murmur bench privacy`: time to account 10⁴ rounds, ours vs Google's dp-accounting.
struct BenchPrivacy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "privacy",
        abstract: "Accountant time for T = 10,000 rounds (RDP and PLD), vs dp-accounting 0.6.0 in the same run.",
        discussion: """
            Each accountant composes T rounds of the Poisson-subsampled Gaussian mechanism and
            reports ε(δ); both sides use the same settings (dp-accounting's default RDP orders,
            PLD discretization 1e-4). dp-accounting is not in .venv-bench: pass --python with the
            test venv (.venv/bin/python, created by scripts/test).
            """)

    @OptionGroup var options: BenchOptions

    @Option(help: "Rounds T to compose.")
    var rounds = 10_000

    @Option(help: "Noise multiplier σ.")
    var noiseMultiplier = 1.0

    @Option(help: "Sampling rate q.")
    var samplingRate = 0.01

    @Option(help: "δ.")
    var delta = 1e-5

    @Option(help: "Repetitions of our side (the best time counts).")
    var repeats = 3

    func run() throws {
        guard rounds >= 1, repeats >= 1 else { throw ValidationError("--rounds and --repeats must be ≥ 1") }
        let event = GaussianEvent(noiseMultiplier: noiseMultiplier, sampling: .poisson(rate: samplingRate), count: rounds)
        var object: [String: Any] = ["benchmark": "privacy", "rounds": rounds, "noise_multiplier": noiseMultiplier,
                                     "sampling_rate": samplingRate, "delta": delta]
        var table = [String(format: "T = %d rounds, σ = %g, q = %g, δ = %g", rounds, noiseMultiplier, samplingRate, delta),
                     "accountant   murmur ε     murmur s    dp-accounting ε   dp-accounting s   speed-up"]
        var ours: [AccountantKind: (eps: Double, seconds: Double)] = [:]
        for kind in AccountantKind.allCases {
            options.progress("murmur \(kind.rawValue)…")
            var best = Double.infinity, eps = 0.0
            for _ in 0..<repeats {
                let start = Date()
                var acc = kind.make()
                try acc.compose(event)
                eps = try acc.epsilon(delta: delta)
                best = min(best, Date().timeIntervalSince(start))
            }
            ours[kind] = (eps, best)
            object["\(kind.rawValue)_epsilon"] = eps
            object["\(kind.rawValue)_seconds"] = best
        }
        var theirs: [AccountantKind: (eps: Double, seconds: Double)] = [:]
        if !options.noReference {
            options.progress("dp-accounting…")
            // Each accountant `repeats` times, like our side; the best time counts.
            let kinds = AccountantKind.allCases.flatMap { [AccountantKind](repeating: $0, count: repeats) }
            let grid = kinds.map { kind -> [String: Any] in
                ["accountant": kind.rawValue, "sampling": "poisson", "noise_multiplier": noiseMultiplier,
                 "sampling_rate": samplingRate, "steps": rounds, "delta": delta]
            }
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-bench-privacy-\(UUID().uuidString).json")
            try JSONSerialization.data(withJSONObject: ["points": grid]).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            let ref = try options.reference("dp_accounting_ref.py", [url.path])
            let eps = (ref["epsilon"] as? [NSNumber])?.map(\.doubleValue) ?? []
            let secs = (ref["seconds"] as? [NSNumber])?.map(\.doubleValue) ?? []
            for (i, kind) in kinds.enumerated() where i < eps.count && i < secs.count {
                let best = min(secs[i], theirs[kind]?.seconds ?? .infinity)
                theirs[kind] = (eps[i], best)
            }
            for (kind, t) in theirs {
                object["dp_accounting_\(kind.rawValue)_epsilon"] = t.eps
                object["dp_accounting_\(kind.rawValue)_seconds"] = t.seconds
                if let o = ours[kind], o.seconds > 0 { object["ratio_vs_dp_accounting_\(kind.rawValue)"] = t.seconds / o.seconds }
            }
        }
        for kind in AccountantKind.allCases {
            guard let o = ours[kind] else { continue }
            let name = kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            if let t = theirs[kind] {
                table.append(name + String(format: " %10.6f %12.4f %17.6f %17.4f %9.1f×", o.eps, o.seconds, t.eps, t.seconds, t.seconds / o.seconds))
            } else {
                table.append(name + String(format: " %10.6f %12.4f", o.eps, o.seconds))
            }
        }
        try options.emit(object, table: table)
    }
}
