import Foundation

/// Rényi-DP accountant (Mironov 2017) for the (sub)sampled Gaussian mechanism: Poisson sampling
/// per Mironov, Talwar & Zhang 2019, sampling without replacement per Wang, Balle &
/// Kasiviswanathan 2019 (Thm 27), full participation exactly. RDP adds up over rounds; the
/// (ε, δ) conversion is the one dp-accounting 0.6.0 uses (Canonne, Kamath & Steinke 2020, Prop. 12).
public struct RDPAccountant: PrivacyAccountant {
    /// dp-accounting's DEFAULT_RDP_ORDERS: 1.1…10.9 by 0.1, 11…63, 128, 256, 512, 1024.
    public static let defaultOrders: [Double] = {
        var orders: [Double] = (1..<100).map { (x: Int) -> Double in 1 + Double(x) / 10.0 }
        orders += (11..<64).map { (x: Int) -> Double in Double(x) }
        orders += [128, 256, 512, 1024]
        return orders
    }()

    /// The Rényi orders α tracked.
    public let orders: [Double]
    /// The accumulated RDP ε(α) at each order.
    public private(set) var rdp: [Double]

    /// A fresh accountant (nothing spent) at `orders`.
    public init(orders: [Double] = RDPAccountant.defaultOrders) {
        self.orders = orders
        self.rdp = [Double](repeating: 0, count: orders.count)
    }

    public mutating func compose(_ event: GaussianEvent) throws {
        try event.validate()
        guard event.count > 0 else { return }
        let per = RDPAccountant.rdp(of: event, orders: orders)
        for i in rdp.indices { rdp[i] += Double(event.count) * per[i] }
    }

    public func epsilon(delta: Double) throws -> Double {
        try validateDelta(delta)
        return RDPAccountant.epsilon(orders: orders, rdp: rdp, delta: delta).epsilon
    }

    public func delta(epsilon: Double) throws -> Double {
        guard epsilon >= 0 else { throw PrivacyError.invalidParameter("ε must be ≥ 0, got \(epsilon)") }
        return RDPAccountant.delta(orders: orders, rdp: rdp, epsilon: epsilon).delta
    }

    /// The RDP of one release of `event` at each order.
    public static func rdp(of event: GaussianEvent, orders: [Double]) -> [Double] {
        let sigma = event.noiseMultiplier
        switch event.sampling {
        case .full:
            return orders.map { $0 / (2 * sigma * sigma) }
        case .poisson(let q):
            return orders.map { poissonSubsampledGaussian(q: q, sigma: sigma, alpha: $0) }
        case .withoutReplacement(let m, let n):
            let q = Double(m) / Double(n)
            return orders.map { SampledWithoutReplacement.rdp(q: q, sigma: sigma, alpha: $0) }
        }
    }

    /// RDP of the Poisson-subsampled Gaussian at order α: log(A_α)/(α − 1)
    /// (Mironov, Talwar & Zhang 2019, §3.3 integer α and §3.4 fractional α).
    public static func poissonSubsampledGaussian(q: Double, sigma: Double, alpha: Double) -> Double {
        if q == 0 { return 0 }
        if alpha.isInfinite { return .infinity }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        let logA = alpha.rounded() == alpha ? logAInt(q: q, sigma: sigma, alpha: Int(alpha))
                                             : logAFrac(q: q, sigma: sigma, alpha: alpha)
        return logA / (alpha - 1)
    }

    /// log A_α for integer α: log Σᵢ C(α,i) qⁱ(1−q)^(α−i) exp((i²−i)/2σ²).
    static func logAInt(q: Double, sigma: Double, alpha: Int) -> Double {
        var logA = -Double.infinity
        let log1mq = log1p(-q), logq = log(q)
        let s2 = 2 * sigma * sigma
        for i in 0...alpha {
            let di = Double(i)
            let coef = Special.logComb(Double(alpha), di) + di * logq + Double(alpha - i) * log1mq
            logA = Special.logAdd(logA, coef + (di * di - di) / s2)
        }
        return logA
    }

    /// log A_α for fractional α, the two-sided series of MTZ 2019 §3.4 (at most 1000 terms;
    /// like dp-accounting, an order whose series does not converge gives +∞ and drops out).
    static func logAFrac(q: Double, sigma: Double, alpha: Double) -> Double {
        var logA0 = -Double.infinity, logA1 = -Double.infinity
        let z0 = sigma * sigma * log(1 / q - 1) + 0.5
        let log1mq = log1p(-q), logq = log(q), logHalf = log(0.5)
        let s2 = 2 * sigma * sigma, rt2s = 2.0.squareRoot() * sigma
        var lastS0 = -Double.infinity, lastS1 = -Double.infinity
        for i in 0..<1000 {
            let di = Double(i)
            let coef = Special.logComb(alpha, di)
            let j = alpha - di
            let t0 = coef + di * logq + j * log1mq
            let t1 = coef + j * logq + di * log1mq
            let e0 = logHalf + Special.logErfc((di - z0) / rt2s)
            let e1 = logHalf + Special.logErfc((z0 - j) / rt2s)
            let s0 = t0 + (di * di - di) / s2 + e0
            let s1 = t1 + (j * j - j) / s2 + e1
            logA0 = Special.logAdd(logA0, s0)
            logA1 = Special.logAdd(logA1, s1)
            let total = Special.logAdd(logA0, logA1)
            if s0 < lastS0 && s1 < lastS1 && max(s0, s1) < total - 30 { return total }
            lastS0 = s0
            lastS1 = s1
        }
        return .infinity
    }

    /// ε(δ) = min over α of RDP(α) + log1p(−1/α) − log(δα)/(α−1), floored at 0 (dp-accounting's
    /// `compute_epsilon`, Canonne–Kamath–Steinke 2020 Prop. 12); also returns the best order.
    public static func epsilon(orders: [Double], rdp: [Double], delta: Double) -> (epsilon: Double, order: Double) {
        var best = Double.infinity, bestOrder = orders.first ?? 0
        for (a, r) in zip(orders, rdp) {
            var e: Double
            if r < 0 { e = 0 }
            else if delta * delta + expm1(-r) > 0 { e = 0 }
            else if a > 1.01 { e = r + log1p(-1 / a) - log(delta * a) / (a - 1) }
            else { e = .infinity }
            if e.isNaN { e = .infinity }
            if e < best { best = e; bestOrder = a }
        }
        return (max(0, best), bestOrder)
    }

    /// δ(ε) = min over α of exp((α−1)(RDP(α) − ε + log1p(−1/α)) − log α), capped at 1, with the
    /// Pinsker-type bound √(1−e^(−RDP)) as dp-accounting's `compute_delta`.
    public static func delta(orders: [Double], rdp: [Double], epsilon: Double) -> (delta: Double, order: Double) {
        var best = Double.infinity, bestOrder = orders.first ?? 0
        for (a, r) in zip(orders, rdp) {
            var logDelta: Double
            if r <= 0 { logDelta = -.infinity } else { logDelta = 0.5 * log1p(-exp(-r)) }
            if a > 1.01 {
                let bound = (a - 1) * (r - epsilon + log1p(-1 / a)) - log(a)
                logDelta = min(logDelta, bound)
            }
            if logDelta < best { best = logDelta; bestOrder = a }
        }
        return (min(exp(best), 1), bestOrder)
    }
}
