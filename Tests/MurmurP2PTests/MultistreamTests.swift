import Testing

@testable import MurmurP2P

/// libp2p/specs connections/README.md "multistream-select" and multiformats/multistream-select.
@Suite struct MultistreamTests {
    @Test func specWireExamples() {
        // "the string "na" is sent as the following bytes": 0x03 0x6e 0x61 0x0a.
        #expect(Multistream.encode("na") == [0x03, 0x6e, 0x61, 0x0a])
        #expect(Multistream.encode("/multistream/1.0.0") == [0x13] + Array("/multistream/1.0.0\n".utf8))
    }

    /// Runs an initiator against a listener, delivering `chunk` bytes at a time.
    func negotiate(_ proposals: [String], _ served: [String], chunk: Int) throws -> (String?, String?) {
        var i = MultistreamInitiator(protocols: proposals)
        var l = MultistreamListener(protocols: served)
        var toListener = i.start()
        var toInitiator = l.start()
        var selectedI: String?
        var selectedL: String?
        for _ in 0..<1000 where selectedI == nil {
            if !toListener.isEmpty {
                let n = min(chunk, toListener.count)
                let r = try l.receive(Array(toListener.prefix(n)))
                toListener.removeFirst(n)
                toInitiator += r.send
                if r.selected != nil { selectedL = r.selected }
            }
            if !toInitiator.isEmpty {
                let n = min(chunk, toInitiator.count)
                let r = try i.receive(Array(toInitiator.prefix(n)))
                toInitiator.removeFirst(n)
                toListener += r.send
                if r.selected != nil { selectedI = r.selected }
            }
        }
        return (selectedI, selectedL)
    }

    @Test func agreesByteByByteAndInOneGo() throws {
        for chunk in [1, 3, 1000] {
            let (a, b) = try negotiate(["/noise"], ["/tls/1.0.0", "/noise"], chunk: chunk)
            #expect(a == "/noise")
            #expect(b == "/noise")
        }
    }

    @Test func fallsBackAfterNa() throws {
        let (a, b) = try negotiate(["/yamux/2.0.0", "/yamux/1.0.0"], ["/yamux/1.0.0"], chunk: 1000)
        #expect(a == "/yamux/1.0.0")
        #expect(b == "/yamux/1.0.0")
    }

    @Test func failsWhenNothingMatches() {
        #expect(throws: P2PError.self) { try negotiate(["/mplex/6.7.0"], ["/yamux/1.0.0"], chunk: 1000) }
    }

    @Test func remainderGoesToTheSelectedProtocol() throws {
        var l = MultistreamListener(protocols: ["/echo"])
        let r = try l.receive(Multistream.encode(Multistream.header) + Multistream.encode("/echo") + [1, 2, 3])
        #expect(r.selected == "/echo")
        #expect(r.remainder == [1, 2, 3])
        #expect(r.send == Multistream.encode("/echo"))
    }

    @Test func lsListsProtocolsBothWireStyles() throws {
        var l = MultistreamListener(protocols: ["/a", "/b"])
        var i = MultistreamInitiator.listing()
        let r1 = try l.receive(i.start())
        #expect(r1.selected == nil)
        let r2 = try i.receive(l.start() + r1.send)
        #expect(r2.listed == ["/a", "/b"])
        // py-libp2p answers with plain lines in one message.
        #expect(MultistreamInitiator.parseListing(Array("/a\n/b\n".utf8)) == ["/a", "/b"])
    }

    @Test func badHeaderIsRejected() {
        var l = MultistreamListener(protocols: ["/a"])
        #expect(throws: P2PError.self) { try l.receive(Multistream.encode("/multistream/2.0.0")) }
        var l2 = MultistreamListener(protocols: ["/a"])
        #expect(throws: P2PError.self) { try l2.receive([0x02, 0x61, 0x62]) }  // no newline
    }
}
