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
