import ArgumentParser
import Foundation
import MurmurLog

/// `murmur bench log`: appends/s into SQLite (fsync per batch) and inclusion-proof verifications/s,
/// against the limit measured in the same run (SHA-256 hashes/s on one core).
struct BenchLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Log appends/s (SQLite, fsync per batch) and proof verifications/s vs the SHA-256 limit on one core.")

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: "Entries to append.")
    var entries = 1_000_000

    @Option(help: "Entries per batch (one transaction + fsync each).")
    var batch = 16_384

    @Option(help: "Bytes per entry.")
    var entrySize = 64

    @Option(help: "Inclusion proofs to verify.")
    var proofs = 200_000

    @Option(help: "Directory for the benchmark database (deleted afterwards).")
    var dir: String?

    func run() throws {
        let root = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("murmur-bench-log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)

        // The limit: SHA-256 of a 65-byte interior node on one core, for each implementation.
        func nodeRate(_ hash: (LogHash, LogHash) -> LogHash) -> Double {
            let hashCount = 2_000_000
            var h = RFC9162.leafHash([1])
            let t0 = Date()
            for _ in 0..<hashCount { h = hash(h, h) }
            let rate = Double(hashCount) / Date().timeIntervalSince(t0)
            return h == .zero ? 0 : rate  // uses h so the loop is kept
        }
        let swiftCryptoRate = nodeRate(RFC9162.nodeHashSwiftCrypto)
        var kernelRates: [SHA256Kernel: Double] = [:]
        for k in SHA256Kernel.allCases where SHA256Kernel.isAvailable(k) {
            SHA256Kernel.force(k)
            kernelRates[k] = nodeRate(RFC9162.nodeHash)
        }
        SHA256Kernel.force(nil)
        let kernel = SHA256Kernel.current
        let hashesPerSecond = kernelRates[kernel] ?? swiftCryptoRate

        let log = try TileLog(storage: SQLiteLogStorage(path: root + "/log.db"), origin: "bench.murmur/log")
        var payload = [UInt8](repeating: 0x61, count: entrySize)
        let t1 = Date()
        var done = 0
        while done < entries {
            let k = min(batch, entries - done)
            var b: [[UInt8]] = []
            b.reserveCapacity(k)
            for i in 0..<k {
                withUnsafeBytes(of: UInt64(done + i).littleEndian) { for (j, x) in $0.enumerated() where j < payload.count { payload[j] = x } }
                b.append(payload)
            }
            try log.append(b)
            done += k
            if !json && done % (batch * 16) == 0 { FileHandle.standardError.write(Data("  \(done) entries…\n".utf8)) }
        }
        let appendSeconds = Date().timeIntervalSince(t1)
        let appendsPerSecond = Double(entries) / appendSeconds
        // Each entry costs a leaf hash and, amortised, ~1 interior hash (255 per 256 leaves, plus levels above).
        let appendLimit = hashesPerSecond / 2

        let n = log.size
        var rng = SystemRandomNumberGenerator()
        let samples = (0..<256).map { _ in UInt64.random(in: 0..<n, using: &rng) }
        let proofList = try samples.map { try log.inclusionProof(index: $0) }
        let leaves = try samples.map { RFC9162.leafHash(try log.entry(at: $0)) }
        let rootHash = log.state.root
        func verifyRate() throws -> Double {
            let t2 = Date()
            for i in 0..<proofs {
                let j = i & 255
                try MerkleProof.verifyInclusion(index: samples[j], size: n, leaf: leaves[j], proof: proofList[j], root: rootHash)
            }
            return Double(proofs) / Date().timeIntervalSince(t2)
        }
        let verifiesPerSecond = try verifyRate()
        SHA256Kernel.force(.swiftCrypto)
        let swiftCryptoVerifies = try verifyRate()
        SHA256Kernel.force(.portable)
        let portableVerifies = try verifyRate()
        SHA256Kernel.force(nil)
        let depth = Double(proofList.map(\.count).reduce(0, +)) / Double(proofList.count)
        let verifyLimit = hashesPerSecond / depth
        let kernelName = [SHA256Kernel.shaExtensions: "x86 SHA extensions", .swiftCrypto: "swift-crypto", .portable: "portable C"][kernel] ?? "?"

        let obj: [String: Any] = [
            "benchmark": "log", "entries": entries, "batch": batch, "entry_bytes": entrySize,
            "sha256_node_hashes_per_s": hashesPerSecond, "sha256_kernel": kernelName,
            "sha256_node_hashes_per_s_swift_crypto": swiftCryptoRate,
            "sha256_node_hashes_per_s_portable_c": kernelRates[.portable] ?? 0,
            "sha256_node_hashes_per_s_sha_extensions": kernelRates[.shaExtensions] ?? 0,
            "verifications_per_s_portable_c": portableVerifies, "verifications_per_s_swift_crypto": swiftCryptoVerifies,
            "verify_limit_per_s_swift_crypto": swiftCryptoRate / depth,
            "appends_per_s": appendsPerSecond, "append_limit_per_s": appendLimit,
            "ratio_vs_sha256_limit_append": appendsPerSecond / appendLimit,
            "verifications_per_s": verifiesPerSecond, "proof_hashes": depth, "verify_limit_per_s": verifyLimit,
            "ratio_vs_sha256_limit_verify": verifiesPerSecond / verifyLimit,
            "db_bytes": (try? FileManager.default.attributesOfItem(atPath: root + "/log.db")[.size] as? Int) ?? 0,
        ]
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
        } else {
            let shaExt = kernelRates[.shaExtensions].map { String(format: "%.0f", $0) } ?? "n/a"
            print(String(format: "SHA-256 (65-byte node, 1 core): %.0f hashes/s with ", hashesPerSecond) + kernelName
                  + String(format: " (swift-crypto %.0f, portable C %.0f, SHA extensions ", swiftCryptoRate, kernelRates[.portable] ?? 0) + shaExt + ")")
            print(String(format: "appends: %d entries of %d B in batches of %d: %.0f /s (limit %.0f /s, ratio %.2f)",
                         entries, entrySize, batch, appendsPerSecond, appendLimit, appendsPerSecond / appendLimit))
            print(String(format: "inclusion verifications (tree %d, %.1f hashes): %.0f /s on 1 core (limit %.0f /s, ratio %.2f)",
                         n, depth, verifiesPerSecond, verifyLimit, verifiesPerSecond / verifyLimit))
            print(String(format: "  with swift-crypto: %.0f /s (limit %.0f /s); with portable C: %.0f /s",
                         swiftCryptoVerifies, swiftCryptoRate / depth, portableVerifies))
        }
    }
}
