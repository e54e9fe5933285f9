import MurmurTestSupport
import Testing
@testable import MurmurFL

@Suite(.ownThreads) struct ContributionLeaveOneOutTests {
    /// An additive game v(S) = Σ_{i∈S} wᵢ: leave-one-out gives exactly wᵢ (and so does Shapley).
    @Test func additiveGameGivesTheWeights() throws {
        let w = [0.25, -0.5, 1.0, 0.0]
        var game = ClosureGame(playerCount: 4) { s in s.reduce(0) { $0 + w[$1] } }
        #expect(try LeaveOneOut.values(&game) == w)
        #expect(game.evaluations == 5)  // v(N) and the four v(N ∖ {i})
    }

    /// The glove game (one left glove 0, right gloves 1 and 2): removing either right glove
    /// loses nothing, so LOO gives them 0 while Shapley gives 1/6 each — LOO is blind to
    /// redundancy, and its scores need not sum to v(N) − v(∅).
    @Test func redundantPlayersScoreZero() throws {
        var game = ClosureGame(playerCount: 3) { s in s.contains(0) && (s.contains(1) || s.contains(2)) ? 1 : 0 }
        #expect(try LeaveOneOut.values(&game) == [1, 0, 0])
    }

    @Test func emptyRoundHasNoScores() throws {
        var game = ClosureGame(playerCount: 0) { _ in 0 }
        #expect(try LeaveOneOut.values(&game).isEmpty)
    }
}
