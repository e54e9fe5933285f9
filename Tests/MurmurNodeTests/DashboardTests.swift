import Foundation
import MurmurCore
import MurmurNode
import MurmurTestSupport
import Testing

/// The dashboard in a real browser: headless Chromium (Debian's `chromium`, installed by
/// scripts/test and .ci/run) loads the page of a running node with a connected peer and recorded
/// rounds, runs its scripts, and the DOM it ends with shows the live values (issue 11, item 5).
@Suite(.serialized) struct DashboardTests {
    static func chromium() -> String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs headless Chromium on `url` and returns the DOM after the page's scripts ran
    /// (virtual time lets the first refresh and its fetches finish). Off the cooperative pool.
    static func renderedDOM(_ chromium: String, _ url: URL, screenshot: String? = nil) async throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-chromium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                         "--virtual-time-budget=8000", "--window-size=1280,1000"]
            + (screenshot.map { ["--screenshot=\($0)"] } ?? ["--dump-dom"]) + [url.absoluteString]
        return try await runProcessAsync(URL(fileURLWithPath: chromium), arguments).stdout
    }

    @Test(.timeLimit(.minutes(3))) func headlessChromiumShowsLiveValues() async throws {
        let chromium = try #require(Self.chromium(), "no chromium: install Debian's chromium (scripts/test does)")
        let dir = temporaryFolder("dashboard")
        defer { cleanup(dir) }
        let a = try Node(config: testConfig(dir + "/a"), logger: quietLogger)
        try await withRunningNode(a) { ea in
            let now = Int64(Date().timeIntervalSince1970)
            for r in 1...3 {
                try a.context.recordRound(RoundSummary(
                    round: r, status: .completed, model: CID.raw([UInt8(r)]).description, participants: 4 + r,
                    accuracy: 0.5 + 0.1 * Double(r), epsilon: 0.4 * Double(r), startedAt: now - 10, finishedAt: now))
            }
            let b = try Node(config: testConfig(dir + "/b", bootstrap: ea.p2p.map(\.description)), logger: quietLogger)
            var tally = SpotCheckTally(device: b.context.identity.peerID.description)
            (tally.checked, tally.failed, tally.reasons, tally.reputation, tally.lastCheck) = (12, 2, ["output_mismatch"], -30, now)
            try a.context.store.saveSpotCheck(tally)
            try await withRunningNode(b) { _ in
                #expect(await eventually(seconds: 20) { !a.context.host.connectedPeers.isEmpty })
                let dom = try await Self.renderedDOM(chromium, ea.http.appendingPathComponent("dashboard"))
                #expect(dom.contains("id=\"rounds-completed\">3<"), "rounds completed not shown")
                #expect(dom.contains("round 3: completed, 7 clients, accuracy 80.00 %"))
                // Both plots drew a line through the three rounds.
                for plot in ["accuracy-plot", "epsilon-plot"] {
                    let start = try #require(dom.range(of: "id=\"\(plot)\""), "\(plot) missing")
                    let rest = dom[start.upperBound...]
                    let svg = rest[..<(rest.range(of: "</svg>")?.lowerBound ?? rest.endIndex)]
                    #expect(svg.contains("data-points=\"3\""), "\(plot) has no 3-point line")
                }
                // The peers table lists the connected node (shortened id, full id in the title).
                #expect(dom.contains("title=\"\(b.context.identity.peerID)\""), "peer not listed")
                // The spot-checks table shows the verifier's tally.
                #expect(dom.contains("<td>output_mismatch</td>") && dom.contains("<td class=\"num\">-30</td>"), "spot checks not shown")
                #expect(dom.contains("id=\"log-origin\">\(a.context.ledger.origin)<"))
                #expect(dom.contains("id=\"fetch-status\">updated "), "the page did not report a successful refresh")
                if let shot = ProcessInfo.processInfo.environment["MURMUR_DASHBOARD_SCREENSHOT"] {
                    _ = try await Self.renderedDOM(chromium, ea.http.appendingPathComponent("dashboard"), screenshot: shot)
                }
            }
        }
    }

    /// The issue's setting: `murmur cluster` (5 node processes: 4 clients and the aggregator)
    /// trains its 10 rounds and keeps serving; the aggregator's dashboard shows all of them and
    /// its 4 peers; Ctrl-C (SIGINT) then stops every process and the command exits 0.
    @Test(.clusterSlots, .timeLimit(.minutes(4))) func theDashboardOfARunningClusterShowsItsRounds() async throws {
        let chromium = try #require(Self.chromium(), "no chromium: install Debian's chromium (scripts/test does)")
        let p = Process()
        p.executableURL = murmurBinary
        p.arguments = ["cluster", "--nodes", "4", "--seed", "3"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let log = LineCollector(err.fileHandleForReading)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let serving = await eventually(seconds: 150) { log.lines.contains { $0.hasPrefix("serving the dashboard at ") } }
        try #require(serving, "the cluster never served its dashboard: \(log.lines.joined(separator: "\n"))")
        let line = try #require(log.lines.first { $0.hasPrefix("serving the dashboard at ") })
        let url = try #require(URL(string: String(line.dropFirst("serving the dashboard at ".count).prefix { $0 != " " })))
        let dom = try await Self.renderedDOM(chromium, url)
        #expect(dom.contains("id=\"rounds-completed\">10<"), "rounds completed not shown")
        let start = try #require(dom.range(of: "id=\"accuracy-plot\""))
        #expect(dom[start.upperBound...].prefix(4000).contains("data-points=\"10\""), "no 10-point accuracy line")
        let peers = try #require(dom.range(of: "id=\"peers-table\""))
        let table = dom[peers.upperBound...].prefix { _ in true }
        let body = table[..<(table.range(of: "</table>")?.lowerBound ?? table.endIndex)]
        #expect(body.components(separatedBy: "<tr>").count - 1 >= 5, "expected the header and 4 peers: \(body)")
        // The federation's ledger: its 4 clients were rewarded, and the log holds its records.
        let contributors = try #require(dom.range(of: "id=\"contributors-table\""))
        let rest = dom[contributors.upperBound...]
        let rewards = rest[..<(rest.range(of: "</table>")?.lowerBound ?? rest.endIndex)]
        #expect(rewards.components(separatedBy: "<tr>").count - 1 == 5, "expected the header and 4 rewarded clients: \(rewards)")
        #expect(!rewards.contains("no rewards yet"))
        let size = try #require(dom.range(of: "id=\"log-size\">"))
        let entries = Int(dom[size.upperBound...].prefix { $0.isNumber }) ?? 0
        #expect(entries > 10, "the log should hold the genesis and every round's records")
        // Ctrl-C: every node stops and the command exits 0.
        kill(p.processIdentifier, SIGINT)
        #expect(await eventually(seconds: 30) { !p.isRunning }, "the cluster did not stop after SIGINT")
        #expect(p.terminationStatus == 0)
        #expect(log.lines.contains { $0.hasPrefix("stopping 5 nodes") })
    }
}
