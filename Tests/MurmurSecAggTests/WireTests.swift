import MurmurTestSupport
import Testing

@testable import MurmurSecAgg

@Suite(.ownThreads) struct WireTests {
    static let keys = AdvertisedKeys(
        round: 3, sender: 1, encryptionKey: Array(repeating: 1, count: 32), maskKey: Array(repeating: 2, count: 32),
        signature: Array(repeating: 3, count: 64))
    static let share = OwnedShare(owner: 4, share: ShamirShare(x: 6, y: [1, 2, 3, 4, 5]))
    static let all: [SecAggMessage] = [
        .advertiseKeys(keys),
        .keyRoster(round: 3, recipient: 2, keys: [keys, keys]),
        .encryptedShares(round: 3, sender: 1, shares: [EncryptedShare(sender: 1, recipient: 2, ciphertext: [9, 9, 9])]),
        .shareBundle(round: 3, recipient: 2, shares: [EncryptedShare(sender: 1, recipient: 2, ciphertext: [])]),
        .maskedInput(round: 3, sender: 1, vector: [0, 1, .max, 12345]),
        .unmaskRequest(round: 3, recipient: 5, survivors: [1, 2, 5], dropped: [3]),
        .unmaskResponse(round: 3, sender: 5, selfMaskShares: [share], maskKeyShares: [share, share]),
    ]

    @Test func everyMessageRoundTrips() throws {
        for m in Self.all { #expect(try SecAggMessage(decoding: m.encoded()) == m) }
    }

    @Test func everyTruncationAndTrailingByteIsRejected() {
        for m in Self.all {
            let bytes = m.encoded()
            for cut in 0..<bytes.count {
                #expect(throws: SecAggError.self) { try SecAggMessage(decoding: Array(bytes.prefix(cut))) }
            }
            #expect(throws: SecAggError.self) { try SecAggMessage(decoding: bytes + [0]) }
        }
        #expect(throws: SecAggError.malformed("unknown message tag 99")) { try SecAggMessage(decoding: [99]) }
    }

    @Test func hugeLengthPrefixDoesNotAllocate() {
        // Tag 5 (MaskedInput), round, sender, then a 2^32 − 1 element count with no data.
        let bytes: [UInt8] = [5] + Array(repeating: 0, count: 12) + [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: SecAggError.self) { try SecAggMessage(decoding: bytes) }
    }
}
