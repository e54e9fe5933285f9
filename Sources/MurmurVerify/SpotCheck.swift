import Foundation
import MurmurCore

/// A verifier's summary of one device's checked receipts, in the shape of the ledger's
/// `reputation` record (MurmurLedger logs it; this module only produces it).
public struct ReputationRecord: Codable, Sendable, Equatable {
    /// The device's peer id.
    public var device: String
    /// Receipts re-executed.
    public var checked: Int
    /// Receipts rejected.
    public var failed: Int
    /// Rejection codes seen (sorted, unique).
    public var reasons: [String]
    /// Reputation delta in integer points: +1 per accepted check, −20 per failure (lying must cost
    /// more than honest work earns).
    public var delta: Int

    public init(device: String, checked: Int, failed: Int, reasons: [String]) {
        self.device = device
        self.checked = checked
        self.failed = failed
        self.reasons = reasons
        self.delta = (checked - failed) - 20 * failed
    }
}

/// Spot checking: verifier peers re-execute a random fraction of the receipts they see.
public enum SpotCheck {
    /// The chance that a device lying in `lies` of its receipts is caught at least once when each
    /// receipt is independently re-checked with probability `checkFraction`: 1 − (1 − f)^lies.
    public static func detectionProbability(checkFraction f: Double, lies: Int) -> Double {
        1 - Foundation.pow(1 - f, Double(lies))
    }

    /// Receipts a verifier must check (fraction f) so that a device lying in a fraction s of its
    /// n receipts is caught with probability ≥ p: smallest f with 1 − (1 − f)^(s·n) ≥ p.
    public static func requiredCheckFraction(lieFraction s: Double, receipts n: Int, confidence p: Double) -> Double {
        let lies = max(1, (s * Double(n)).rounded())
        return 1 - Foundation.pow(1 - p, 1 / lies)
    }

    /// Chooses which receipts to check: each independently with probability `fraction`,
    /// seeded so a simulation reproduces.
    public static func choose(count: Int, fraction: Double, rng: inout SeededRNG) -> [Bool] {
        (0..<count).map { _ in rng.nextDouble() < fraction }
    }
}
