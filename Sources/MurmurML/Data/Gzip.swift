/// A gzip (RFC 1952) reader with its own DEFLATE (RFC 1951) decoder, so the IDX and CSV loaders
/// can read `train-images-idx3-ubyte.gz` and `data.csv.gz` as downloaded, with no zlib dependency.
///
/// Decoding only; table-driven Huffman decoding in the style of zlib's `inflate_table`, checked
/// against the member's CRC-32 and length. Concatenated members are decoded one after another.
enum Gzip {
    /// Why a gzip stream was rejected.
    struct Failure: Error, Equatable { let reason: String }

    /// Whether `bytes` starts with the gzip magic number 1f 8b.
    static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    /// The decompressed contents of every member of the gzip stream `input`.
    static func decompress(_ input: [UInt8]) throws(Failure) -> [UInt8] {
        var out = [UInt8]()
        // ISIZE of the last member is a good capacity hint for the usual one-member file.
        if input.count >= 4 {
            let n = input.count
            let hint = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
            out.reserveCapacity(min(hint, 1 << 30))
        }
        var pos = 0
        repeat {
            pos = try member(input, at: pos, into: &out)
        } while pos < input.count
        return out
    }

    /// Decodes the member starting at `start` and appends it to `out`; returns where the next begins.
    private static func member(_ input: [UInt8], at start: Int, into out: inout [UInt8]) throws(Failure) -> Int {
        var p = start
        func byte() throws(Failure) -> Int {
            guard p < input.count else { throw Failure(reason: "gzip header is truncated") }
            defer { p += 1 }
            return Int(input[p])
        }
        guard try byte() == 0x1F, try byte() == 0x8B else {
            throw Failure(reason: "not a gzip stream (or trailing bytes after the last gzip member)")
        }
        guard try byte() == 8 else { throw Failure(reason: "gzip compression method is not DEFLATE") }
        let flags = try byte()
        guard flags & 0xE0 == 0 else { throw Failure(reason: "gzip header has reserved flag bits set") }
        p += 6  // MTIME, XFL, OS
        if flags & 0x04 != 0 {  // FEXTRA
            let xlen = try byte() | (try byte()) << 8
            p += xlen
        }
        if flags & 0x08 != 0 { while try byte() != 0 {} }  // FNAME
        if flags & 0x10 != 0 { while try byte() != 0 {} }  // FCOMMENT
        if flags & 0x02 != 0 { p += 2 }  // FHCRC
        guard p <= input.count else { throw Failure(reason: "gzip header is truncated") }

        let first = out.count
        let end = try input.withUnsafeBufferPointer { (buf) throws(Failure) -> Int in
            var inflater = Inflater(input: buf, position: p, outputStart: first)
            try inflater.run(into: &out)
            return inflater.bytePosition
        }
        guard end + 8 <= input.count else { throw Failure(reason: "gzip stream is truncated (missing CRC-32 and length)") }
        func le32(_ i: Int) -> UInt32 {
            UInt32(input[i]) | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2]) << 16 | UInt32(input[i + 3]) << 24
        }
        let produced = out.count - first
        guard le32(end + 4) == UInt32(truncatingIfNeeded: produced) else {
            throw Failure(reason: "gzip length check failed: the data is corrupt")
        }
        let crc = out.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[first...])) }
        guard le32(end) == crc else { throw Failure(reason: "gzip CRC-32 check failed: the data is corrupt") }
        return end + 8
    }
}

/// CRC-32 as used by gzip and PNG (ISO-HDLC: reflected polynomial 0xEDB88320).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC-32 of `bytes` (check value of "123456789" is 0xCBF43926).
    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}

/// A canonical Huffman code (RFC 1951 §3.2.2) as a lookup table indexed by the next `maxBits`
/// input bits, least significant first: entry = symbol << 4 | code length, 0 for no code.
private struct HuffmanTable {
    let entries: [UInt32]
    let maxBits: Int

