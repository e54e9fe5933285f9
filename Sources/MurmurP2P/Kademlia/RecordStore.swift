import Foundation
import MurmurCore

/// Checks records of one key namespace and picks the best of several values.
///
/// libp2p/specs kad-dht/README.md, "Value storage and retrieval": a node validates a record
/// before storing it and before accepting it from a GET_VALUE; `select` resolves conflicts.
public protocol RecordValidator: Sendable {
    /// Throws `KademliaError.invalidRecord` if `value` is not acceptable under `key`.
    func validate(key: [UInt8], value: [UInt8]) throws
    /// The index of the best of `values` (all valid), which are ordered oldest first.
    func select(key: [UInt8], values: [[UInt8]]) -> Int
}

/// The generic namespace: any value is valid; the latest wins.
///
/// For application keys (`/murmur/…`) whose values carry their own integrity (e.g. a CID or a
/// signed manifest); a stricter namespace registers its own `RecordValidator`.
public struct LatestWinsValidator: RecordValidator {
    /// A validator that accepts every value.
    public init() {}
    /// Accepts.
    public func validate(key: [UInt8], value: [UInt8]) throws {}
    /// The newest value (the last one).
    public func select(key: [UInt8], values: [[UInt8]]) -> Int { max(0, values.count - 1) }
}

/// The `/pk/` namespace: the value is a libp2p `PublicKey` protobuf whose peer id is the key.
///
/// Spec: go-libp2p-record `PublicKeyValidator`: key = "/pk/" + the peer id's multihash bytes.
/// py-libp2p 0.8.1 writes the multihash as hex ("/pk/" + hex) instead; both forms are accepted.
/// All valid values for one key are the same key, so `select` returns 0.
public struct PublicKeyValidator: RecordValidator {
    /// A `/pk/` validator.
    public init() {}

    /// Checks that `value` is a public key whose peer id is the key's multihash.
    public func validate(key: [UInt8], value: [UInt8]) throws {
        let prefix = Array("/pk/".utf8)
        guard key.starts(with: prefix) else { throw KademliaError.invalidRecord("a /pk/ record key must start with /pk/") }
        let rest = Array(key.dropFirst(prefix.count))
        let expected = PeerID(publicKeyProtobuf: value).multihash.bytes
        guard (try? KeyProtobuf(decoding: value)) != nil else {
            throw KademliaError.invalidRecord("a /pk/ value must be a libp2p PublicKey protobuf")
        }
        if rest == expected { return }
        if let hex = String(bytes: rest, encoding: .utf8), hexBytes(hex) == expected { return }
        throw KademliaError.invalidRecord("the /pk/ value's peer id does not match the key")
    }

    /// Any (they are equal).
    public func select(key: [UInt8], values: [[UInt8]]) -> Int { 0 }

