import Foundation
import Testing

/// `murmur simulate --scoring …`, end to end: the top-contributors table, the JSON keys, the refusals.
@Suite struct ContributionCLITests {
    let cli = CLITests()
    let small = ["simulate", "--clients", "8", "--fraction", "1", "--rounds", "1", "--model", "logreg", "--local-epochs", "1",
                 "--aggregator", "mean", "--eval-every", "0"]

    @Test func scoringPrintsTopContributorsAndJSON() async throws {
        let text = try await cli.murmur(small + ["--attack", "sign-flip", "--malicious", "0.25", "--scoring", "loo", "--validation", "50"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("top contributors (loo") && text.stdout.contains("mean rank by role: honest"))
        let json = try await cli.murmur(small + ["--scoring", "group", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let contributors = object?["contributors"] as? [[String: Any]]
        #expect(contributors?.count == 8 && contributors?.first?["mean_rank"] != nil)
        let history = object?["history"] as? [[String: Any]]
        let perClient = history?.first?["contributions"] as? [[String: Any]]
        #expect(perClient?.count == 8 && perClient?.first?["method"] as? String == "group")
    }

    @Test func scoringThatNeedsUpdatesIsRefusedWithSecAgg() async throws {
        let r = try await cli.murmur(small + ["--secagg", "--scoring", "gtg-shapley"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--scoring participation or --scoring group"), "\(r.stderr)")
        let orphan = try await cli.murmur(small + ["--validation", "50"])
        #expect(orphan.status != 0 && orphan.stderr.contains("--scoring METHOD"), "\(orphan.stderr)")
    }
}
