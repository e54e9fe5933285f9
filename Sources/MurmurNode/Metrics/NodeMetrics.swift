import CoreMetrics
import Metrics
import Prometheus

/// The node's metrics through swift-metrics, exported as Prometheus text at `/metrics`
/// (Prometheus exposition format 0.0.4). Each node has its own registry, so several nodes in one
/// process (tests, `murmur cluster`) do not mix counts and nothing is bootstrapped globally.
/// Why: operators scrape request rates by route and status, connected peers, rounds and log growth.
public final class NodeMetrics: Sendable {
    /// The Prometheus registry behind the factory.
    public let registry: PrometheusCollectorRegistry
    /// A swift-metrics factory writing into `registry`; pass it to `Counter(label:dimensions:factory:)`.
    public let factory: any MetricsFactory
    let peers: CoreMetrics.Gauge
    let rounds: CoreMetrics.Gauge
    let logEntries: CoreMetrics.Gauge
    let bodyLimit: CoreMetrics.Gauge

    /// Names of the series, for docs and tests.
    public enum Name {
        /// Counter with `route`, `method` and `status` labels.
        public static let requests = "murmur_http_requests_total"
        /// Gauge: live libp2p connections' distinct peers.
        public static let peers = "murmur_peers_connected"
        /// Gauge: rounds with status completed in the node's history.
        public static let rounds = "murmur_rounds_completed"
        /// Gauge: entries in the node's log.
        public static let logEntries = "murmur_log_entries"
        /// Gauge: the configured request body limit in bytes.
        public static let bodyLimit = "murmur_http_max_body_bytes"
    }

    /// A fresh registry with the node's gauges at zero.
    public init() {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        self.registry = registry
        self.factory = factory
        peers = CoreMetrics.Gauge(label: Name.peers, factory: factory)
        rounds = CoreMetrics.Gauge(label: Name.rounds, factory: factory)
        logEntries = CoreMetrics.Gauge(label: Name.logEntries, factory: factory)
        bodyLimit = CoreMetrics.Gauge(label: Name.bodyLimit, factory: factory)
        for g in [peers, rounds, logEntries, bodyLimit] { g.record(0) }
    }

    /// Counts one answered request; `route` is the route template (e.g. `/v1/models/{cid}`), never the raw path.
    public func countRequest(route: String, method: String, status: Int) {
        CoreMetrics.Counter(label: Name.requests, dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory).increment()
    }

    /// Sets the gauges that mirror node state.
    public func update(peers: Int? = nil, roundsCompleted: Int? = nil, logEntries: UInt64? = nil, maxBodyBytes: Int? = nil) {
        if let peers { self.peers.record(peers) }
        if let roundsCompleted { rounds.record(roundsCompleted) }
        if let logEntries { self.logEntries.record(Double(logEntries)) }
        if let maxBodyBytes { bodyLimit.record(maxBodyBytes) }
    }

    /// Every series in Prometheus text format.
    public func text() -> String { registry.emitToString() }
}
