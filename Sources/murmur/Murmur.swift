import ArgumentParser

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
        subcommands: [Demo.self, Simulate.self, Robustness.self, Privacy.self, Infer.self, Verify.self, Log.self, LedgerCommand.self, P2P.self, Bench.self]
    )
}
