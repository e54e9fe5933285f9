import Crypto
import MurmurCore
import MurmurP2P

/// The wire decoders MurmurP2P exposes to a peer, as fuzz harnesses (issue 9, item 5).
///
/// Each harness feeds arbitrary bytes to one decoder, split into chunks at points the input
/// chooses (so partial reads are explored too), and traps when an invariant breaks: a decoder
/// may throw a typed error, never crash, accept a forgery or buffer past its bound. libFuzzer
/// drives them from `Fuzz/` (`scripts/fuzz`); the unit tests run them over seeds and random
/// inputs so that the harnesses themselves are checked in CI.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case varint, multistream, noise, yamux, protobuf, kademlia

    /// Runs the harness on one input.
    public func run(_ data: [UInt8]) {
        switch self {
        case .varint: Self.varint(data)
        case .multistream: Self.multistream(data)
        case .noise: Self.noise(data)
        case .yamux: Self.yamux(data)
        case .protobuf: Self.protobuf(data)
        case .kademlia: Self.kademlia(data)
        }
    }

    /// Valid inputs to start the fuzzer from (written into an empty corpus by `scripts/fuzz`).
    public var seeds: [[UInt8]] { FuzzSeeds.seeds(for: self) }

    /// A fatal invariant violation: the fuzzer reports the input that caused it.
    static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("fuzz invariant broken: \(message())") }
    }

    /// Splits `data` after its first byte into chunks whose sizes come from that byte.
    static func chunks(_ data: ArraySlice<UInt8>, seed: UInt8) -> [[UInt8]] {
        let step = Int(seed % 17) + 1
        var out: [[UInt8]] = []
        var i = data.startIndex
        var n = 0
        while i < data.endIndex {
            let size = seed & 0x80 != 0 ? data.count : step + (n % 3)
            let end = min(data.endIndex, i + size)
            out.append(Array(data[i..<end]))
            i = end
            n += 1
        }
        return out
    }

    // MARK: harnesses

    static func varint(_ data: [UInt8]) {
        if let (value, size) = try? UnsignedVarint.decode(data) {
            // Minimal encodings only: re-encoding gives back exactly the bytes read.
            check(UnsignedVarint.encode(value) == Array(data.prefix(size)), "varint re-encoding differs")
        }
        guard let first = data.first else { return }
        let maxLength = 1 + Int(first) * 4
        var decoder = LengthPrefixedDecoder(maxLength: maxLength)
        var framed = 0
        for chunk in chunks(data.dropFirst(), seed: first) {
            decoder.feed(chunk)
            do {
                while let frame = try decoder.next() {
                    check(frame.count <= maxLength, "frame of \(frame.count) bytes over the \(maxLength) limit")
                    framed += frame.count
                }
            } catch { return }
        }
        check(framed + decoder.buffered.count <= data.count, "decoder produced more bytes than it was fed")
    }

    static let protocols = ["/murmur/echo/1.0.0", "/ipfs/ping/1.0.0", "/meshsub/1.1.0"]

    static func multistream(_ data: [UInt8]) {
        guard let first = data.first else { return }
        var selected: String?
        do {
            if first & 1 == 0 {
                var listener = MultistreamListener(protocols: protocols)
                for chunk in chunks(data.dropFirst(), seed: first) {
                    let out = try listener.receive(chunk)
                    if let s = out.selected { selected = s }
                }
            } else {
                var initiator = MultistreamInitiator(protocols: Array(protocols.prefix(2)))
                _ = initiator.start()
                for chunk in chunks(data.dropFirst(), seed: first) {
                    let out = try initiator.receive(chunk)
                    if let s = out.selected { selected = s }
                }
            }
        } catch {}
        if let selected { check(protocols.contains(selected), "selected a protocol we never offered: \(selected)") }
    }

    /// A completed handshake (fixed keys) whose transport phase the Noise harness attacks.
    static let establishedPair: (NoiseSession, NoiseSession)? = {
        var rng = SeededRNG(seed: 0xF0221)
        var a = NoiseSession(initiator: true, identity: Identity(deterministic: &rng))
        var b = NoiseSession(initiator: false, identity: Identity(deterministic: &rng))
        guard let m1 = try? a.start(), let r1 = try? b.receive(m1), let r2 = try? a.receive(r1.send),
            let r3 = try? b.receive(r2.send), r3.established != nil, a.isEstablished
        else { return nil }
        return (a, b)
    }()

    /// The one transport frame that may decrypt: "hello" from the pair's initiator (a seed).
    static let referenceFrame: [UInt8] = {
        guard var (a, _) = establishedPair, let f = try? a.encrypt(Array("hello".utf8)) else { return [] }
        return f
    }()

    static let noiseIdentity: Identity = {
        var rng = SeededRNG(seed: 0xF0222)
        return Identity(deterministic: &rng)
    }()

    static func noise(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let body = data.dropFirst()
        switch first % 3 {
        case 0:  // responder reading message 1 onwards
            var s = NoiseSession(initiator: false, identity: noiseIdentity)
            for chunk in chunks(body, seed: first) {
                guard let out = try? s.receive(chunk) else { return }
                check(out.established == nil, "a handshake completed from attacker bytes alone")
            }
        case 1:  // initiator that sent message 1, reading message 2
            var s = NoiseSession(initiator: true, identity: noiseIdentity)
            _ = try? s.start()
            for chunk in chunks(body, seed: first) {
                guard let out = try? s.receive(chunk) else { return }
                check(out.established == nil, "a handshake completed from attacker bytes alone")
            }
        default:  // transport phase: nothing decrypts without the key
            guard var (_, b) = establishedPair else { check(false, "the reference handshake failed"); return }
            let genuine = Array(body).starts(with: referenceFrame)
            for chunk in chunks(body, seed: first) {
                guard let out = try? b.receive(chunk) else { return }
                check(out.plaintext.isEmpty || (genuine && out.plaintext == Array("hello".utf8)), "a forged transport frame decrypted")
            }
        }
    }

    static func yamux(_ data: [UInt8]) {
        guard let first = data.first else { return }
        var config = YamuxSession.Configuration()
        config.maxStreams = 8
        var session = YamuxSession(isClient: first & 1 == 1, configuration: config)
        if first & 2 != 0, let (id, _) = try? session.openStream() { _ = try? session.write(id, [1, 2, 3]) }
        for chunk in chunks(data.dropFirst(), seed: first) {
            guard let out = try? session.receive(chunk) else { return }
            check(session.streamCount <= config.maxStreams, "\(session.streamCount) streams over the limit of \(config.maxStreams)")
            for case .data(let id, let bytes) in out.events {
                check(bytes.count <= Int(config.maxReceiveWindow), "more data than the largest window on stream \(id)")
                _ = session.consumed(id, bytes.count)
            }
            _ = session.drain(budget: 1 << 16)
        }
    }

    static func protobuf(_ data: [UInt8]) {
        if let key = try? KeyProtobuf(decoding: data) {
            check((try? KeyProtobuf(decoding: key.encoded)) == key, "PublicKey does not round-trip")
        }
        if let p = try? NoiseHandshakePayload(decoding: data) {
            check((try? NoiseHandshakePayload(decoding: p.encoded)) == p, "NoiseHandshakePayload does not round-trip")
        }
        if let m = try? IdentifyMessage(decoding: data) {
            check((try? IdentifyMessage(decoding: m.encoded)) == m, "Identify does not round-trip")
        }
        if let rpc = try? PubsubRPC(decoding: data) {
            check((try? PubsubRPC(decoding: rpc.encoded)) == rpc, "pubsub RPC does not round-trip")
            for m in rpc.publish {
                // Verification re-encodes without signature and key: never a trap, and stable.
                check((try? PubsubWireMessage(decoding: m.encoded))?.signedPart == m.signedPart, "signed part changes on re-decoding")
                _ = try? PubsubSigning.verify(m)
            }
        }
        if let a = try? Multiaddr(bytes: data) {
            check((try? Multiaddr(a.description)) == a, "multiaddr binary → text → binary differs")
        }
    }

    static func kademlia(_ data: [UInt8]) {
        if let m = try? KademliaMessage(decoding: data) {
            check((try? KademliaMessage(decoding: m.encoded)) == m, "Kademlia message does not round-trip")
        }
        guard let first = data.first else { return }
        var decoder = LengthPrefixedDecoder(maxLength: 4 << 20)
        for chunk in chunks(data.dropFirst(), seed: first) {
            decoder.feed(chunk)
            while let frame = try? decoder.next() { _ = try? KademliaMessage(decoding: frame) }
        }
    }
}
