import MurmurML
import MurmurTensor

/// FLTrust (Cao et al., NDSS 2021, "FLTrust: Byzantine-robust federated learning via trust
/// bootstrapping"): the server trains on a small clean root data set to get its own update g₀;
/// each client gets trust TSᵢ = ReLU(cos(gᵢ, g₀)), its update is rescaled to ‖g₀‖, and the
/// aggregate is Σ TSᵢ·(‖g₀‖/‖gᵢ‖)·gᵢ / Σ TSᵢ (zero when nobody is trusted).
public struct FLTrust: RobustAggregator {
    public let name = "fltrust"
    /// The server's root data set (FLTrust uses ~100 clean samples).
    public let root: Dataset
    /// The model the root set trains (the federation's model).
    public let model: ModelConfig

    /// The client id the server trains its root set under (no real client has it).
    public static let serverID: ClientID = Int(Int32.max)

    public init(root: Dataset, model: ModelConfig) {
        self.root = root
        self.model = model
    }

    /// The server's own update g₀: local training on the root set from the global model, with
    /// the round's plan (batch order from the seed, round and the reserved client id `serverID`).
    public func serverUpdate(context: AggregationContext) throws -> [Float] {
        let plan = context.plan ?? LocalTrainingPlan(epochs: 1, batchSize: 16, learningRate: 0.05)
        let server = SimulatedClient(id: Self.serverID, data: root, model: model)
        return try server.fit(FitInstruction(round: context.round, parameters: context.global, plan: plan, seed: context.seed)).delta
    }

    public func aggregate(_ updates: ClientUpdates, context: AggregationContext) throws -> RobustAggregate {
        let g0 = try serverUpdate(context: context)
        return try Self.combine(updates, serverUpdate: g0)
    }

    /// The FLTrust combination given g₀ (separate so it can be checked by hand).
    public static func combine(_ updates: ClientUpdates, serverUpdate g0: [Float]) throws -> RobustAggregate {
        guard g0.count == updates.dimension else {
            throw FLError.invalidConfiguration("fltrust: root model has \(g0.count) parameters, updates have \(updates.dimension)")
        }
        let n0 = Vec.l2Norm(g0)
        let norms = updates.rowNorms()
        var trust = [Float](repeating: 0, count: updates.count)
        var weights = [Float](repeating: 0, count: updates.count)
        updates.values.withUnsafeBufferPointer { v in
            g0.withUnsafeBufferPointer { g in
                for i in 0..<updates.count where norms[i] > 0 && n0 > 0 {
                    let row = UnsafeBufferPointer(rebasing: v[i * updates.dimension..<(i + 1) * updates.dimension])
                    trust[i] = max(0, Vec.dot(row, g) / (norms[i] * n0))
                    weights[i] = trust[i] * n0 / norms[i]
                }
            }
        }
        let totalTrust = trust.reduce(0, +)
        var delta = [Float](repeating: 0, count: updates.dimension)
        if totalTrust > 0 {
            // weightedMean divides by Σ weights; we need Σ TSᵢ instead.
            delta = updates.weightedMean(weights)
            let ratio = weights.reduce(0, +) / totalTrust
            for j in 0..<delta.count { delta[j] *= ratio }
        }
        let anomalies = (0..<updates.count).map { i in
            ClientAnomaly(client: updates.clients[i], score: Double(1 - trust[i]), excluded: trust[i] == 0)
        }
        return RobustAggregate(delta: delta, anomalies: anomalies)
    }
}
