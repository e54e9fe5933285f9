import Testing

@testable import MurmurP2P

/// The message cache and seen cache (gossipsub-v1.0.md "Message Cache").
struct GossipsubCacheTests {
    @Test func messageCacheGossipsRecentWindowsOnly() {
        var cache = MessageCache(historyLength: 5, historyGossip: 3)
        for i in 0..<6 {
            cache.put(id: [UInt8(i)], topic: i % 2 == 0 ? "a" : "b", PubsubWireMessage(data: [UInt8(i)]))
            cache.shift()
        }
        // Windows after 6 shifts: [], [5], [4], [3], [2]; ids 0 and 1 fell out.
        #expect(cache.get([0]) == nil && cache.get([1]) == nil)
        #expect(cache.get([2])?.data == [2])
        #expect(cache.gossipIDs(topic: "a") == [[4]])
        #expect(cache.gossipIDs(topic: "b") == [[5]])
        #expect(cache.count == 4)
    }

    @Test func seenCacheExpires() {
        var seen = SeenCache(ttl: 10)
        let first = seen.insert([1], now: 0)
        let again = seen.insert([1], now: 5)
        #expect(first && !again)
        seen.expire(now: 9)
        #expect(seen.contains([1]))
        seen.expire(now: 10)
        #expect(!seen.contains([1]))
    }
}