    private func hexBytes(_ s: String) -> [UInt8]? {
        let chars = Array(s.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let hi = hexDigit(chars[i]), let lo = hexDigit(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }

    private func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Validators by namespace: the text between the first two slashes of a key (`/pk/…` → "pk").
///
/// A key without a registered namespace goes to `fallback` (nil rejects it, go-libp2p's
/// strict behaviour; py-libp2p 0.8.1 accepts such keys by default, as `LatestWinsValidator` does).
public struct NamespacedValidator: RecordValidator {
    /// Validators by namespace.
    public var namespaces: [String: any RecordValidator]
    /// For keys whose namespace is not registered (nil: reject them).
    public var fallback: (any RecordValidator)?

    /// `/pk/` plus a latest-wins fallback for everything else.
    public init(namespaces: [String: any RecordValidator] = ["pk": PublicKeyValidator()], fallback: (any RecordValidator)? = LatestWinsValidator()) {
        self.namespaces = namespaces
        self.fallback = fallback
    }

    /// The namespace of `key`, if it has the `/ns/rest` form.
    public static func namespace(of key: [UInt8]) -> String? {
        guard key.first == UInt8(ascii: "/"), let end = key.dropFirst().firstIndex(of: UInt8(ascii: "/")), end > 1 else { return nil }
        return String(bytes: key[1..<end], encoding: .utf8)
    }

    private func validator(for key: [UInt8]) throws -> any RecordValidator {
        if let ns = Self.namespace(of: key), let v = namespaces[ns] { return v }
        if let fallback { return fallback }
        throw KademliaError.invalidRecord("no validator for the namespace of key \(String(decoding: key.prefix(64), as: UTF8.self))")
    }

    /// Validates with the key's namespace validator.
    public func validate(key: [UInt8], value: [UInt8]) throws { try validator(for: key).validate(key: key, value: value) }

    /// Selects with the key's namespace validator (0 if there is none).
    public func select(key: [UInt8], values: [[UInt8]]) -> Int {
        guard let v = try? validator(for: key) else { return 0 }
        return min(max(0, v.select(key: key, values: values)), max(0, values.count - 1))
    }
}

/// The records this node stores for others: validated, size-limited, aged out.
///
/// Spec: kad-dht "PUT_VALUE": validate, keep the better of old and new (`select`), stamp
/// timeReceived. Bounded: values over `maxValueSize` and keys over `maxKeySize` are refused,
/// and at most `maxRecords` are kept (a new key beyond that is refused).
public struct RecordStore: Sendable {
    /// The validator all records pass.
    public var validator: any RecordValidator
    /// The largest value accepted.
    public var maxValueSize: Int
    /// The largest key accepted (py-libp2p refuses GET_VALUE keys above 128 bytes too).
    public var maxKeySize = 128
    /// The most records kept.
    public var maxRecords: Int
    /// Records older than this are neither served nor kept (go-libp2p's MaxRecordAge: 36 h).
    public var maxAge: Duration
    private var records: [[UInt8]: (record: KademliaRecord, received: ContinuousClock.Instant)] = [:]

    /// What `put` did.
    public enum Outcome: Equatable, Sendable {
        /// The record is now stored.
        case stored
        /// A better record (per `select`) was kept.
        case keptExisting
    }

    /// A store using `validator`.
    public init(validator: any RecordValidator = NamespacedValidator(), maxValueSize: Int = 64 * 1024, maxRecords: Int = 10_000, maxAge: Duration = .seconds(36 * 3600)) {
        self.validator = validator
        self.maxValueSize = maxValueSize
        self.maxRecords = maxRecords
        self.maxAge = maxAge
    }

    /// Checks size limits and the validator.
    public func check(key: [UInt8], value: [UInt8]) throws {
        guard !key.isEmpty, key.count <= maxKeySize else {
            throw KademliaError.invalidRecord("a record key must be 1…\(maxKeySize) bytes, got \(key.count)")
        }
        guard value.count <= maxValueSize else {
            throw KademliaError.invalidRecord("a record value must be at most \(maxValueSize) bytes, got \(value.count)")
        }
        try validator.validate(key: key, value: value)
    }

    /// Validates and stores `key` → `value`, stamped with `now` (the better of old and new is kept).
    @discardableResult
    public mutating func put(key: [UInt8], value: [UInt8], now: ContinuousClock.Instant = .now) throws -> Outcome {
        try check(key: key, value: value)
        if let old = get(key, now: now) {
            if old.value != value, validator.select(key: key, values: [old.value, value]) == 0 { return .keptExisting }
        } else if records.count >= maxRecords {
            expire(now: now)
            guard records.count < maxRecords else {
                throw KademliaError.limitExceeded("the record store holds its maximum of \(maxRecords) records")
            }
        }
        records[key] = (KademliaRecord(key: key, value: value, timeReceived: Self.rfc3339(Date())), now)
        return .stored
    }

    /// The stored record for `key`, unless it is older than `maxAge`.
    public func get(_ key: [UInt8], now: ContinuousClock.Instant = .now) -> KademliaRecord? {
        guard let e = records[key], now - e.received <= maxAge else { return nil }
        return e.record
    }

    /// Drops records older than `maxAge`.
    public mutating func expire(now: ContinuousClock.Instant = .now) {
        records = records.filter { now - $0.value.received <= maxAge }
    }

    /// Records held (including any not yet expired by `expire`).
    public var count: Int { records.count }

    /// RFC 3339 UTC with nanoseconds, the form go-libp2p writes in timeReceived.
    static func rfc3339(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }
}
