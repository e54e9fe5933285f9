import Foundation
import MurmurCore
import MurmurPrivacy
import MurmurSecAgg
import MurmurTestSupport
import Testing

@testable import MurmurFL

/// Distributed DP over SecAgg+: clients' discrete Gaussian shares add up to the configured noise.
@Suite(.ownThreads) struct DistributedDPTests {
    func identities(_ n: Int) -> [Identity] {
        var rng = SeededRNG(seed: 77)
        return (0..<n).map { _ in Identity(deterministic: &rng) }
    }

    /// End to end through the real protocol: n = 8 clients, d = 3000, noise multiplier z = 0.8,
    /// C = 0.5, every client's share 1/8 of the variance. The decoded sum minus the sum of the
    /// clipped inputs has mean ≈ 0 and std ≈ z·C = 0.4 (within 5 %, ≈ 4 standard errors at
    /// d = 3000), and the per-coordinate rounding error is invisible beside it.
    @Test func secureSumCarriesTheConfiguredNoise() throws {
        let n = 8, d = 3000
        let z = 0.8, clip = 0.5
        let enc = try DistributedDiscreteGaussianEncoder(
            clipNorm: clip, noiseMultiplier: z, sampler: DiscreteGaussianSampler(varianceNumerator: 1 << 20), noiseShares: n)
        var rng = SeededRNG(seed: 3)
        let updates = (0..<n).map { _ in (0..<d).map { _ in Float(rng.nextGaussian()) * 0.02 } }
        let inputs = updates.enumerated().map { i, x -> [UInt32] in
            var r = SeededRNG(seed: 10, stream: UInt64(i))
            var noise = SeededRNG(seed: 11, stream: UInt64(i))
            return enc.encode(x, roundingRNG: &r, noiseRNG: &noise)
        }
        let q = try Quantizer(clip: 1, inputBits: 32 - Quantizer.ceilLog2(n), clientCount: n)
        #expect(q.ringBits == 32)
        let parameters = try SecAggParameters(clientCount: n, degree: 6, threshold: 4, quantizer: q)
        let (result, _) = try SecAggSimulation.sumRing(inputs, parameters: parameters, identities: identities(n))
        #expect(result.contributors.count == n)
        let sum = enc.decode(result.sum)
        var clipped = updates
        for i in clipped.indices { clipToNorm(&clipped[i], maxNorm: clip) }
        var mean = 0.0, sq = 0.0
        for j in 0..<d {
            let e = Double(sum[j]) - clipped.reduce(0.0) { $0 + Double($1[j]) }
            mean += e
            sq += e * e
        }
        mean /= Double(d)
        let std = (sq / Double(d) - mean * mean).squareRoot()
        #expect(abs(std / (z * clip) - 1) < 0.05, "std \(std)")
        #expect(abs(mean) < 5 * z * clip / Double(d).squareRoot())
        #expect(enc.log2WrapProbability(clients: n, dimension: d) < -1000)
    }

