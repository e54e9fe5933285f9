import ArgumentParser
import Foundation

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
        subcommands: [Demo.self, Simulate.self, Robustness.self, Privacy.self, Infer.self, Verify.self, Log.self, LedgerCommand.self, P2P.self, NodeCommand.self, Bench.self]
    )

    /// Parses, then runs. A `ValidationError` thrown while *running* (a bad file, a clashing
    /// option found late) is printed as one `Error:` line and exits 64 like a parse-time one, but
    /// without ArgumentParser's usage line, which would show the root command's usage and
    /// mislead; parse errors keep their usage.
    static func main() async {
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
