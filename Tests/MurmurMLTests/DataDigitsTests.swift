import Foundation
import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurML

/// The embedded UCI digits (scikit-learn's copy of the UCI optdigits test set, Data/digits.csv.gz).
@Suite(.ownThreads) struct DataDigitsTests {
    /// Per-class counts of `sklearn.datasets.load_digits()` (and of Data/digits.csv.gz).
    static let classCounts = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]

    @Test func shapeAndCounts() {
        let d = Digits.load()
        #expect(d.count == 1797)
        #expect(d.name == "digits")
        #expect(d.sampleShape == [1, 8, 8])
        #expect(d.featureCount == 64)
        #expect(d.classCount == 10)
        #expect(d.groups == nil)
        #expect(d.classHistogram == Self.classCounts)
    }

    @Test func pixelsAreSixteenthsInUnitRange() {
        let f = Digits.load().features
        #expect(f.min() == 0)
        #expect(f.max() == 1)
        #expect(f.allSatisfy { ($0 * 16).rounded() == $0 * 16 })
        // First sample of load_digits(): a zero, whose top row is 0 0 5 13 9 1 0 0.
        #expect(f.prefix(8).map { Int($0 * 16) } == [0, 0, 5, 13, 9, 1, 0, 0])
        #expect(Digits.load().labels.prefix(10) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    }

    @Test func embeddedBytesAreIntact() {
        let hex = Multihash.sha256(Digits.packed).digest.map { String(format: "%02x", $0) }.joined()
        #expect(hex == DigitsData.sha256)
    }

    /// The generated Swift literal holds exactly the committed Data/digits.csv.gz (read here with
    /// CSVLoader, which also exercises the gzip reader on a real file).
    @Test func embeddedDataMatchesCommittedFile() throws {
        let path = repositoryRoot.appendingPathComponent("Data/digits.csv.gz").path
        let file = try CSVLoader.load(path: path)
        let d = Digits.load()
        #expect(file.count == d.count)
        #expect(file.labels == d.labels)
        #expect(file.features.map { $0 / 16 } == d.features)
    }

    @Test func splitIsFixed() {
        let (train, test) = Digits.split()
        let (train2, test2) = Digits.split()
        #expect(train == train2 && test == test2)
        #expect(train.count == 1438 && test.count == 359)
        // round(0.2 · n_c) per class.
        #expect(test.classHistogram == [36, 36, 35, 37, 36, 36, 36, 36, 35, 36])
        let again = DataSplit.stratified(Digits.load(), testFraction: 0.2, seed: Digits.splitSeed)
        #expect(again.train == train && again.test == test)
    }
}
