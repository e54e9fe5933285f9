import MurmurCore
import Testing

@testable import MurmurP2P

/// The whole upgrade (multistream → Noise → multistream → yamux → per-stream multistream)
/// between two state machines, with no socket.
@Suite struct ConnectionMachineTests {
    struct Link {
        var dialer: ConnectionMachine
        var listener: ConnectionMachine
        var toListener: [UInt8] = []
        var toDialer: [UInt8] = []
        var dialerEvents: [ConnectionMachine.Event] = []
        var listenerEvents: [ConnectionMachine.Event] = []
        let chunk: Int

        init(chunk: Int, dialerID: Identity, listenerID: Identity, expected: PeerID?) {
            self.chunk = chunk
            dialer = ConnectionMachine(isDialer: true, identity: dialerID, servedProtocols: [], expectedPeer: expected)
            listener = ConnectionMachine(isDialer: false, identity: listenerID, servedProtocols: ["/echo", "/other"])
            toListener = dialer.start().send
            toDialer = listener.start().send
        }

        mutating func pump() throws {
            while !toListener.isEmpty || !toDialer.isEmpty {
                if !toListener.isEmpty {
                    let n = min(chunk, toListener.count)
                    let o = try listener.receive(Array(toListener.prefix(n)))
                    toListener.removeFirst(n)
                    toDialer += o.send
                    listenerEvents += o.events
                }
                if !toDialer.isEmpty {
                    let n = min(chunk, toDialer.count)
                    let o = try dialer.receive(Array(toDialer.prefix(n)))
                    toDialer.removeFirst(n)
                    toListener += o.send
                    dialerEvents += o.events
                }
            }
        }
    }

    @Test func upgradeAndStreamByteByByte() throws {
        for chunk in [1, 5, 1 << 20] {
            let a = Identity()
            let b = Identity()
            var link = Link(chunk: chunk, dialerID: a, listenerID: b, expected: b.peerID)
            try link.pump()
            #expect(link.dialerEvents == [.established(b.peerID)])
            #expect(link.listenerEvents == [.established(a.peerID)])

            let (id, open) = try link.dialer.openStream(protocols: ["/nope", "/echo"])
            link.toListener += open.send
            try link.pump()
            #expect(link.dialerEvents.last == .streamReady(id, protocol: "/echo", inbound: false))
            #expect(link.listenerEvents.last == .streamReady(id, protocol: "/echo", inbound: true))

            link.toListener += try link.dialer.write(id, [1, 2, 3]).send
            link.toListener += try link.dialer.closeWrite(id).send
            try link.pump()
            #expect(link.listenerEvents.suffix(2) == [.streamData(id, [1, 2, 3]), .streamRemoteClosed(id)])
        }
    }

    @Test func framesOfOneStreamInOneReadArriveAsOneChunk() throws {
        let a = Identity()
        let b = Identity()
        var link = Link(chunk: 1 << 22, dialerID: a, listenerID: b, expected: b.peerID)
        try link.pump()
        let (id, open) = try link.dialer.openStream(protocols: ["/echo"])
        link.toListener += open.send
        try link.pump()
        // Three writes, three frames (several Noise messages for the last), one socket read.
        let big = (0..<150_000).map { UInt8(truncatingIfNeeded: $0) }
        for data in [[1, 2, 3], [4, 5], big] { link.toListener += try link.dialer.write(id, data).send }
        link.toListener += try link.dialer.closeWrite(id).send
        let before = link.listenerEvents.count
        try link.pump()
        #expect(Array(link.listenerEvents[before...]) == [.streamData(id, [1, 2, 3, 4, 5] + big), .streamRemoteClosed(id)])
    }

