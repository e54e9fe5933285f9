import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurSecAgg

@Suite(.ownThreads) struct SecAggProtocolTests {
    @Test func unmaskedSumEqualsPlaintextSumInTheRing() throws {
        let r = try TestRound(n: 8, k: 4, t: 3)
        let (result, stats) = try SecAggSimulation.run(config: r.config, identities: r.identities, inputs: r.inputs)
        #expect(result.contributors == Array(0..<8))
        #expect(result.sum == r.plainSum(0..<8))
        #expect(stats.bytesSent.allSatisfy { $0 > 16 * 4 })
    }

    @Test func completeGraphIsPlainSecAgg() throws {
        let r = try TestRound(n: 5, k: 4, t: 3, inputBits: 29)  // b = 32: the full UInt32 ring
        let (result, _) = try SecAggSimulation.run(config: r.config, identities: r.identities, inputs: r.inputs, dropouts: [2: .maskedInput])
        #expect(result.sum == r.plainSum([0, 1, 3, 4]))
    }

    /// Masks cancel for random graphs and random dropouts at every stage: the round returns
    /// exactly Σ_{u∈U3} x_u when an oracle says every needed secret has t shares, and a typed
    /// abort otherwise. The server never receives both kinds of share for one client.
    @Test func masksCancelUnderRandomGraphsAndDropouts() async throws {
        try await onOwnThreads {
            var rng = SeededRNG(seed: 11)
            var successes = 0, aborts = 0
            for trial in 0..<24 {
                let n = 8 + Int(rng.next() % 9)
                let k = 4 + 2 * Int(rng.next() % 3)
                let t = k / 2 + 1 + Int(rng.next() % UInt64(k - k / 2))
                let r = try TestRound(n: n, k: k, t: t, dimension: 8, seed: UInt64(100 + trial))
                var dropouts = [Int: SecAggStage]()
                for u in 0..<n where rng.nextDouble() < 0.25 {
                    dropouts[u] = SecAggStage.allCases[Int(rng.next() % 4)]
                }
                var revealedSelf = Set<Int>(), revealedKey = Set<Int>()
                let expected = oracle(r, dropouts)
                do {
                    let (result, _) = try SecAggSimulation.run(
                        config: r.config, identities: r.identities, inputs: r.inputs, dropouts: dropouts
                    ) { m in
                        if case .unmaskResponse(_, _, let s, let k) = m {
                            revealedSelf.formUnion(s.map(\.owner))
                            revealedKey.formUnion(k.map(\.owner))
                        }
                    }
                    #expect(expected != nil, "trial \(trial): succeeded where the oracle predicts an abort")
                    #expect(result.contributors == expected?.sorted())
                    #expect(result.sum == r.plainSum(result.contributors))
                    successes += 1
                } catch let error as SecAggError {
                    #expect(expected == nil, "trial \(trial): \(error)")
                    switch error {
                    case .tooFewSurvivors, .cannotReconstruct: break
                    default: Issue.record("unexpected abort \(error)")
                    }
                    aborts += 1
                }
                #expect(revealedSelf.isDisjoint(with: revealedKey))
            }
            #expect(successes > 5)
        }
    }

    /// Independent model of who survives each stage; returns U3 if the round must succeed.
    private func oracle(_ r: TestRound, _ dropouts: [Int: SecAggStage]) -> Set<Int>? {
        let n = r.config.participants.count, t = r.config.parameters.threshold, g = r.config.graph
        func sends(_ u: Int, _ s: SecAggStage) -> Bool { (dropouts[u].map { $0 > s }) ?? true }
        let u1 = Set((0..<n).filter { sends($0, .advertiseKeys) })
        guard u1.count >= t else { return nil }
        let u2 = Set(u1.filter { u in sends(u, .shareKeys) && g.neighbors[u].filter(u1.contains).count >= t })
        guard u2.count >= t else { return nil }
        let u3 = Set(u2.filter { u in sends(u, .maskedInput) && g.neighbors[u].filter(u2.contains).count >= t })
        guard u3.count >= t else { return nil }
        let u4 = Set(u3.filter { sends($0, .unmasking) })
        guard u4.count >= t else { return nil }
        for u in u2 where g.neighbors[u].filter(u4.contains).count < t { return nil }
        return u3
    }

    /// The server's view of one client's masked vector is uniform in Z_{2^b}: a χ² test over 256
    /// buckets of the top 8 bits, for an all-zero input (the most structured one).
    @Test func maskedVectorLooksUniform() throws {
        var r = try TestRound(n: 6, k: 4, t: 3, dimension: 1 << 15, inputBits: 13)
        r = TestRound(config: r.config, identities: r.identities, inputs: r.inputs.map { $0.map { _ in 0 } })
        var masked: [UInt32] = []
        _ = try SecAggSimulation.run(config: r.config, identities: r.identities, inputs: r.inputs) { m in
            if case .maskedInput(_, 0, let v) = m { masked = v }
        }
        let b = r.config.parameters.quantizer.ringBits
        var buckets = [Int](repeating: 0, count: 256)
        for v in masked {
            #expect(v >> b == 0)
            buckets[Int(v >> (b - 8))] += 1
        }
        let expected = Double(masked.count) / 256
        let chi2 = buckets.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        // 255 degrees of freedom: mean 255, sd 22.6; 400 is > 6 sd (false alarm < 1e-8).
        #expect(chi2 < 400)
        #expect(masked.count == 1 << 15)
    }

    @Test func tooFewSurvivorsAbortsWithTypedError() throws {
        let r = try TestRound(n: 6, k: 4, t: 3)
        let dropouts: [Int: SecAggStage] = [0: .maskedInput, 1: .maskedInput, 2: .maskedInput, 3: .maskedInput]
        #expect(throws: SecAggError.tooFewSurvivors(stage: "MaskedInput", survivors: 2, threshold: 3)) {
            try SecAggSimulation.run(config: r.config, identities: r.identities, inputs: r.inputs, dropouts: dropouts)
        }
    }
}

extension TestRound {
    init(config: SecAggRoundConfig, identities: [Identity], inputs: [[UInt32]]) {
        self.config = config
        self.identities = identities
        self.inputs = inputs
    }
}
