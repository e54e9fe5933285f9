import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurFL

@Suite(.ownThreads) struct ContributionGroupTests {
    @Test func groupsPartitionTheRoundWithAtLeastTheGroupSize() {
        for (count, size) in [(20, 5), (22, 5), (7, 3), (3, 5), (1, 1)] {
            var rng = SeededRNG(seed: 11)
            let groups = GroupScore.groups(count: count, size: size, rng: &rng)
            #expect(groups.flatMap { $0 }.sorted() == Array(0..<count))
            #expect(groups.count == max(1, count / size))
            if count >= size { #expect(groups.allSatisfy { $0.count >= size }) }
            let sizes = groups.map(\.count)
            #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
        }
        var a = SeededRNG(seed: 1), b = SeededRNG(seed: 1), c = SeededRNG(seed: 2)
        #expect(GroupScore.groups(count: 20, size: 5, rng: &a) == GroupScore.groups(count: 20, size: 5, rng: &b))
        #expect(GroupScore.groups(count: 20, size: 5, rng: &a) != GroupScore.groups(count: 20, size: 5, rng: &c))
    }

    /// Members' shares are proportional to samples and sum to their group's value.
    @Test func splitSumsToTheGroupValue() {
        let groups = [[0, 2], [1, 3, 4], [5]]
        let samples = [10, 1, 30, 1, 2, 0]
        let values = [0.8, -0.3, 0.1]
        let shares = GroupScore.split(groupValues: values, groups: groups, samples: samples)
        for (g, members) in groups.enumerated() {
            #expect(abs(members.reduce(0) { $0 + shares[$1] } - values[g]) < 1e-12)
        }
        #expect(abs(shares[0] - 0.2) < 1e-12 && abs(shares[2] - 0.6) < 1e-12)
        #expect(abs(shares[4] - (-0.15)) < 1e-12)
        #expect(shares[5] == 0.1)  // a group reporting no samples splits equally
        let equal = GroupScore.split(groupValues: [1], groups: [[0, 1]], samples: [0, 0])
        #expect(equal == [0.5, 0.5])
    }

    /// Group sums are what one SecAgg instance per group reveals; the game over groups is
    /// the game over clients with each group's members merged.
    @Test func gameOverGroupsMergesMembers() throws {
        let results = [
            FitResult(client: 0, delta: [1, 0], sampleCount: 2, trainLoss: 0),
            FitResult(client: 1, delta: [0, 1], sampleCount: 2, trainLoss: 0),
            FitResult(client: 2, delta: [-1, -1], sampleCount: 4, trainLoss: 0),
        ]
        let players = results.map(CoalitionAveraging.samples.player)
        let u: ([Float]) -> Double = { Double($0[0] + 2 * $0[1]) }
        var clients = RoundGame(players: players, global: [0, 0], strategy: FedAvg(), round: 1, utility: u)
        var groups = RoundGame(
            players: [GameUpdate.sum([players[0], players[1]], dimension: 2), players[2]], global: [0, 0],
            strategy: FedAvg(), round: 1, utility: u)
        #expect(try groups.value([0]) == clients.value([0, 1]))
        #expect(try groups.value([0, 1]) == clients.value([0, 1, 2]))
        var rng = SeededRNG(seed: 1)
        let phi = try GroupScore.groupValues(&groups, exactLimit: 10, gtg: GTGShapleyOptions(), rng: &rng)
        #expect(abs(phi.reduce(0, +) - (try groups.value([0, 1]) - groups.value([]))) < 1e-9)
        #expect(phi[0] > 0 && phi[1] < 0)
    }
}
