import Testing

@testable import MurmurP2P

/// hashicorp/yamux spec.md and libp2p/specs yamux/README.md: 12-byte big-endian header,
/// types data/window update/ping/go away, flags SYN/ACK/FIN/RST, 256 KiB initial window.
@Suite struct YamuxTests {
    @Test func headerEncoding() throws {
        // Window update with SYN for stream 1: version 0, type 1, flags 0x0001, id 1, delta 0.
        let h = YamuxHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0)
        #expect(h.encoded == [0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0])
        let d = YamuxHeader(type: .data, flags: [.fin, .rst], streamID: 0x0102_0304, length: 0x0506_0708)
        #expect(d.encoded == [0, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8])
        #expect(try YamuxHeader(decoding: d.encoded) == d)
        #expect(throws: P2PError.self) { try YamuxHeader(decoding: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) }  // version 1
        #expect(throws: P2PError.self) { try YamuxHeader(decoding: [0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) }  // type 4
    }

    /// A client/server pair with a helper that delivers everything pending.
    struct Pair {
        var client = YamuxSession(isClient: true)
        var server = YamuxSession(isClient: false)
        var toServer: [UInt8] = []
        var toClient: [UInt8] = []
        var serverEvents: [YamuxSession.Event] = []
        var clientEvents: [YamuxSession.Event] = []

        mutating func pump() throws {
            while !toServer.isEmpty || !toClient.isEmpty {
                let s = try server.receive(toServer)
                toServer = []
                toClient += s.send
                serverEvents += s.events
                let c = try client.receive(toClient)
                toClient = []
                toServer += c.send
                clientEvents += c.events
            }
        }

        func received(_ events: [YamuxSession.Event], _ id: UInt32) -> Int {
            events.reduce(0) { if case .data(id, let b) = $1 { return $0 + b.count } else { return $0 } }
        }
    }

    @Test func openWriteFinBothWays() throws {
        var p = Pair()
        let (id, syn) = try p.client.openStream()
        #expect(id == 1)
        p.toServer += syn
        p.toServer += try p.client.write(id, [1, 2, 3])
        p.toServer += p.client.closeWrite(id).send
        try p.pump()
        #expect(p.serverEvents == [.streamOpened(1), .data(1, [1, 2, 3]), .remoteClosed(1)])
        p.toClient += try p.server.write(id, [9])
        let close = p.server.closeWrite(id)
        p.toClient += close.send
        #expect(close.events == [.streamClosed(1)])  // both directions done on the server
        try p.pump()
        #expect(p.clientEvents == [.data(1, [9]), .remoteClosed(1), .streamClosed(1)])
        #expect(p.client.streamCount == 0)
        #expect(p.server.streamCount == 0)
    }

    @Test func senderStopsAtTheWindowUntilTheReaderConsumes() throws {
        var p = Pair()
        let (id, syn) = try p.client.openStream()
        p.toServer += syn
        let total = 600 * 1024
        p.toServer += try p.client.write(id, [UInt8](repeating: 7, count: total))
        try p.pump()
        // Nothing consumed: exactly the initial window crossed.
        #expect(p.received(p.serverEvents, id) == Int(YamuxSession.initialWindow))
        #expect(p.client.framedTotal(id) == UInt64(YamuxSession.initialWindow))
        // Consuming less than half the window grants nothing yet.
        p.toClient += p.server.consumed(id, 100 * 1024)
        try p.pump()
        #expect(p.received(p.serverEvents, id) == Int(YamuxSession.initialWindow))
        // Past half: one window update, and the sender continues.
        var delivered = p.received(p.serverEvents, id)
        p.toClient += p.server.consumed(id, delivered - 100 * 1024)
        try p.pump()
        while p.received(p.serverEvents, id) > delivered {
            let more = p.received(p.serverEvents, id) - delivered
            delivered += more
            p.toClient += p.server.consumed(id, more)
            try p.pump()
        }
        #expect(delivered == total)
        #expect(p.client.framedTotal(id) == UInt64(total))
    }

    @Test func overrunningTheWindowIsAProtocolError() throws {
        var server = YamuxSession(isClient: false)
        _ = try server.receive(YamuxHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0).encoded)
        let n = Int(YamuxSession.initialWindow) + 1
        // Rejected on the header alone, before the body is buffered.
        #expect(throws: P2PError.self) { try server.receive(YamuxHeader(type: .data, streamID: 1, length: UInt32(n)).encoded) }
    }

    @Test func streamLimitResetsExtraStreams() throws {
        var config = YamuxSession.Configuration()
        config.maxStreams = 2
        var server = YamuxSession(isClient: false, configuration: config)
        var rsts = 0
        for id in stride(from: UInt32(1), through: 7, by: 2) {
            let out = try server.receive(YamuxHeader(type: .windowUpdate, flags: .syn, streamID: id, length: 0).encoded)
            if out.send.count == 12, try YamuxHeader(decoding: out.send).flags == .rst { rsts += 1 }
        }
        #expect(server.streamCount == 2)
        #expect(rsts == 2)
        var client = YamuxSession(isClient: true, configuration: config)
        _ = try client.openStream()
        _ = try client.openStream()
        #expect(throws: P2PError.self) { try client.openStream() }
    }

    @Test func wrongParityAndDuplicateSYNAreErrors() throws {
        var server = YamuxSession(isClient: false)
        #expect(throws: P2PError.self) {
            try server.receive(YamuxHeader(type: .windowUpdate, flags: .syn, streamID: 2, length: 0).encoded)
        }
        var s2 = YamuxSession(isClient: false)
        let syn = YamuxHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0).encoded
        _ = try s2.receive(syn)
        #expect(throws: P2PError.self) { try s2.receive(syn) }
    }

    @Test func pingIsAnsweredAndGoAwayStopsNewStreams() throws {
        var p = Pair()
        p.toServer += p.client.ping(42)
        try p.pump()
        #expect(p.clientEvents == [.pong(42)])
        p.toClient += p.server.goAway()
        try p.pump()
        #expect(p.clientEvents.last == .goAway(.normal))
        #expect(throws: P2PError.self) { try p.client.openStream() }
        #expect(throws: P2PError.self) { try p.server.openStream() }
    }

    @Test func resetDropsTheStream() throws {
        var p = Pair()
        let (id, syn) = try p.client.openStream()
        p.toServer += syn
        try p.pump()
        p.toClient += p.server.reset(id)
        try p.pump()
        #expect(p.clientEvents.last == .reset(id))
        #expect(p.client.streamCount == 0)
        #expect(throws: P2PError.self) { try p.client.write(id, [1]) }
    }

    @Test func headersSplitAcrossReads() throws {
        var server = YamuxSession(isClient: false)
        let bytes = YamuxHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0).encoded
            + YamuxHeader(type: .data, streamID: 1, length: 3).encoded + [7, 8, 9]
        var events: [YamuxSession.Event] = []
        for b in bytes { events += try server.receive([b]).events }
        #expect(events == [.streamOpened(1), .data(1, [7, 8, 9])])
    }

    /// A client session whose queued data is framed only by `drain`, in frames of ≤ 1000 bytes.
    static func explicitlyDrainedClient() -> YamuxSession {
        var config = YamuxSession.Configuration()
        config.drainExplicitly = true
        config.maxFrameData = 1000
        return YamuxSession(isClient: true, configuration: config)
    }

    @Test func explicitDrainSharesTheBudgetAcrossStreams() throws {
        var client = Self.explicitlyDrainedClient()
        let (a, _) = try client.openStream()
        let (b, _) = try client.openStream()
        #expect(try client.write(a, [UInt8](repeating: 1, count: 5000)).isEmpty)  // queued, not framed
        #expect(try client.write(b, [UInt8](repeating: 2, count: 5000)).isEmpty)
        _ = client.closeWrite(a)
        let first = client.drain(budget: 2000)
        // One frame from each stream, in turn.
        #expect(first.send.count == 2 * (12 + 1000))
        #expect(client.framedTotal(a) == 1000 && client.framedTotal(b) == 1000)
        var rest: [UInt8] = []
        while case let d = client.drain(budget: 100_000), !d.send.isEmpty { rest += d.send }
        #expect(client.framedTotal(a) == 5000 && client.framedTotal(b) == 5000)
        // Stream a's last frame carries FIN.
        var server = YamuxSession(isClient: false)
        let opened = try server.receive(YamuxHeader(type: .windowUpdate, flags: .syn, streamID: a, length: 0).encoded
            + YamuxHeader(type: .windowUpdate, flags: .syn, streamID: b, length: 0).encoded + first.send + rest)
        #expect(opened.events.contains(.remoteClosed(a)))
        #expect(!opened.events.contains(.remoteClosed(b)))
    }

    @Test func framesTakeTheirDataAcrossQueuedWritesInOrder() throws {
        var client = Self.explicitlyDrainedClient()
        let (id, syn) = try client.openStream()
        // Writes smaller and larger than a frame, an empty one, one that ends exactly on a frame.
        let sizes = [1, 2500, 0, 999, 1, 1000, 7, 3333]
        var expected: [UInt8] = []
        for (i, n) in sizes.enumerated() {
            let w = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            expected += w
            #expect(try client.write(id, w).isEmpty)
        }
        _ = client.closeWrite(id)
        // Small budgets, so drains stop in the middle of a write as well as between writes.
        var wire: [UInt8] = []
        var drains = 0
        while case let d = client.drain(budget: 1700), !d.send.isEmpty {
            wire += d.send
            drains += 1
        }
        #expect(drains >= expected.count / 1700)
        #expect(client.framedTotal(id) == UInt64(expected.count))
        var server = YamuxSession(isClient: false)
        let out = try server.receive(syn + wire)
        var got: [UInt8] = []
        var frames = 0
        for e in out.events { if case .data(id, let b) = e { got += b; frames += 1; #expect(b.count <= 1000) } }
        #expect(got == expected)
        #expect(frames == (expected.count + 999) / 1000)  // every frame but the last is full
        #expect(out.events.last == .remoteClosed(id))
    }

    /// `n` bytes of data on stream `id`, framed.
    static func data(_ id: UInt32, _ n: Int) -> [UInt8] {
        YamuxHeader(type: .data, streamID: id, length: UInt32(n)).encoded + [UInt8](repeating: 3, count: n)
    }

    /// The delta of the one window update in `bytes`, or nil if there is none.
    static func delta(_ bytes: [UInt8]) throws -> UInt32? {
        guard !bytes.isEmpty else { return nil }
        let h = try YamuxHeader(decoding: bytes)
        #expect(h.type == .windowUpdate && bytes.count == YamuxHeader.size)
        return h.length
    }

    @Test func windowDoublesWhileTheReaderKeepsUpUpToTheMaximum() throws {
        var config = YamuxSession.Configuration()
        config.maxReceiveWindow = 1 << 20
        var server = YamuxSession(isClient: false, configuration: config)
        _ = try server.receive(YamuxHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0).encoded)
        let k = 1024
        // Half the window read each time: 256 KiB → 512 KiB → 1 MiB, then credit only.
        var deltas: [UInt32?] = []
        for half in [128 * k, 256 * k, 512 * k, 512 * k] {
            _ = try server.receive(Self.data(1, half))
            deltas.append(try Self.delta(server.consumed(1, half)))
        }
        #expect(deltas == [UInt32(384 * k), UInt32(768 * k), UInt32(512 * k), UInt32(512 * k)])
        // The grown window is still enforced: 1 MiB is outstanding now, one byte more is refused.
        _ = try server.receive(Self.data(1, 1 << 20))
        #expect(throws: P2PError.self) { try server.receive(Self.data(1, 1)) }
    }

    @Test func windowGrowthSharesTheSessionBudget() throws {
        var config = YamuxSession.Configuration()
        config.windowGrowthBudget = 256 * 1024
        var server = YamuxSession(isClient: false, configuration: config)
        for id: UInt32 in [1, 3] {
            _ = try server.receive(YamuxHeader(type: .windowUpdate, flags: .syn, streamID: id, length: 0).encoded)
        }
        let half = 128 * 1024
        _ = try server.receive(Self.data(1, half) + Self.data(3, half))
        // Stream 1 takes the whole budget; stream 3 only gets its bytes back.
        #expect(try Self.delta(server.consumed(1, half)) == UInt32(half + 256 * 1024))
        #expect(try Self.delta(server.consumed(3, half)) == UInt32(half))
        // Once stream 1 is gone its growth returns to the budget.
        _ = server.reset(1)
        _ = try server.receive(Self.data(3, half))
        #expect(try Self.delta(server.consumed(3, half)) == UInt32(half + 256 * 1024))
    }

    @Test func framesSplitAcrossNoiseMessagesAndCoalescedOnesDecodeAlike() throws {
        var server = YamuxSession(isClient: false)
        let bytes = YamuxHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0).encoded
            + Self.data(1, 70_000) + YamuxHeader(type: .ping, flags: .syn, streamID: 0, length: 9).encoded + Self.data(1, 5)
        var events: [YamuxSession.Event] = []
        var send: [UInt8] = []
        var offset = 0
        for size in [5, 65519, 3, 65519] {  // a header split in two, a frame split over messages
            let end = min(bytes.count, offset + size)
            let out = try server.receive(Array(bytes[offset..<end]))
            events += out.events
            send += out.send
            offset = end
        }
        #expect(offset == bytes.count)
        #expect(events == [.streamOpened(1), .data(1, [UInt8](repeating: 3, count: 70_000)), .data(1, [3, 3, 3, 3, 3])])
        #expect(send == YamuxHeader(type: .windowUpdate, flags: .ack, streamID: 1, length: 0).encoded
            + YamuxHeader(type: .ping, flags: .ack, streamID: 0, length: 9).encoded)
    }
}
