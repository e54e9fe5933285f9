import Foundation

/// The UCI Optical Recognition of Handwritten Digits test set (Alpaydin & Kaynak, 1998; CC BY 4.0),
/// 1,797 8×8 images of 10 digits, embedded in the library so a first run needs no download.
///
/// It is the data set of Murmur's demo: small enough to simulate hundreds of clients in seconds,
/// hard enough that partitioning and aggregation visibly matter. Attribution: `Data/README.md`.
public enum Digits {
    /// Number of samples.
    public static let count = 1797
    /// Number of classes (the digits 0–9).
    public static let classCount = 10
    /// Shape of one sample: one channel of 8×8 pixels.
    public static let sampleShape = [1, 8, 8]
    /// Seed of the fixed train/test split; a constant so the test set never depends on `--seed`.
    public static let splitSeed: UInt64 = 0x4D55_524D_5552  // "MURMUR"
    /// Fraction of each class held out by `split()`.
    public static let testFraction = 0.2

    /// All 1,797 samples, features = pixel count / 16 in [0, 1], labels 0–9, name "digits".
    ///
    /// Decoded once, on first use, from the base64 literal in `DigitsData.swift`.
    public static func load() -> Dataset { all }

    /// The fixed stratified split: per class a shuffle seeded by `splitSeed`, then
    /// round(0.2 · n_c) samples to test (359 test, 1,438 train).
    ///
    /// Identical on every run and machine. Only the evaluator sees `test`; clients are
    /// partitioned from `train`.
    public static func split() -> (train: Dataset, test: Dataset) { fixedSplit }

    /// The packed rows (64 pixel bytes then one label byte each), decoded from the literal.
    static let packed: [UInt8] = {
        // The literal is generated and checked by tests; failing to decode it is a build defect.
        guard let data = Data(base64Encoded: DigitsData.base64, options: .ignoreUnknownCharacters),
              data.count == DigitsData.rows * DigitsData.rowBytes
        else { preconditionFailure("DigitsData.swift is corrupt: run scripts/gen_digits.py") }
        return [UInt8](data)
    }()

    private static let all: Dataset = {
        let rows = DigitsData.rows
        let pixels = DigitsData.rowBytes - 1
        var features = [Float](repeating: 0, count: rows * pixels)
        var labels = [Int32](repeating: 0, count: rows)
        packed.withUnsafeBufferPointer { src in
            features.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    let row = r * DigitsData.rowBytes
                    for p in 0..<pixels { dst[r * pixels + p] = Float(src[row + p]) / 16 }
                    labels[r] = Int32(src[row + pixels])
                }
            }
        }
        return Dataset(
            name: "digits", features: features, labels: labels, sampleShape: sampleShape, classCount: classCount)
    }()

    private static let fixedSplit = DataSplit.stratified(all, testFraction: testFraction, seed: splitSeed)
}
