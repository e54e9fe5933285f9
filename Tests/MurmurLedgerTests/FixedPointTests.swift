@testable import MurmurLedger
import MurmurTestSupport
import Testing

@Suite(.ownThreads) struct FixedPointTests {
    @Test func roundsAndClamps() {
        #expect(FixedPoint.micros(0.3125) == 312_500)
        #expect(FixedPoint.micros(1.0000005) == 1_000_001)
        #expect(FixedPoint.milli(-1.2345) == -1235)
        #expect(FixedPoint.micros(.infinity) == FixedPoint.limit)
        #expect(FixedPoint.micros(-.infinity) == -FixedPoint.limit)
        #expect(FixedPoint.micros(.nan) == 0)
        #expect(FixedPoint.fromMicros(312_500) == 0.3125)
    }

    @Test func negativeScoresEarnNothing() {
        let c = Contribution.scored(round: 2, peer: "p", samples: 10, score: -0.25, method: "leave-one-out")
        #expect(c.scoreMicros == 0)
        #expect(Contribution.scored(round: 2, peer: "p", samples: 10, score: 0.5, method: "gtg-shapley", anomalous: true).scoreMicros == 500_000)
    }
}
