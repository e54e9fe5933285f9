import MurmurCore
import MurmurTestSupport
import Testing

@testable import MurmurSecAgg

@Suite(.ownThreads) struct CommunicationGraphTests {
    @Test func hararyGraphIsRegularSymmetricAndSeeded() throws {
        for (n, k) in [(10, 4), (11, 6), (50, 8), (100, 13)] {
            let g = try CommunicationGraph(count: n, degree: k, seed: 42)
            let evenK = k + (k & 1)
            #expect(g.degree == evenK)
            for u in 0..<n {
                #expect(g.neighbors[u].count == evenK)
                #expect(!g.neighbors[u].contains(u))
                for v in g.neighbors[u] { #expect(g.areNeighbors(v, u)) }
            }
            #expect(try CommunicationGraph(count: n, degree: k, seed: 42) == g)
            #expect(try CommunicationGraph(count: n, degree: k, seed: 43) != g)
        }
    }

    @Test func largeDegreeGivesCompleteGraph() throws {
        let g = try CommunicationGraph(count: 6, degree: 5, seed: 1)
        #expect(g.degree == 5)
        #expect(g.neighbors[0] == [1, 2, 3, 4, 5])
    }

    /// H(k, n) is k-connected: removing any k − 1 vertices leaves it connected.
    @Test func survivesRemovalOfFewerThanKVertices() throws {
        var rng = SeededRNG(seed: 5)
        for trial in 0..<20 {
            let n = 30 + trial, k = 6
            let g = try CommunicationGraph(count: n, degree: k, seed: UInt64(trial))
            let removed = Set(Array(0..<n).shuffled(using: &rng).prefix(k - 1))
            let kept = (0..<n).filter { !removed.contains($0) }
            var seen: Set<Int> = [kept[0]], frontier = [kept[0]]
            while let u = frontier.popLast() {
                for v in g.neighbors[u] where !removed.contains(v) && seen.insert(v).inserted { frontier.append(v) }
            }
            #expect(seen.count == kept.count)
        }
    }

    @Test func derivedDegreeGrowsLogarithmically() throws {
        var previous = 0
        for n in [100, 1000, 10_000, 100_000] {
            let p = try SecAggParameters.derive(clientCount: n, dropoutRate: 0.1, corruptionRate: 0.05, inputBits: 12)
            #expect(p.degree < n - 1)
            #expect(p.threshold > p.degree / 2 && p.threshold <= p.degree)
            #expect(p.degree >= previous)
            previous = p.degree
        }
        #expect(previous < 200)  // O(log n), far below n = 10^5
        let p = try SecAggParameters.derive(clientCount: 1000, dropoutRate: 0.3, corruptionRate: 0.05, inputBits: 12)
        let k = p.degree, t = p.threshold
        #expect(SecAggParameters.binomialTail(k: k, p: 0.3, atLeast: k - t + 1) <= 0x1p-20 / 1000)
        #expect(SecAggParameters.binomialTail(k: k, p: 0.05, atLeast: 2 * t - k) <= 0x1p-40 / 1000)
        #expect(throws: SecAggError.self) { try SecAggParameters.derive(clientCount: 100, dropoutRate: 0.3, corruptionRate: 0.1) }
    }

    @Test func rejectsThresholdOutsideHalfToK() throws {
        let q = try Quantizer(clip: 1, inputBits: 8, clientCount: 10)
        #expect(throws: SecAggError.self) { try SecAggParameters(clientCount: 10, degree: 4, threshold: 2, quantizer: q) }
        #expect(throws: SecAggError.self) { try SecAggParameters(clientCount: 10, degree: 4, threshold: 5, quantizer: q) }
        #expect(try SecAggParameters(clientCount: 10, degree: 4, threshold: 3, quantizer: q).degree == 4)
    }
}

