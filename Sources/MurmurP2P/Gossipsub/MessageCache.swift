/// gossipsub's message cache (mcache): recent messages in `historyLength` heartbeat windows.
///
/// Spec: gossipsub-v1.0.md "Message Cache": `put` adds to the newest window, `gossipIDs(topic)`
/// lists ids from the newest `historyGossip` windows (for IHAVE), `shift` drops the oldest
/// window every heartbeat; IWANT is answered from any window.
public struct MessageCache: Sendable {
    /// Windows, newest first: message ids with their topic.
    private var windows: [[(id: [UInt8], topic: String)]]
    private var messages: [[UInt8]: PubsubWireMessage] = [:]
    /// Number of windows kept.
    public let historyLength: Int
    /// Number of windows gossiped.
    public let historyGossip: Int

    /// A cache of `historyLength` windows gossiping the newest `historyGossip`.
    public init(historyLength: Int, historyGossip: Int) {
        self.historyLength = max(historyLength, 1)
        self.historyGossip = min(max(historyGossip, 1), max(historyLength, 1))
        windows = [[]]
    }

    /// Adds a message under `id` to the newest window (no-op if present).
    public mutating func put(id: [UInt8], topic: String, _ message: PubsubWireMessage) {
        guard messages[id] == nil else { return }
        messages[id] = message
        windows[0].append((id, topic))
    }

    /// The message with `id`, if still cached.
    public func get(_ id: [UInt8]) -> PubsubWireMessage? { messages[id] }

    /// Ids in `topic` from the newest `historyGossip` windows.
    public func gossipIDs(topic: String) -> [[UInt8]] {
        windows.prefix(historyGossip).flatMap { $0.filter { $0.topic == topic }.map(\.id) }
    }

    /// Starts a new window, dropping the oldest beyond `historyLength`.
    public mutating func shift() {
        windows.insert([], at: 0)
        while windows.count > historyLength {
            for e in windows.removeLast() { messages[e.id] = nil }
        }
    }

    /// Messages currently cached.
    public var count: Int { messages.count }
}

/// Message ids seen in the last `ttl` seconds (the "seen cache" that drops duplicates).
public struct SeenCache: Sendable {
    private var expiry: [[UInt8]: Double] = [:]
    private var order: [([UInt8], Double)] = []
    private var head = 0
    /// Seconds an id is remembered.
    public let ttl: Double

    /// A cache remembering ids for `ttl` seconds.
    public init(ttl: Double) { self.ttl = ttl }

    /// Whether `id` was seen and not yet expired.
    public func contains(_ id: [UInt8]) -> Bool { expiry[id] != nil }

    /// Remembers `id` from `now`; returns false if it was already there.
    @discardableResult
    public mutating func insert(_ id: [UInt8], now: Double) -> Bool {
        guard expiry[id] == nil else { return false }
        expiry[id] = now + ttl
        order.append((id, now + ttl))
        return true
    }

    /// Forgets ids whose time is up.
    public mutating func expire(now: Double) {
        while head < order.count, order[head].1 <= now {
            expiry[order[head].0] = nil
            head += 1
        }
        if head > 1024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    /// Ids remembered.
    public var count: Int { expiry.count }
}
