import MurmurTestSupport
import Testing
@testable import MurmurFL

@Suite(.ownThreads) struct ClientSelectionTests {
    @Test func fractionAndCount() {
        let online = Array(0..<100)
        let a = ClientSelection.fraction(0.1).select(from: online, round: 1, seed: 7)
        #expect(a.count == 10 && Set(a).count == 10 && a == a.sorted())
        #expect(ClientSelection.count(25).select(from: online, round: 1, seed: 7).count == 25)
        #expect(ClientSelection.count(500).select(from: online, round: 1, seed: 7) == online)
        #expect(ClientSelection.fraction(0.001).select(from: online, round: 1, seed: 7).count == 1)
        #expect(ClientSelection.fraction(0.5).select(from: [], round: 1, seed: 7).isEmpty)
    }

    @Test func seededAndVariesByRound() {
        let online = Array(0..<100)
        let s = ClientSelection.fraction(0.2)
        #expect(s.select(from: online, round: 3, seed: 1) == s.select(from: online, round: 3, seed: 1))
        #expect(s.select(from: online, round: 3, seed: 1) != s.select(from: online, round: 4, seed: 1))
        #expect(s.select(from: online, round: 3, seed: 1) != s.select(from: online, round: 3, seed: 2))
    }

    /// Every client is picked about equally often (uniform sampling): over 2,000 rounds at 10 %,
    /// each of 50 clients expects 200 picks; all must land within ±30 %.
    @Test func uniform() {
        var counts = [Int](repeating: 0, count: 50)
        for r in 0..<2000 { for c in ClientSelection.fraction(0.1).select(from: Array(0..<50), round: r, seed: 9) { counts[c] += 1 } }
        #expect(counts.allSatisfy { $0 > 140 && $0 < 260 }, "\(counts)")
    }

    @Test func dropoutRateMatchesProbability() {
        let c = NetworkConditions(dropout: 0.3, straggler: 0.1)
        var drops = 0, late = 0
        let n = 10_000
        for i in 0..<n {
            switch c.fate(client: i, round: 1, seed: 4) {
            case .dropsOut: drops += 1
            case .straggles: late += 1
            case .answers: break
            }
        }
        #expect(abs(Double(drops) / Double(n) - 0.3) < 0.02)
        #expect(abs(Double(late) / Double(n) - 0.07) < 0.02)  // 0.7 × 0.1
    }

    @Test func invalidValuesAreRejected() {
        #expect(throws: FLError.self) { try ClientSelection.fraction(0).validate() }
        #expect(throws: FLError.self) { try ClientSelection.fraction(1.5).validate() }
        #expect(throws: FLError.self) { try NetworkConditions(dropout: 1).validate() }
    }
}
