import Testing
@testable import MurmurNode

@Suite("Node metrics")
struct NodeMetricsTests {
    @Test("each node has its own registry; counters by route, method and status; gauges mirror state")
    func separateRegistries() {
        let a = NodeMetrics(), b = NodeMetrics()
        a.countRequest(route: "/v1/status", method: "GET", status: 200)
        a.countRequest(route: "/v1/status", method: "GET", status: 200)
        a.countRequest(route: "/v1/infer", method: "POST", status: 413)
        a.update(peers: 3, roundsCompleted: 2, logEntries: 7, maxBodyBytes: 1024)
        let text = a.text()
        #expect(text.contains("# TYPE \(NodeMetrics.Name.requests) counter"))
        #expect(text.contains("murmur_http_requests_total{route=\"/v1/status\",method=\"GET\",status=\"200\"} 2"))
        #expect(text.contains("murmur_http_requests_total{route=\"/v1/infer\",method=\"POST\",status=\"413\"} 1"))
        for (name, value) in [(NodeMetrics.Name.peers, "3"), (NodeMetrics.Name.rounds, "2"), (NodeMetrics.Name.logEntries, "7"), (NodeMetrics.Name.bodyLimit, "1024")] {
            #expect(text.contains("\n\(name) \(value)"), "\(name) in \(text)")
        }
        #expect(!b.text().contains("murmur_http_requests_total{"))
        #expect(b.text().contains("\n\(NodeMetrics.Name.peers) 0"))
    }
}
