import Foundation

/// Numerically careful special functions the accountants need (log-space sums, log Φ, Φ⁻¹).
/// They follow the SciPy definitions dp-accounting calls, so our ε agrees with it to rounding.
enum Special {
    static let ln2 = log(2.0)
    static let halfLog2Pi = 0.5 * log(2 * Double.pi)

    /// log(eˣ + eʸ), exact when either side is −∞ (dp-accounting's `_log_add`).
    static func logAdd(_ x: Double, _ y: Double) -> Double {
        let a = min(x, y), b = max(x, y)
        if a == -.infinity { return b }
        return log1p(exp(a - b)) + b
    }

    /// (sign, log|eˣ − eʸ|) with sign true when eˣ ≥ eʸ (dp-accounting's `_log_sub_sign`).
    static func logSubSign(_ x: Double, _ y: Double) -> (Bool, Double) {
        if x > y { return (true, x + log1p(-exp(y - x))) }
        if x < y { return (false, y + log1p(-exp(x - y))) }
        return (true, -.infinity)
    }

    /// log C(n, k) through log Γ (real n, k allowed; log|Γ| for negative arguments, as SciPy's gammaln).
    static func logComb(_ n: Double, _ k: Double) -> Double {
        lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)
    }

    /// erfcx(y) = e^{y²}·erfc(y), for y ≥ 0; asymptotic series past 26 where erfc underflows.
    static func erfcx(_ y: Double) -> Double {
        if y < 26 { return exp(y * y) * erfc(y) }
        // erfc(y) ~ e^{-y²}/(y√π) · Σ (−1)ⁿ (2n−1)!! / (2y²)ⁿ (Abramowitz & Stegun 7.1.23).
        let inv = 1 / (2 * y * y)
        var term = 1.0, sum = 1.0
        for n in 1..<30 {
            term *= -Double(2 * n - 1) * inv
            sum += term
            if abs(term) < 1e-17 { break }
        }
        return sum / (y * Double.pi.squareRoot())
    }

    /// log Φ(x), the log of the standard normal CDF, accurate far into both tails
    /// (SciPy's log_ndtr: log(erfcx(−x/√2)/2) − x²/2 below −1, log1p(−erfc(x/√2)/2) above).
    static func logNdtr(_ x: Double) -> Double {
        let t = x * 0.5.squareRoot()
        if x < -1 { return log(erfcx(-t) / 2) - t * t }
        return log1p(-erfc(t) / 2)
    }

    /// Φ(x), the standard normal CDF.
    static func ndtr(_ x: Double) -> Double { 0.5 * erfc(-x * 0.5.squareRoot()) }

    /// log erfc(x) = log 2 + log Φ(−x√2) (dp-accounting's `_log_erfc`).
    static func logErfc(_ x: Double) -> Double { ln2 + logNdtr(-x * 2.0.squareRoot()) }

    /// Φ⁻¹(p) for p ∈ (0, 1): Acklam's rational start, then Newton steps on log Φ (tails included).
    static func ndtri(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "ndtri needs p in (0, 1)")  // programmer error: callers pass valid p
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let lo = 0.02425
        var x: Double
        if p < lo || p > 1 - lo {
            let q = (-2 * log(min(p, 1 - p))).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
            if p > 1 - lo { x = -x }
        } else {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
                (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        // Newton on f(x) = log Φ(x) − log p (lower half) or log Φ(−x) − log(1 − p) (upper half).
        let upper = p > 0.5
        let target = upper ? log1p(-p) : log(p)
        for _ in 0..<8 {
            let z = upper ? -x : x
            let f = logNdtr(z) - target
            let logPdf = -0.5 * z * z - halfLog2Pi
            let slope = exp(logPdf - logNdtr(z))  // d/dz log Φ(z)
            let step = f / slope
            x += upper ? step : -step
            if abs(step) <= 1e-15 * max(1, abs(x)) { break }
        }
        return x
    }

    /// log(a·eᵇ + c) without overflow (dp-accounting's `log_a_times_exp_b_plus_c`).
    static func logATimesExpBPlusC(_ a: Double, _ b: Double, _ c: Double) -> Double {
        if a == 0 { return log(c) }
        if a < 0 { return logSub(log(c), log(-a) + b) }
        if b == 0 { return log(a + c) }
        let d = b + log(a)
        if c == 0 { return d }
        if c < 0 { return logSub(d, log(-c)) }
        return logAdd(d, log(c))
    }

    /// log(eᵃ − eᵇ) for a > b.
    static func logSub(_ a: Double, _ b: Double) -> Double { a + log1p(-exp(b - a)) }
}
