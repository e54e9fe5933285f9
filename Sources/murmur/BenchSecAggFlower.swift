import Foundation

/// One grid point's comparison with Flower 1.42's SecAgg+ (scripts/reference/flower_secagg.py):
/// the CPU budget the Flower round gets, and the ratio fields and table cell from its output.
///
/// A Flower round stopped by its budget still reports `server_seconds_at_least` (server CPU time
/// spent before the stop; server work only accumulates, so it bounds the full round's from
/// below), which gives `ratio_vs_flower_at_least` = that / Murmur's server time.
struct FlowerSecAggPoint {
    var clients: Int
    var dimension: Int
    var degree: Int
    var threshold: Int
    /// Murmur's server CPU seconds for the same point.
    var murmurServerSeconds: Double
    var murmurClientSecondsMean: Double

    /// Estimated CPU seconds all of Flower's clients spend on one round (`secaggplus_mod`,
    /// summed over clients), from the grid of 2026-11-27 (docs/benchmarks.md): per client about
    /// 1.2 ms·k (key agreement, encryption) + 0.24 ms·t·k (Shamir sharing of two secrets in
    /// Python) + 0.125 µs·d (masking), e.g. 129 ms at k = 22, t = 19, d = 10⁴ and 1,317 ms at
    /// k = 99, t = 51. The clients take 60–70 % of Flower's CPU time, and they run before the
    /// server's costliest stage (unmasking), so a budget must cover them before the server's
    /// share counts.
    var flowerClientAllowance: Double {
        let k = Double(degree), t = Double(threshold), d = Double(dimension)
        let perClient = 1.2e-3 * k + 2.4e-4 * t * k + 1.25e-7 * d
        return 1.25 * Double(clients) * perClient  // 25 % margin: CPU time varies with load
    }

    /// The CPU budget for this point's Flower round: `floor` seconds, or with a ratio R,
    /// max(floor, R × Murmur's server time + the clients' allowance), so that a round stopped by
    /// the budget has usually spent about R × Murmur's server time in Flower's server.
    func budget(floor: Double, ratio: Double?) -> Double {
        guard let ratio else { return floor }
        return max(floor, ratio * murmurServerSeconds + flowerClientAllowance)
    }

    /// The fields this point adds to its JSON row, and its table cell (Flower server ms, ratio).
    /// A finished round gives `ratio_vs_flower` (and `client_ratio_vs_flower`); a stopped one
    /// `ratio_vs_flower_at_least`, printed "≥ N×".
    func compare(_ flower: [String: Any]) -> (fields: [String: Any], cell: String, finished: Bool) {
        if let fs = flower["server_seconds"] as? Double, let fc = flower["client_seconds_mean"] as? Double {
            let fields: [String: Any] = [
                "ratio_vs_flower": fs / murmurServerSeconds,
                "client_ratio_vs_flower": fc / murmurClientSecondsMean,
            ]
            return (fields, String(format: "   %15.1f   %6.1f", fs * 1000, fs / murmurServerSeconds), true)
        }
        if let least = flower["server_seconds_at_least"] as? Double {
            let ratio = least / murmurServerSeconds
            let stage = (flower["stage_name"] as? String).map { " " + $0 } ?? ""
            return (["ratio_vs_flower_at_least": ratio],
                    String(format: "  ≥ %13.1f   ≥ %.1f×", least * 1000, ratio) + "  (stopped\(stage))", false)
        }
        return ([:], "  skipped (budget)        —", false)
    }

    /// The fields and table cell of `flower_unmask_bound.py`'s output (`--flower-bound`): its
    /// `flower_server_seconds_at_least` over Murmur's server time, `ratio_vs_flower_at_least`.
    func bound(_ flower: [String: Any]) -> (fields: [String: Any], cell: String)? {
        guard let least = flower["flower_server_seconds_at_least"] as? Double else { return nil }
        let ratio = least / murmurServerSeconds
        return (["flower_server_seconds_at_least": least, "ratio_vs_flower_at_least": ratio],
                String(format: "  ≥ %13.1f   ≥ %.1f× (bound)", least * 1000, ratio))
    }
}
