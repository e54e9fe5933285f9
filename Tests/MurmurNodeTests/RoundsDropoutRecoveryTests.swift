import Foundation
import MurmurCore
import MurmurFL
import MurmurML
import MurmurSecAgg
import MurmurTensor
import Testing

@testable import MurmurNode

/// Issue 11 item 6, library level: 30 % of the clients vanish during a round's SecAgg+; the
/// round completes by dropout recovery, the new model is exactly the server step applied to
/// the mean of the survivors' (clipped, quantized) updates, and later rounds go on with the
/// survivors. (`ClusterCLITests` does the same with `murmur node` processes killed by SIGKILL.)
@Suite struct RoundsDropoutRecoveryTests {
    @Test(.timeLimit(.minutes(3))) func theModelIsTheAggregateOfTheSurvivorsAndLaterRoundsGoOnWithoutTheDead() async throws {
        var config = RoundsSecureFederationTests.config(rounds: 3)
        config.clients = 10
        let simulation = try Simulation(config: config)
        let handle = FederationHandle()
        let outcomes = OutcomeLog()
        let updates = UpdateLog()
        // Two leave before sending their masked input, one after it.
        let leaving: [ClientID: String] = [1: "ShareBundle", 5: "ShareBundle", 6: "UnmaskRequest"]
        let federation = try await LoopbackFederation.start(
            simulation, deadline: .seconds(60),
            onSecAggMessage: { id, m in
                guard m.round == 2, leaving[id] == m.kind, let f = handle.value else { return }
                await f.disconnect(client: id)
            },
            onSecAggOutcome: { round, clients, outcome in outcomes.record(round, clients, outcome) },
            wrap: { _, app in RecordingClient(base: app, log: updates) })
        handle.set(federation)
        var globals = [try simulation.initialParameters()]
        let result = try await simulation.run(
            transport: federation.transport, secureAggregation: federation.secureAggregation,
            afterRound: { _, parameters in globals.append(parameters) })
        await federation.shutdown()

        #expect(result.history.map(\.completed) == [10, 10, 7])
        let rounds = outcomes.all
        #expect(rounds.map(\.round) == [1, 2, 3])
        let inSum = rounds.map { r in r.outcome.result.contributors.map { r.clients[$0] } }
        #expect(inSum == [Array(0..<10), [0, 2, 3, 4, 6, 7, 8, 9], [0, 2, 3, 4, 7, 8, 9]])

        // Recompute each round's model from the survivors' own updates, outside the protocol.
        let settings = try #require(config.secagg)
        var strategy = config.strategy.make(
            parameterCount: globals[0].count, mu: config.mu, serverLearningRate: config.serverLearningRate,
            serverMomentum: config.serverMomentum)
        var expected = globals[0]
        for (r, round) in rounds.enumerated() {
            let p = try SecureAggregation(base: FedAvg(), settings: settings, seed: config.seed).parameters(n: round.clients.count)
            var sum = [UInt32](repeating: 0, count: expected.count)
            for position in round.outcome.result.contributors {
                var x = try #require(updates.delta(round: round.round, client: round.clients[position]))
                Vec.clip(&x, maxNorm: p.quantizer.clip)
                var rng = SeededRNG(seed: config.seed ^ UInt64(round.round), stream: UInt64(position))
                for (j, q) in p.quantizer.quantize(x, rng: &rng).enumerated() { sum[j] = (sum[j] &+ q) & p.quantizer.ringMask }
            }
            let k = round.outcome.result.contributors.count
            var mean = p.quantizer.dequantizeSum(sum, count: k)
            Vec.scale(1 / Float(k), &mean)
            strategy.applyServerUpdate(mean, to: &expected, round: round.round)
            #expect(expected.map(\.bitPattern) == globals[r + 1].map(\.bitPattern), "round \(round.round)")
        }
    }
}

/// Every fit's delta by (round, client), kept before the client withholds it.
final class UpdateLog: @unchecked Sendable {
    // @unchecked: `deltas` is only touched under `lock`.
    private let lock = NSLock()
    private var deltas: [String: [Float]] = [:]
    func put(round: Int, client: ClientID, _ delta: [Float]) { lock.withLock { deltas["\(round)/\(client)"] = delta } }
    func delta(round: Int, client: ClientID) -> [Float]? { lock.withLock { deltas["\(round)/\(client)"] } }
}

/// A client app that logs its updates.
struct RecordingClient: ClientApp {
    let base: any ClientApp
    let log: UpdateLog

    func fit(_ instruction: FitInstruction) throws -> FitResult {
        let r = try base.fit(instruction)
        log.put(round: instruction.round, client: r.client, r.delta)
        return r
    }

    func evaluate(_ instruction: EvaluateInstruction) throws -> EvaluateResult { try base.evaluate(instruction) }
}
