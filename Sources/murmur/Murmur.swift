import ArgumentParser
import Foundation
import CMurmurKernels

/// Keeps glibc from returning and re-faulting memory on every large buffer.
///
/// By default glibc serves allocations above a (dynamically raised) threshold with fresh mmaps
/// and trims freed heap tops, so a data path that allocates and frees 64 KiB–1 MiB buffers
/// (Noise frames, yamux batches, training minibatches) pays a page fault per 4 KiB each time:
/// `perf stat` counted 177,000 faults for 512 MB through one libp2p stream, 3,100 with these
/// settings (docs/p2p.md). Allocations up to 4 MiB come from the heap; up to 64 MiB of free heap
/// is kept per arena. Embedders of the Murmur libraries can call `murmur_tune_allocator()` too.
func tuneAllocator() {
    _ = murmur_tune_allocator()
}

/// The `murmur` command: federated learning simulations, benchmarks and (later) a network node.
@main
struct Murmur: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "murmur",
        abstract: "Decentralized AI on edge devices: private federated learning, verifiable models.",
        discussion: """
            Start with `murmur demo`: 100 simulated devices learn to read handwritten digits
            without sharing their data, and a report with plots is written to ./murmur-report.
            Then try `murmur simulate --help` for every knob.
            """,
        subcommands: [Demo.self, Simulate.self, Robustness.self, Privacy.self, Infer.self, Verify.self, Log.self, LedgerCommand.self, P2P.self, Cluster.self, NodeCommand.self, Bench.self]
    )

    /// Parses, then runs. A `ValidationError` thrown while *running* (a bad file, a clashing
    /// option found late) is printed as one `Error:` line and exits 64 like a parse-time one, but
    /// without ArgumentParser's usage line, which would show the root command's usage and
    /// mislead; parse errors keep their usage.
    static func main() async {
        tuneAllocator()
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}
