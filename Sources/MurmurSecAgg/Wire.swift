/// Little-endian, length-prefixed binary encoding of SecAgg+ messages.
///
/// Layout: tag byte, then fields in declaration order; integers are fixed-width little-endian,
/// byte strings and lists carry a u32 length. Vectors are u32 words (b ≤ 32).
struct WireWriter {
    var output: [UInt8] = []

    mutating func u8(_ v: UInt8) { output.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { output += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { output += $0 } }
    mutating func index(_ v: Int) { u32(UInt32(truncatingIfNeeded: v)) }
    mutating func bytes(_ b: [UInt8]) { index(b.count); output += b }
    mutating func indices(_ list: [Int]) { index(list.count); for v in list { index(v) } }
    mutating func words(_ v: [UInt32]) {
        index(v.count)
        v.withUnsafeBytes { raw in
            if UInt32(1).littleEndian == 1 { output += raw } else { for w in v { u32(w) } }
        }
    }
    mutating func share(_ s: OwnedShare) {
        index(s.owner)
        u64(s.share.x)
        index(s.share.y.count)
        for y in s.share.y { u64(y) }
    }
}

/// Reads what `WireWriter` wrote; every read is bounds-checked and throws `malformed`.
struct WireReader {
    let input: [UInt8]
    var position = 0

    init(_ input: [UInt8]) { self.input = input }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, input.count - position >= n else {
            throw SecAggError.malformed("truncated: need \(n) bytes at offset \(position), have \(input.count - position)")
        }
        defer { position += n }
        return input[position..<position + n]
    }
    mutating func u8() throws -> UInt8 { try take(1).first ?? 0 }
    mutating func u32() throws -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func u64() throws -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func index() throws -> Int { Int(try u32()) }
    /// A list length, bounded by the remaining bytes so a forged length cannot allocate much.
    mutating func count(elementBytes: Int) throws -> Int {
        let n = try index()
        guard n * elementBytes <= input.count - position else {
            throw SecAggError.malformed("list of \(n) elements exceeds the message")
        }
        return n
    }
    mutating func bytes() throws -> [UInt8] { Array(try take(try count(elementBytes: 1))) }
    mutating func indices() throws -> [Int] { try (0..<count(elementBytes: 4)).map { _ in try index() } }
    mutating func words() throws -> [UInt32] {
        let n = try count(elementBytes: 4)
        let raw = try take(4 * n)
        var out = [UInt32](repeating: 0, count: n)
        out.withUnsafeMutableBytes { $0.copyBytes(from: raw) }
        if UInt32(1).littleEndian != 1 { out = out.map { UInt32(littleEndian: $0) } }
        return out
    }
    mutating func share() throws -> OwnedShare {
        let owner = try index()
        let x = try u64()
        let ys = try (0..<count(elementBytes: 8)).map { _ in try u64() }
        return OwnedShare(owner: owner, share: ShamirShare(x: x, y: ys))
    }
    func finish() throws {
        guard position == input.count else { throw SecAggError.malformed("\(input.count - position) trailing bytes") }
    }
}

extension SecAggMessage {
    /// The wire bytes of this message (see `WireWriter` for the layout).
    public func encoded() -> [UInt8] {
        var w = WireWriter()
        switch self {
        case .advertiseKeys(let a):
            w.u8(1)
            Self.write(a, to: &w)
        case .keyRoster(let r, let c, let keys):
            w.u8(2); w.u64(r); w.index(c); w.index(keys.count)
            for k in keys { Self.write(k, to: &w) }
        case .encryptedShares(let r, let c, let shares):
            w.u8(3); w.u64(r); w.index(c); Self.write(shares, to: &w)
        case .shareBundle(let r, let c, let shares):
            w.u8(4); w.u64(r); w.index(c); Self.write(shares, to: &w)
        case .maskedInput(let r, let c, let v):
            w.u8(5); w.u64(r); w.index(c); w.words(v)
        case .unmaskRequest(let r, let c, let s, let d):
            w.u8(6); w.u64(r); w.index(c); w.indices(s); w.indices(d)
        case .unmaskResponse(let r, let c, let selfShares, let keyShares):
            w.u8(7); w.u64(r); w.index(c)
            w.index(selfShares.count); for s in selfShares { w.share(s) }
            w.index(keyShares.count); for s in keyShares { w.share(s) }
        }
        return w.output
    }

    /// Decodes wire bytes; throws `SecAggError.malformed` on any truncation, unknown tag or
    /// trailing data.
    public init(decoding bytes: [UInt8]) throws {
        var r = WireReader(bytes)
        switch try r.u8() {
        case 1:
            self = .advertiseKeys(try Self.readKeys(&r))
        case 2:
            let round = try r.u64(), c = try r.index()
            let keys = try (0..<r.count(elementBytes: 76)).map { _ in try Self.readKeys(&r) }
            self = .keyRoster(round: round, recipient: c, keys: keys)
        case 3:
            let round = try r.u64(), c = try r.index()
            self = .encryptedShares(round: round, sender: c, shares: try Self.readShares(&r))
        case 4:
            let round = try r.u64(), c = try r.index()
            self = .shareBundle(round: round, recipient: c, shares: try Self.readShares(&r))
        case 5:
            let round = try r.u64(), c = try r.index()
            self = .maskedInput(round: round, sender: c, vector: try r.words())
        case 6:
            let round = try r.u64(), c = try r.index()
            self = .unmaskRequest(round: round, recipient: c, survivors: try r.indices(), dropped: try r.indices())
        case 7:
            let round = try r.u64(), c = try r.index()
            let s = try (0..<r.count(elementBytes: 16)).map { _ in try r.share() }
            let k = try (0..<r.count(elementBytes: 16)).map { _ in try r.share() }
            self = .unmaskResponse(round: round, sender: c, selfMaskShares: s, maskKeyShares: k)
        case let tag:
            throw SecAggError.malformed("unknown message tag \(tag)")
        }
        try r.finish()
    }

    private static func write(_ a: AdvertisedKeys, to w: inout WireWriter) {
        w.u64(a.round); w.index(a.sender); w.bytes(a.encryptionKey); w.bytes(a.maskKey); w.bytes(a.signature)
    }
    private static func readKeys(_ r: inout WireReader) throws -> AdvertisedKeys {
        AdvertisedKeys(round: try r.u64(), sender: try r.index(), encryptionKey: try r.bytes(), maskKey: try r.bytes(), signature: try r.bytes())
    }
    private static func write(_ shares: [EncryptedShare], to w: inout WireWriter) {
        w.index(shares.count)
        for s in shares { w.index(s.sender); w.index(s.recipient); w.bytes(s.ciphertext) }
    }
    private static func readShares(_ r: inout WireReader) throws -> [EncryptedShare] {
        try (0..<r.count(elementBytes: 12)).map { _ in
            EncryptedShare(sender: try r.index(), recipient: try r.index(), ciphertext: try r.bytes())
        }
    }
}
