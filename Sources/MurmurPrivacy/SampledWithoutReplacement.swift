import Foundation

/// RDP of the Gaussian mechanism on a uniformly sampled subset of fixed size m = qN, for
/// replace-one neighbours: the bound of Wang, Balle & Kasiviswanathan 2019 (AISTATS), Thm 27,
/// computed as dp-accounting does (exact up to α = 256, the cruder term beyond; linear
/// interpolation between integer orders).
enum SampledWithoutReplacement {
    static func rdp(q: Double, sigma: Double, alpha: Double) -> Double {
        if q == 0 { return 0 }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        if alpha.isInfinite { return .infinity }
        if alpha.rounded() == alpha { return logA(q: q, sigma: sigma, alpha: Int(alpha)) / (alpha - 1) }
        let f = alpha.rounded(.down), c = alpha.rounded(.up)
        let x = logA(q: q, sigma: sigma, alpha: Int(f)), y = logA(q: q, sigma: sigma, alpha: Int(c))
        let t = alpha - f
        return ((1 - t) * x + t * y) / (alpha - 1)
    }

    /// log of the Thm 27 sum for integer α.
    static func logA(q: Double, sigma: Double, alpha: Int) -> Double {
        if alpha == 1 { return 0 }
        let s2 = 2 * sigma * sigma
        func cgf(_ x: Double) -> Double { x * (x + 1) / s2 }
        let f2 = 2.0 / s2
        let logF2m1 = f2 + log1p(-exp(-f2))
        let log2 = log(2.0), log4 = log(4.0), logq = log(q)
        var logA = 0.0
        let second = 2 * logq + Special.logComb(Double(alpha), 2) + min(log4 + logF2m1, f2 + log2)
        if alpha <= 256 {
            let deltas = forwardDifferences(cgf, alpha)
            for i in 2...alpha {
                var s: Double
                if i == 2 { s = second } else {
                    let lo = deltas[2 * (i / 2) - 1]
                    let hi = deltas[2 * ((i + 1) / 2) - 1]
                    s = log4 + 0.5 * (lo + hi)
                    s = min(s, log2 + cgf(Double(i - 1)))
                    s += Double(i) * logq + Special.logComb(Double(alpha), Double(i))
                }
                logA = Special.logAdd(logA, s)
            }
        } else {
            for i in 2...alpha {
                let s = i == 2 ? second : log2 + cgf(Double(i - 1)) + Double(i) * logq + Special.logComb(Double(alpha), Double(i))
                logA = Special.logAdd(logA, s)
            }
        }
        return logA
    }

    /// log|Δᵏ f(0)| for k = 0…n+1, by repeated stable differences in log space
    /// (Wang et al. 2019, Thm 27; dp-accounting's `_get_forward_diffs`).
    static func forwardDifferences(_ fun: (Double) -> Double, _ n: Int) -> [Double] {
        var vec = [Double](repeating: 0, count: n + 3)
        var signs = [Bool](repeating: true, count: n + 3)
        var deltas = [Double](repeating: 0, count: n + 2)
        for i in 1..<(n + 3) { vec[i] = fun(Double(i - 1)) }
        for i in 0..<(n + 2) {
            let m = n + 2 - i
            for j in 0..<m {
                if signs[j] == signs[j + 1] {
                    let (s, v) = Special.logSubSign(vec[j + 1], vec[j])
                    signs[j] = signs[j + 1] ? s : !s
                    vec[j] = v
                } else {
                    vec[j] = Special.logAdd(vec[j], vec[j + 1])
                    signs[j] = signs[j + 1]
                }
            }
            deltas[i] = vec[0]
        }
        return deltas
    }
}
