import MurmurTestSupport
import Testing
@testable import MurmurML

/// Stratified train/test splits.
@Suite(.ownThreads) struct DataSplitTests {
    /// Digits with each sample's feature replaced by its index, so splits can be traced back.
    static let indexed: Dataset = {
        let d = Digits.load()
        return Dataset(name: "indexed", features: (0..<d.count).map(Float.init), labels: d.labels, sampleShape: [1], classCount: 10)
    }()

    func indices(_ d: Dataset) -> [Int] { d.features.map { Int($0) } }

    @Test func disjointCoveringAndStratified() {
        for fraction in [0.1, 0.2, 0.5] {
            let (train, test) = DataSplit.stratified(Self.indexed, testFraction: fraction, seed: 7)
            let all = indices(train) + indices(test)
            #expect(all.sorted() == Array(0..<Self.indexed.count))
            for (c, n) in Self.indexed.classHistogram.enumerated() {
                #expect(test.classHistogram[c] == Int((fraction * Double(n)).rounded()))
            }
            // Each part keeps the original order.
            #expect(indices(train) == indices(train).sorted() && indices(test) == indices(test).sorted())
        }
    }

    @Test func deterministicPerSeed() {
        let a = DataSplit.stratified(Self.indexed, testFraction: 0.2, seed: 1)
        let b = DataSplit.stratified(Self.indexed, testFraction: 0.2, seed: 1)
        let c = DataSplit.stratified(Self.indexed, testFraction: 0.2, seed: 2)
        #expect(a.test == b.test && a.train == b.train)
        #expect(a.test != c.test)
    }

    /// Pins the digits test set: if this changes, every reported accuracy changes meaning.
    @Test func digitsTestSetIsPinned() {
        let test = indices(DataSplit.stratified(Self.indexed, testFraction: 0.2, seed: Digits.splitSeed).test)
        #expect(Array(test.prefix(8)) == Self.pinnedFirstTestIndices)
        #expect(test.reduce(0, +) == Self.pinnedTestIndexSum)
    }

    static let pinnedFirstTestIndices = [1, 5, 9, 22, 23, 33, 42, 44]
    static let pinnedTestIndexSum = 330_137

    @Test func edgeFractions() {
        let none = DataSplit.stratified(Self.indexed, testFraction: 0, seed: 1)
        #expect(none.test.count == 0 && none.train.count == Self.indexed.count)
        let all = DataSplit.stratified(Self.indexed, testFraction: 1, seed: 1)
        #expect(all.train.count == 0 && all.test.count == Self.indexed.count)
    }
}
