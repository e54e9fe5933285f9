import ArgumentParser
import Foundation
import MurmurP2P

/// `murmur bench blocks`: an object fetched over `/murmur/blocks/1` on loopback, against the
/// SHA-256 throughput that verifying it costs, measured in the same run.
struct BenchBlocks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blocks",
        abstract: "Content-addressed block exchange on loopback: fetch MB/s from 1 and 2 providers vs one core's SHA-256.",
        discussion: """
            All hosts run in this process. The object (pseudo-random bytes) is put on each
            provider, announced in an in-process provider table, then fetched once by a fresh
            client (lookup, manifest, chunks, hashing every block). `ratio_vs_sha256` is the
            one-provider fetch throughput over SHA-256 on one core for 1 MiB blocks, the hashing
            every fetched byte needs. Use a release build (`swift build -c release`).
            """)

    @OptionGroup var options: BenchOptions

    @Option(help: "Megabytes (10^6 bytes) in the object.")
    var megabytes = 50

    @Option(help: "Requests in flight per fetch.")
    var concurrency = 8

    func run() async throws {
        guard megabytes >= 1, concurrency >= 1 else { throw ValidationError("--megabytes and --concurrency must be at least 1") }
        let bytes = megabytes * 1_000_000
        options.progress("SHA-256 on one core…")
        let sha = BlockBenchmark.sha256BytesPerSecond(bytes: max(bytes, 256 << 20))
        var config = BlockExchange.Configuration()
        config.concurrency = concurrency
        options.progress("fetch \(megabytes) MB from 1 provider…")
        let one = try await BlockBenchmark.transfer(bytes: bytes, providers: 1, configuration: config)
        options.progress("fetch \(megabytes) MB from 2 providers…")
        let two = try await BlockBenchmark.transfer(bytes: bytes, providers: 2, configuration: config)
        let table = [
            String(format: "SHA-256, one core (1 MiB blocks)   %9.1f MB/s", sha / 1e6),
            String(format: "fetch %d MB, 1 provider            %9.1f MB/s  (%.2f of SHA-256, %.2f s, %d blocks)",
                   megabytes, one.bytesPerSecond / 1e6, one.bytesPerSecond / sha, one.seconds, one.blocks),
            String(format: "fetch %d MB, 2 providers           %9.1f MB/s  (%.2f of SHA-256, %.2f s)",
                   megabytes, two.bytesPerSecond / 1e6, two.bytesPerSecond / sha, two.seconds),
        ]
        try options.emit([
            "benchmark": "blocks", "bytes": bytes, "blocks": one.blocks, "concurrency": concurrency,
            "sha256_bytes_per_second": sha,
            "fetch_bytes_per_second": one.bytesPerSecond, "fetch_seconds": one.seconds,
            "fetch_two_providers_bytes_per_second": two.bytesPerSecond, "fetch_two_providers_seconds": two.seconds,
            "ratio_vs_sha256": one.bytesPerSecond / sha,
        ], table: table)
    }
}
