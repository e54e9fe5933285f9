/// Base32 (RFC 4648, lower case, no padding) and base58btc, the two multibase alphabets Murmur
/// prints: CIDs use base32 (`b…`), peer ids use base58btc (`12D3KooW…`).
public enum Multibase {
    static let base32Alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    static let base58Alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    /// RFC 4648 §6 base32, lower case, without `=` padding.
    public static func base32(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for b in bytes {
            buffer = (buffer << 8) | UInt32(b)
            bits += 8
            while bits >= 5 {
                out.append(base32Alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(base32Alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes unpadded base32 (either case).
    public static func decodeBase32(_ text: String) throws -> [UInt8] {
        var out = [UInt8]()
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.lowercased().utf8 {
            guard let v = base32Alphabet.firstIndex(of: c) else {
                throw MurmurCoreError.invalidEncoding("'\(Character(UnicodeScalar(c)))' is not a base32 character")
            }
            buffer = (buffer << 5) | UInt32(v)
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return out
    }

    /// Lower-case base16 (hex), as digests, nonces and key files are printed.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(2 * bytes.count)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex text (either case, even length).
    public static func decodeHex(_ text: String) throws -> [UInt8] {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { throw MurmurCoreError.invalidEncoding("hex text has an odd number of digits") }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: throw MurmurCoreError.invalidEncoding("'\(Character(UnicodeScalar(c)))' is not a hex digit")
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        for i in stride(from: 0, to: chars.count, by: 2) { out.append(try nibble(chars[i]) << 4 | nibble(chars[i + 1])) }
        return out
    }

    /// Bitcoin's base58 alphabet, as libp2p prints peer ids.
    public static func base58btc(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        var digits = [UInt8]()  // little-endian base-58 digits
        for b in bytes {
            var carry = Int(b)
            for i in 0..<digits.count {
                carry += Int(digits[i]) << 8
                digits[i] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        var out = [UInt8](repeating: base58Alphabet[0], count: zeros)
        for d in digits.reversed() { out.append(base58Alphabet[Int(d)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base58btc text.
    public static func decodeBase58btc(_ text: String) throws -> [UInt8] {
        let chars = Array(text.utf8)
        let zeros = chars.prefix { $0 == base58Alphabet[0] }.count
        var bytes = [UInt8]()  // little-endian base-256
        for c in chars {
            guard let v = base58Alphabet.firstIndex(of: c) else {
                throw MurmurCoreError.invalidEncoding("'\(Character(UnicodeScalar(c)))' is not a base58 character")
            }
            var carry = v
            for i in 0..<bytes.count {
                carry += Int(bytes[i]) * 58
                bytes[i] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xFF))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }
}

/// Unsigned LEB128 varints as multiformats use them.
public enum Varint {
    /// The varint bytes of `value`.
    public static func encode(_ value: UInt64) -> [UInt8] {
        var v = value
        var out = [UInt8]()
        repeat {
            var byte = UInt8(v & 0x7F)
            v >>= 7
            if v != 0 { byte |= 0x80 }
            out.append(byte)
        } while v != 0
        return out
    }

    /// Decodes one varint from the front of `bytes`; returns the value and the bytes consumed.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws -> (UInt64, Int) {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var count = 0
        for b in bytes {
            count += 1
            guard shift < 63 || (shift == 63 && b <= 1) else {
                throw MurmurCoreError.invalidEncoding("varint overflows 64 bits")
            }
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return (value, count) }
            shift += 7
        }
        throw MurmurCoreError.invalidEncoding("truncated varint")
    }
}