    init(lengths: [UInt8]) throws(Gzip.Failure) {
        var count = [Int](repeating: 0, count: 16)
        for l in lengths { count[Int(l)] += 1 }
        count[0] = 0
        var left = 1
        for len in 1...15 {
            left = left << 1 - count[len]
            guard left >= 0 else { throw Gzip.Failure(reason: "DEFLATE stream has an over-subscribed Huffman code") }
        }
        let maxBits = max(1, lengths.max().map(Int.init) ?? 1)
        var next = [Int](repeating: 0, count: 16)
        var code = 0
        for len in 1...15 {
            code = (code + count[len - 1]) << 1
            next[len] = code
        }
        var table = [UInt32](repeating: 0, count: 1 << maxBits)
        for (symbol, l) in lengths.enumerated() where l != 0 {
            let len = Int(l)
            let c = next[len]
            next[len] += 1
            var reversed = 0
            for b in 0..<len where c & (1 << b) != 0 { reversed |= 1 << (len - 1 - b) }
            let entry = UInt32(symbol) << 4 | UInt32(len)
            var i = reversed
            while i < table.count {
                table[i] = entry
                i += 1 << len
            }
        }
        self.entries = table
        self.maxBits = maxBits
    }
}

/// The DEFLATE block decoder over one input buffer (RFC 1951 §3.2.3–3.2.7).
private struct Inflater {
    let input: UnsafeBufferPointer<UInt8>
    var position: Int
    /// Where this member's output starts in `out`; back-references may not reach before it.
    let outputStart: Int
    var bits: UInt64 = 0
    var bitCount = 0

    init(input: UnsafeBufferPointer<UInt8>, position: Int, outputStart: Int) {
        self.input = input
        self.position = position
        self.outputStart = outputStart
    }

    /// Index of the first input byte after the DEFLATE stream (valid once `run` returns).
    var bytePosition: Int { position - bitCount / 8 }