    /// A large read takes the routed path (payloads opened straight into the reader's chunk):
    /// whatever mix of streams, control frames and cuts arrives, each stream's bytes come out
    /// whole and in order, and a tampered routed message fails the read.
    @Test func routedReadsKeepEachStreamsBytesInOrder() throws {
        var link = Link(chunk: 1 << 22, dialerID: Identity(), listenerID: Identity(), expected: nil)
        try link.pump()
        let (a, openA) = try link.dialer.openStream(protocols: ["/echo"])
        let (b, openB) = try link.dialer.openStream(protocols: ["/other"])
        link.toListener += openA.send + openB.send
        try link.pump()
        func data(_ n: Int, _ seed: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* seed &+ seed) } }
        let writes: [(UInt32, [UInt8])] = [(a, data(70_000, 3)), (b, data(5, 5)), (a, data(65_507, 7)), (b, data(131_014, 9)), (a, data(40, 11))]
        var wire: [UInt8] = []
        for (id, bytes) in writes { wire += try link.dialer.write(id, bytes).send }
        wire += try link.dialer.closeWrite(a).send
        wire += try link.dialer.write(b, data(3, 13)).send
        let expectedA = writes.filter { $0.0 == a }.flatMap(\.1)
        let expectedB = writes.filter { $0.0 == b }.flatMap(\.1) + data(3, 13)
        for cut in [wire.count, 100_000, 65_537 * 2 + 5, 40_000] {
            var listener = link.listener
            var events: [ConnectionMachine.Event] = []
            var offset = 0
            while offset < wire.count {
                let end = min(wire.count, offset + cut)
                events += try listener.receive(Array(wire[offset..<end])).events
                offset = end
            }
            var got: [UInt32: [UInt8]] = [:]
            var closedA = false
            for e in events {
                if case .streamData(let id, let bytes) = e {
                    #expect(!(id == a && closedA), "data after FIN, reads of \(cut)")
                    got[id, default: []] += bytes
                }
                if case .streamRemoteClosed(a) = e { closedA = true }
            }
            #expect(got[a] == expectedA && got[b] == expectedB && closedA, "reads of \(cut)")
        }
        // A flipped bit in a routed message's payload fails the whole read.
        var bad = try link.dialer.write(b, data(65_507, 17)).send
        bad[40_000] ^= 1
        var listener = link.listener
        #expect(throws: P2PError.self) { try listener.receive(bad) }
    }

    @Test func unsupportedStreamProtocolFailsOnlyThatStream() throws {
        var link = Link(chunk: 1 << 20, dialerID: Identity(), listenerID: Identity(), expected: nil)
        try link.pump()
        let (id, open) = try link.dialer.openStream(protocols: ["/missing"])
        link.toListener += open.send
        try link.pump()
        guard case .streamFailed(id, _)? = link.dialerEvents.last else {
            Issue.record("expected streamFailed, got \(link.dialerEvents)")
            return
        }
        #expect(link.dialer.isMuxed)
        // The connection still works.
        let (id2, open2) = try link.dialer.openStream(protocols: ["/other"])
        link.toListener += open2.send
        try link.pump()
        #expect(link.dialerEvents.last == .streamReady(id2, protocol: "/other", inbound: false))
    }

    @Test func garbageBeforeTheUpgradeIsRejected() {
        var listener = ConnectionMachine(isDialer: false, identity: Identity(), servedProtocols: [])
        // A complete message that is not the multistream header.
        #expect(throws: P2PError.self) { try listener.receive(Multistream.encode("GET / HTTP/1.1")) }
        // An HTTP request reads as a 71-byte ('G') message without its newline.
        var other = ConnectionMachine(isDialer: false, identity: Identity(), servedProtocols: [])
        #expect(throws: P2PError.self) { try other.receive(Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8) + [UInt8](repeating: 0x20, count: 60)) }
    }

    @Test func streamsBeforeTheUpgradeAreRefused() {
        var dialer = ConnectionMachine(isDialer: true, identity: Identity(), servedProtocols: [])
        #expect(throws: P2PError.self) { try dialer.openStream(protocols: ["/echo"]) }
    }
}
