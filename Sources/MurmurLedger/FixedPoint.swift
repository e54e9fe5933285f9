/// Conversions between reals and the ledger's fixed-point integers (`_milli` = ×10³, `_micros` = ×10⁶).
/// Why: records hold integers only, so that canonical JSON and replay are exact on every machine;
/// writers convert once, with one rounding rule.
public enum FixedPoint {
    /// The largest magnitude stored (10¹² millionths = 10⁶ units); larger values are clamped.
    public static let limit = 1_000_000_000_000

    /// `x` × 10⁶ rounded to the nearest integer (ties away from zero), clamped to ±`limit`; NaN is 0.
    public static func micros(_ x: Double) -> Int { scaled(x, 1e6) }

    /// `x` × 10³ rounded to the nearest integer, clamped to ±`limit`; NaN is 0.
    public static func milli(_ x: Double) -> Int { scaled(x, 1e3) }

    /// The real value of `v` millionths.
    public static func fromMicros(_ v: Int) -> Double { Double(v) / 1e6 }

    static func scaled(_ x: Double, _ unit: Double) -> Int {
        guard !x.isNaN else { return 0 }
        let v = (x * unit).rounded()
        if v >= Double(limit) { return limit }
        if v <= -Double(limit) { return -limit }
        return Int(v)
    }
}

extension Contribution {
    /// A contribution from a real-valued score: negative scores (a leave-one-out or Shapley value
    /// below zero: the client hurt the model) are recorded as 0, which earns nothing.
    public static func scored(round: Int, peer: String, samples: Int, score: Double, method: String, anomalous: Bool = false) -> Contribution {
        Contribution(round: round, peer: peer, samples: samples, scoreMicros: max(0, FixedPoint.micros(score)), method: method, anomalous: anomalous)
    }
}
