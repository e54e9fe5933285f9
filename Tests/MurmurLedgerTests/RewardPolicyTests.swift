@testable import MurmurLedger
import MurmurTestSupport
import Testing

/// The reward split: proportional to score, capped, nothing for low-quality or anomalous clients.
@Suite(.ownThreads) struct RewardPolicyTests {
    func c(_ peer: String, _ score: Int, anomalous: Bool = false) -> Contribution {
        Contribution(round: 1, peer: peer, samples: 10, scoreMicros: score, method: "test", anomalous: anomalous)
    }

    func amounts(_ r: Reward) -> [String: Int] { Dictionary(uniqueKeysWithValues: r.payouts.map { ($0.peer, $0.amount) }) }

    @Test func splitsProportionallyAndBurnsDust() {
        let p = RewardPolicy(budget: 100, capPercent: 100, qualityThresholdMicros: 0, excess: .redistribute)
        let r = p.rewards(round: 1, contributions: [c("a", 1), c("b", 1), c("c", 1)])
        #expect(amounts(r) == ["a": 33, "b": 33, "c": 33])
        #expect(r.burned == 1)
        let r2 = p.rewards(round: 1, contributions: [c("b", 3), c("a", 1)])
        #expect(r2.payouts == [Payout(peer: "a", amount: 25), Payout(peer: "b", amount: 75)], "sorted by peer id")
    }

    @Test func capRedistributesByWaterFilling() {
        // a would get 80 of 100; the cap is 40, so the other 60 go to b and c in proportion 1:1 = 30 each.
        let p = RewardPolicy(budget: 100, capPercent: 40, qualityThresholdMicros: 0, excess: .redistribute)
        let r = p.rewards(round: 1, contributions: [c("a", 8), c("b", 1), c("c", 1)])
        #expect(amounts(r) == ["a": 40, "b": 30, "c": 30])
        #expect(r.burned == 0)
        // Second pass: after capping a, b's share (60·6/7 = 51) exceeds the cap too.
        let r2 = p.rewards(round: 1, contributions: [c("a", 20), c("b", 6), c("c", 1)])
        #expect(amounts(r2) == ["a": 40, "b": 40, "c": 20])
    }

    @Test func capBurnsExcessWhenAskedTo() {
        let p = RewardPolicy(budget: 100, capPercent: 40, qualityThresholdMicros: 0, excess: .burn)
        let r = p.rewards(round: 1, contributions: [c("a", 8), c("b", 1), c("c", 1)])
        #expect(amounts(r) == ["a": 40, "b": 10, "c": 10])
        #expect(r.burned == 40)
    }

    @Test func belowThresholdAndAnomalousGetNothing() {
        let p = RewardPolicy(budget: 90, capPercent: 100, qualityThresholdMicros: 500, excess: .redistribute)
        let r = p.rewards(round: 1, contributions: [c("good", 1000), c("poor", 499), c("bad", 5000, anomalous: true), c("zero", 0), c("ok", 500)])
        #expect(amounts(r) == ["good": 60, "ok": 30])
        #expect(p.rewards(round: 1, contributions: [c("bad", 1, anomalous: true)]) == Reward(round: 1, payouts: [], burned: 90))
    }

    @Test func neverPaysMoreThanTheBudgetNorAboveTheCap() {
        var rng = UInt64(12345)
        func next() -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int(rng >> 33) }
        for _ in 0..<300 {
            let excess: CapExcess = next() % 2 == 0 ? .burn : .redistribute
            let p = RewardPolicy(budget: next() % 10_000, capPercent: 1 + next() % 100, qualityThresholdMicros: next() % 1000, excess: excess)
            let cs = (0..<(next() % 12)).map { i in c("p\(i)", next() % 2000, anomalous: next() % 7 == 0) }
            let r = p.rewards(round: 1, contributions: cs)
            let paid = r.payouts.reduce(0) { $0 + $1.amount }
            #expect(paid + r.burned == p.budget)
            #expect(r.payouts.allSatisfy { $0.amount > 0 && $0.amount <= p.cap })
            let eligible = Set(cs.filter(p.isEligible).map(\.peer))
            #expect(r.payouts.allSatisfy { eligible.contains($0.peer) })
        }
    }
}
