import MurmurTensor

/// A federated strategy: how the server configures clients and turns their updates into the next
/// global model. Modelled on Flower's strategies: a handful of hooks, each with a default, so a
/// new strategy is one small file that overrides what differs.
///
/// The aggregation is split in two hooks so the pieces compose: `combine` reduces the clients'
/// deltas to one pseudo-gradient (sample-weighted mean by default; robust aggregators replace it)
/// and `applyServerUpdate` moves the global model along it (plain step for FedAvg, momentum or
/// adaptive server optimizers for FedAvgM/FedAdam/FedYogi/FedAdagrad, Reddi et al. 2021).
public protocol Strategy: Sendable {
    /// A short name for reports ("fedavg").
    var name: String { get }

    /// The local training plan sent to clients in `round` (FedProx sets μ here).
    func configureFit(round: Int, plan: LocalTrainingPlan) -> LocalTrainingPlan

    /// Reduces the round's client results to one update direction Δ̄.
    func combine(_ results: [FitResult]) throws -> [Float]

    /// Applies Δ̄ to the global parameters (the server optimizer step).
    mutating func applyServerUpdate(_ delta: [Float], to global: inout [Float], round: Int)

    /// One aggregation: by default `combine`, then `applyServerUpdate`. Override when the
    /// reduction needs the round (secure aggregation runs a protocol instance per round).
    mutating func aggregate(global: inout [Float], results: [FitResult], round: Int) throws
}

extension Strategy {
    public func configureFit(round: Int, plan: LocalTrainingPlan) -> LocalTrainingPlan { plan }

    public func combine(_ results: [FitResult]) throws -> [Float] { try weightedMeanDelta(results) }

    /// Runs one aggregation: `combine`, then `applyServerUpdate`.
    public mutating func aggregate(global: inout [Float], results: [FitResult], round: Int) throws {
        let delta = try combine(results)
        applyServerUpdate(delta, to: &global, round: round)
    }
}

/// Δ̄ = Σₖ nₖ·Δₖ / Σₖ nₖ, the sample-weighted mean of FedAvg (McMahan et al. 2017, Alg. 1).
/// Results are summed in the order given, so the same inputs give bit-identical output.
public func weightedMeanDelta(_ results: [FitResult]) throws -> [Float] {
    guard let first = results.first else { return [] }
    let d = first.delta.count
    let total = results.reduce(0) { $0 + $1.sampleCount }
    guard total > 0 else { throw FLError.invalidConfiguration("all clients reported 0 samples") }
    var sum = [Float](repeating: 0, count: d)
    for r in results {
        guard r.delta.count == d else {
            throw FLError.malformedUpdate(client: r.client, reason: "delta has \(r.delta.count) values, expected \(d)")
        }
        Vec.axpy(Float(r.sampleCount) / Float(total), r.delta, &sum)
    }
    return sum
}

/// The strategies the CLI offers, by name.
public enum StrategyKind: String, CaseIterable, Sendable, Codable {
    case fedavg, fedprox, fedavgm, fedadam, fedyogi, fedadagrad

    /// Builds the strategy with the given knobs; unused knobs are ignored.
    public func make(parameterCount: Int, mu: Float, serverLearningRate: Float?, serverMomentum: Float) -> any Strategy {
        switch self {
        case .fedavg: return FedAvg(serverLearningRate: serverLearningRate ?? 1)
        case .fedprox: return FedProx(mu: mu, serverLearningRate: serverLearningRate ?? 1)
        case .fedavgm: return FedAvgM(parameterCount: parameterCount, serverLearningRate: serverLearningRate ?? 1, momentum: serverMomentum)
        case .fedadam: return FedAdam(parameterCount: parameterCount, serverLearningRate: serverLearningRate ?? 0.01)
        case .fedyogi: return FedYogi(parameterCount: parameterCount, serverLearningRate: serverLearningRate ?? 0.01)
        case .fedadagrad: return FedAdagrad(parameterCount: parameterCount, serverLearningRate: serverLearningRate ?? 0.1)
        }
    }
}

/// A strategy that wraps another one (privacy, robustness, secure aggregation, simulated
/// collusion): it changes how a round's results become Δ̄ and forwards the rest to `base`.
/// Why: the forwarding is written once here instead of in every wrapper.
public protocol WrappingStrategy: Strategy {
    /// The wrapped strategy: its client configuration and server optimizer stay in force.
    var base: any Strategy { get set }
}

extension WrappingStrategy {
    /// The wrapped strategy's client configuration.
    public func configureFit(round: Int, plan: LocalTrainingPlan) -> LocalTrainingPlan {
        base.configureFit(round: round, plan: plan)
    }

    /// The wrapped strategy's server optimizer step.
    public mutating func applyServerUpdate(_ delta: [Float], to global: inout [Float], round: Int) {
        base.applyServerUpdate(delta, to: &global, round: round)
    }
}
