import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurSecAgg

@Suite(.ownThreads) struct SecAggSimulationTests {
    /// Byte accounting: every client sends its masked vector (4 bytes per coordinate, b ≤ 32)
    /// plus keys and k share boxes; a dropped client sends less than a survivor.
    @Test func statsCountWireBytesPerClient() throws {
        let r = try TestRound(n: 10, k: 4, t: 3, dimension: 64)
        let (result, stats) = try SecAggSimulation.run(config: r.config, identities: r.identities, inputs: r.inputs, dropouts: [3: .maskedInput])
        #expect(result.contributors == [0, 1, 2, 4, 5, 6, 7, 8, 9])
        for u in result.contributors { #expect(stats.bytesSent[u] > 64 * 4 + 4 * 60) }
        #expect(stats.bytesSent[3] + 64 * 4 < stats.bytesSent[0])  // same degree, no masked vector
        #expect(stats.bytesReceived.allSatisfy { $0 > 0 })
        #expect(stats.clientFailures.isEmpty)
    }

    @Test func benchmarkReportsTheParametersItUsed() throws {
        let b = try SecAggBenchmark.run(clients: 12, dimension: 32, dropoutRate: 0.25, inputBits: 8)
        #expect(b.degree == 11)  // no sparse graph qualifies at n = 12, δ = 0.25: complete graph
        #expect(b.threshold == 7)
        #expect(b.ringBits == 12)
        #expect(b.bytesSentPerClient > 32 * 4 * 0.75)
    }

    @Test func sumUpdatesMatchesTheFloatSumOfSurvivors() throws {
        let n = 9, d = 20
        var rng = SeededRNG(seed: 21)
        let identities = (0..<n).map { _ in Identity(deterministic: &rng) }
        let updates = (0..<n).map { _ in (0..<d).map { _ in Float(rng.nextGaussian()) * 0.3 } }
        let q = try Quantizer(clip: 0.5, inputBits: 16, clientCount: n)
        let parameters = try SecAggParameters(clientCount: n, degree: 6, threshold: 4, quantizer: q)
        let (sum, contributors, _) = try SecAggSimulation.sumUpdates(
            updates, parameters: parameters, identities: identities, dropouts: [4: .maskedInput])
        #expect(contributors == [0, 1, 2, 3, 5, 6, 7, 8])
        let step = 1.0 / Float(q.levels)  // 2c / (2^q − 1) with c = 0.5
        for i in 0..<d {
            let plain = contributors.reduce(Float(0)) { $0 + min(max(updates[$1][i], -0.5), 0.5) }
            #expect(abs(sum[i] - plain) <= Float(contributors.count) * step + 1e-4)
        }
    }
}