    /// A dropout removes that client's noise: with m = 6 of 8 surviving and shares set for 6, the
    /// survivors' noise still has std ≥ z·C; the protocol refuses to finish below m survivors.
    @Test func minimumSurvivorsGuardTheNoise() throws {
        let n = 8, d = 2000, z = 1.0, clip = 1.0
        let enc = try DistributedDiscreteGaussianEncoder(
            clipNorm: clip, noiseMultiplier: z, sampler: DiscreteGaussianSampler(varianceNumerator: 1 << 16), noiseShares: 6)
        let inputs = (0..<n).map { i -> [UInt32] in
            var r = SeededRNG(seed: 1, stream: UInt64(i))
            var noise = SeededRNG(seed: 2, stream: UInt64(i))
            return enc.encode([Float](repeating: 0, count: d), roundingRNG: &r, noiseRNG: &noise)
        }
        let q = try Quantizer(clip: 1, inputBits: 29, clientCount: n)
        let parameters = try SecAggParameters(clientCount: n, degree: 7, threshold: 5, quantizer: q)
        let (result, _) = try SecAggSimulation.sumRing(
            inputs, parameters: parameters, identities: identities(n), dropouts: [2: .maskedInput, 5: .maskedInput], minimumSurvivors: 6)
        #expect(result.contributors.count == 6)
        let sum = enc.decode(result.sum)
        let std = (sum.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(d)).squareRoot()
        #expect(abs(std / (z * clip) - 1) < 0.06, "std \(std)")
        #expect(throws: SecAggError.self) {
            try SecAggSimulation.sumRing(
                inputs, parameters: parameters, identities: identities(n),
                dropouts: [1: .maskedInput, 2: .maskedInput, 5: .maskedInput], minimumSurvivors: 6)
        }
    }

    /// Survivor threshold m and noise shares s: exact binomial quantile, hand-checked. n = 20,
    /// p = 0.1: P[Bin(20, 0.1) ≤ 6] = 0.99761, ≤ 7: 0.99936 → m = 13; γ = 0.05 → s = 13 − 1 = 12.
    @Test func dropoutPolicy() throws {
        var secagg = SecAggSettings()
        var dp = DPConfig()
        dp.noiseMultiplier = 1
        dp.clipNorm = 0.3
        secagg.stageDropout = 0.1
        let plan = try DistributedDPPlan.make(dp: dp, secagg: secagg, clients: 100, fraction: 0.2, rounds: 30, dimension: 9610)
        #expect(plan.minimumSurvivors(participants: 20) == 13)
        #expect(plan.noiseShares(participants: 20) == 12)
        #expect(plan.localVariance == 1 << 26)
        #expect(plan.log2WrapProbability <= -40)
        #expect(plan.denominator == 20)
        #expect(plan.epsilons.count == 30)
        #expect(plan.epsilonWithoutSampling > plan.epsilons.last!)
        secagg.stageDropout = 0
        let noDrop = try DistributedDPPlan.make(dp: dp, secagg: secagg, clients: 100, fraction: 0.2, rounds: 30, dimension: 9610)
        #expect(noDrop.minimumSurvivors(participants: 20) == 20)
        #expect(noDrop.noiseShares(participants: 20) == 19)
    }

    /// Calibrated for ε = 8 at q = 0.2 over 30 rounds, the DDG needs a little more noise than the
    /// continuous Gaussian with the exact sampled-Gaussian RDP (Zhu–Wang's generic bound is looser).
    @Test func calibratedNoiseIsCloseToCentral() throws {
        var dp = DPConfig()
        dp.targetEpsilon = 8
        dp.clipNorm = 0.3
        let plan = try DistributedDPPlan.make(dp: dp, secagg: SecAggSettings(), clients: 100, fraction: 0.2, rounds: 30, dimension: 9610)
        let central = try dp.plan(clients: 100, fraction: 0.2, rounds: 30)
        #expect(plan.epsilons.last! <= 8)
        #expect(plan.noiseMultiplier >= central.updateNoiseMultiplier)
        #expect(plan.noiseMultiplier < 1.3 * central.updateNoiseMultiplier)
    }

    /// `simulate --secagg --dp central` runs, learns, and reports ε per round.
    @Test func simulationWithDistributedDP() async throws {
        var c = SimulationConfig()
        c.clients = 10
        c.rounds = 3
        c.fraction = 0.6
        c.hidden = [16]
        c.secagg = SecAggSettings()
        var dp = DPConfig()
        dp.noiseMultiplier = 0.5
        dp.clipNorm = 1
        c.dp = dp
        let r = try await Simulation(config: c).run()
        let eps = r.history.compactMap(\.epsilon)
        #expect(eps.count == 3)
        #expect(zip(eps, eps.dropFirst()).allSatisfy { $0 < $1 })
        #expect(r.final.accuracy > 0.15, "accuracy \(r.final.accuracy)")
    }
}
