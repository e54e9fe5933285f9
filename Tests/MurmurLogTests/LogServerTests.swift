import MurmurLogHTTP
import MurmurTestSupport
import Testing

/// `--listen` parsing: HOST:PORT, :PORT, PORT; anything else is refused.
@Suite(.ownThreads) struct LogServerTests {
    @Test func parsesListenAddresses() {
        #expect(LogServer.listenAddress("127.0.0.1:8080")! == ("127.0.0.1", 8080))
        #expect(LogServer.listenAddress(":0")! == ("127.0.0.1", 0))
        #expect(LogServer.listenAddress("9000")! == ("127.0.0.1", 9000))
        #expect(LogServer.listenAddress("0.0.0.0:80")! == ("0.0.0.0", 80))
        for bad in ["", "x", "host:", "host:70000", "a:b:c", ":-1"] {
            #expect(LogServer.listenAddress(bad) == nil, "\(bad)")
        }
    }
}