    static let lengthBase: [Int] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [Int] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    static let distanceExtra: [Int] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]
    /// Order in which code-length code lengths are stored (§3.2.7).
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    static let truncated = Gzip.Failure(reason: "DEFLATE stream is truncated")

    mutating func refill() {
        while bitCount <= 56 && position < input.count {
            bits |= UInt64(input[position]) << UInt64(bitCount)
            position += 1
            bitCount += 8
        }
    }

    mutating func take(_ n: Int) throws(Gzip.Failure) -> Int {
        if bitCount < n {
            refill()
            guard bitCount >= n else { throw Self.truncated }
        }
        let v = Int(bits & ((1 << UInt64(n)) - 1))
        bits >>= UInt64(n)
        bitCount -= n
        return v
    }

    mutating func decode(_ h: HuffmanTable) throws(Gzip.Failure) -> Int {
        if bitCount < h.maxBits { refill() }
        let e = h.entries[Int(bits & ((1 << UInt64(h.maxBits)) - 1))]
        let len = Int(e & 15)
        guard len != 0 else { throw Gzip.Failure(reason: "DEFLATE stream has an invalid Huffman code") }
        guard len <= bitCount else { throw Self.truncated }
        bits >>= UInt64(len)
        bitCount -= len
        return Int(e >> 4)
    }

    mutating func run(into out: inout [UInt8]) throws(Gzip.Failure) {
        var final = false
        while !final {
            final = try take(1) == 1
            switch try take(2) {
            case 0: try stored(into: &out)
            case 1: try codes(Self.fixed.literal, Self.fixed.distance, into: &out)
            case 2:
                let (literal, distance) = try dynamicTables()
                try codes(literal, distance, into: &out)
            default: throw Gzip.Failure(reason: "DEFLATE stream has an invalid block type")
            }
        }
        bitCount -= bitCount % 8  // the rest of the last byte is padding
    }

    mutating func stored(into out: inout [UInt8]) throws(Gzip.Failure) {
        bits >>= UInt64(bitCount % 8)
        bitCount -= bitCount % 8
        let len = try take(16)
        guard try take(16) == len ^ 0xFFFF else { throw Gzip.Failure(reason: "DEFLATE stored block length check failed") }
        var remaining = len
        while remaining > 0 && bitCount >= 8 {
            out.append(UInt8(try take(8)))
            remaining -= 1
        }
        guard position + remaining <= input.count else { throw Self.truncated }
        out.append(contentsOf: input[position..<(position + remaining)])
        position += remaining
    }

    static let fixed: (literal: HuffmanTable, distance: HuffmanTable) = {
        var l = [UInt8](repeating: 8, count: 288)
        for i in 144..<256 { l[i] = 9 }
        for i in 256..<280 { l[i] = 7 }
        // Both codes are complete or under-subscribed by construction; building cannot fail.
        guard let literal = try? HuffmanTable(lengths: l),
              let distance = try? HuffmanTable(lengths: [UInt8](repeating: 5, count: 30))
        else { preconditionFailure("fixed Huffman tables are invalid") }
        return (literal, distance)
    }()

    mutating func dynamicTables() throws(Gzip.Failure) -> (HuffmanTable, HuffmanTable) {
        let nLiteral = try take(5) + 257
        let nDistance = try take(5) + 1
        let nCodeLength = try take(4) + 4
        guard nLiteral <= 286, nDistance <= 30 else {
            throw Gzip.Failure(reason: "DEFLATE dynamic block has too many codes")
        }
        var clLengths = [UInt8](repeating: 0, count: 19)
        for i in 0..<nCodeLength { clLengths[Self.codeLengthOrder[i]] = UInt8(try take(3)) }
        let cl = try HuffmanTable(lengths: clLengths)
        var lengths = [UInt8]()
        lengths.reserveCapacity(nLiteral + nDistance)
        while lengths.count < nLiteral + nDistance {
            let sym = try decode(cl)
            var repeatValue: UInt8 = 0
            var times = 0
            switch sym {
            case 0..<16:
                lengths.append(UInt8(sym))
                continue
            case 16:
                guard let last = lengths.last else {
                    throw Gzip.Failure(reason: "DEFLATE code lengths repeat with no previous length")
                }
                repeatValue = last
                times = 3 + (try take(2))
            case 17: times = 3 + (try take(3))
            default: times = 11 + (try take(7))
            }
            guard lengths.count + times <= nLiteral + nDistance else {
                throw Gzip.Failure(reason: "DEFLATE code lengths overflow the table")
            }
            lengths.append(contentsOf: repeatElement(repeatValue, count: times))
        }
        guard lengths[256] != 0 else { throw Gzip.Failure(reason: "DEFLATE block has no end-of-block code") }
        return (try HuffmanTable(lengths: Array(lengths[..<nLiteral])), try HuffmanTable(lengths: Array(lengths[nLiteral...])))
    }

    mutating func codes(_ literal: HuffmanTable, _ distance: HuffmanTable, into out: inout [UInt8]) throws(Gzip.Failure) {
        while true {
            let sym = try decode(literal)
            if sym < 256 {
                out.append(UInt8(sym))
                continue
            }
            if sym == 256 { return }
            let li = sym - 257
            guard li < 29 else { throw Gzip.Failure(reason: "DEFLATE stream has an invalid length code") }
            let length = Self.lengthBase[li] + (try take(Self.lengthExtra[li]))
            let di = try decode(distance)
            guard di < 30 else { throw Gzip.Failure(reason: "DEFLATE stream has an invalid distance code") }
            let dist = Self.distanceBase[di] + (try take(Self.distanceExtra[di]))
            guard dist <= out.count - outputStart else {
                throw Gzip.Failure(reason: "DEFLATE distance reaches before the start")
            }
            var from = out.count - dist
            for _ in 0..<length {
                out.append(out[from])
                from += 1
            }
        }
    }
}
