import ArgumentParser
import Foundation
import MurmurPrivacy

/// `murmur privacy`: privacy-accountant questions on their own (no training).
struct Privacy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Differential-privacy accounting: ε for a noise level, or the noise for an ε.",
        discussion: """
            Both commands analyse T rounds of the Gaussian mechanism on a Poisson sample of
            devices (rate q; q = 1 is full participation), client-level DP with add-or-remove
            neighbours. Example:
              murmur privacy epsilon --noise-multiplier 1.1 --sampling-rate 0.01 --rounds 1000 --delta 1e-5
              murmur privacy calibrate --target-epsilon 2 --delta 1e-5 --sampling-rate 0.01 --rounds 1000
            See docs/privacy.md for what the guarantee covers.
            """,
        subcommands: [PrivacyEpsilon.self, PrivacyCalibrate.self]
    )
}

/// Flags shared by the accountant commands.
struct AccountingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Probability q that a device takes part in a round, in (0, 1].", valueName: "q"))
    var samplingRate: Double

    @Option(help: "Number of rounds T (compositions), ≥ 1.")
    var rounds: Int

    @Option(help: ArgumentHelp("δ of the (ε, δ) guarantee, in (0, 1).", valueName: "δ"))
    var delta: Double

    @Option(help: "Accountant: rdp (Rényi DP, fast) or pld (privacy loss distributions, tighter).")
    var accountant: AccountantKind = .rdp

    @Flag(help: "Print one JSON object.")
    var json = false

    var sampling: SamplingScheme { samplingRate >= 1 ? .full : .poisson(rate: samplingRate) }

    func validate() throws {
        guard samplingRate > 0, samplingRate <= 1 else {
            throw ValidationError("--sampling-rate must be in (0, 1], got \(samplingRate)")
        }
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1, got \(rounds)") }
        guard delta > 0, delta < 1 else { throw ValidationError("--delta must be in (0, 1), got \(delta)") }
    }

    func emit(_ key: String, _ value: Double, text: String) throws {
        if json {
            let object: [String: Any] = [key: value, "accountant": accountant.rawValue, "delta": delta,
                                         "sampling_rate": samplingRate, "rounds": rounds]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(text)
        }
    }
}

/// `murmur privacy epsilon`: ε spent by T rounds at noise multiplier σ.
struct PrivacyEpsilon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epsilon", abstract: "The ε(δ) of T rounds of the Gaussian mechanism with noise multiplier σ.")

    @Option(help: ArgumentHelp("Noise multiplier σ = noise std / clip norm, > 0.", valueName: "σ"))
    var noiseMultiplier: Double

    @OptionGroup var options: AccountingOptions

    func validate() throws {
        guard noiseMultiplier > 0, noiseMultiplier.isFinite else {
            throw ValidationError("--noise-multiplier must be > 0, got \(noiseMultiplier)")
        }
    }

    func run() throws {
        var accountant = options.accountant.make()
        do {
            try accountant.compose(GaussianEvent(noiseMultiplier: noiseMultiplier, sampling: options.sampling, count: options.rounds))
            let eps = try accountant.epsilon(delta: options.delta)
            try options.emit("epsilon", eps, text: String(
                format: "ε = %.6g at δ = %g after %d rounds (σ = %g, q = %g, %@ accountant)",
                eps, options.delta, options.rounds, noiseMultiplier, options.samplingRate, options.accountant.rawValue))
        } catch let e as PrivacyError {
            throw PrivacyCommandError(description: e.description)
        }
    }
}

/// `murmur privacy calibrate`: the smallest σ that keeps T rounds within (ε, δ).
struct PrivacyCalibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate", abstract: "The smallest noise multiplier σ whose T rounds stay within the target (ε, δ).")

    @Option(help: ArgumentHelp("Target ε, > 0.", valueName: "ε"))
    var targetEpsilon: Double

    @OptionGroup var options: AccountingOptions

    func validate() throws {
        guard targetEpsilon > 0, targetEpsilon.isFinite else {
            throw ValidationError("--target-epsilon must be > 0, got \(targetEpsilon)")
        }
    }

    func run() throws {
        do {
            let sigma = try NoiseCalibrator(accountant: options.accountant).noiseMultiplier(
                targetEpsilon: targetEpsilon, delta: options.delta, sampling: options.sampling, rounds: options.rounds)
            try options.emit("noise_multiplier", sigma, text: String(
                format: "σ = %.6g reaches ε ≤ %g at δ = %g after %d rounds (q = %g, %@ accountant)",
                sigma, targetEpsilon, options.delta, options.rounds, options.samplingRate, options.accountant.rawValue))
        } catch let e as PrivacyError {
            throw PrivacyCommandError(description: e.description)
        }
    }
}

/// An accounting failure reported to the user (exit code 1, message only).
struct PrivacyCommandError: Error, CustomStringConvertible {
    var description: String
}
