/// ε spent after each round of a run that repeats one Gaussian event per round.
/// Why: progress lines and round records report the privacy budget used so far.
public enum PrivacyLedger {
    /// ε(δ) after rounds 1…`rounds` of `event` (its `count` is ignored; one release per round).
    /// RDP costs one RDP evaluation in total; PLD one discretization and one self-composition per round.
    public static func epsilonPerRound(_ event: GaussianEvent, rounds: Int, delta: Double, accountant: AccountantKind) throws -> [Double] {
        var single = event
        single.count = 1
        try single.validate()
        try validateDelta(delta)
        guard rounds >= 1 else { return [] }
        switch accountant {
        case .rdp:
            let orders = RDPAccountant.defaultOrders
            let per = RDPAccountant.rdp(of: single, orders: orders)
            return (1...rounds).map { r in
                RDPAccountant.epsilon(orders: orders, rdp: per.map { $0 * Double(r) }, delta: delta).epsilon
            }
        case .pld:
            // The single-round distributions are discretized once; each round only self-composes.
            let once = try PLDAccountant.singleRound(single, discretization: PLDAccountant().discretization)
            return try (1...rounds).map { r in
                var acc = PLDAccountant()
                acc.compose(once, count: r)
                return try acc.epsilon(delta: delta)
            }
        }
    }
}
