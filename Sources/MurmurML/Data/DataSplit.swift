import MurmurCore

/// Train/test splits that keep every class's share.
///
/// Used to hold out an evaluation set that no client ever trains on, with the same class mix as
/// the data (stratification, as in scikit-learn's `train_test_split(stratify=)`).
public enum DataSplit {
    /// Splits `d` per class: class c's samples are shuffled with the sub-stream
    /// `SeededRNG(seed: seed, stream: c)` and the first round(testFraction · n_c) go to test.
    ///
    /// Both parts keep the original sample order. The split of one class does not depend on the
    /// others, so adding a class leaves the rest unchanged. `testFraction` must be in [0, 1]
    /// (a programmer error otherwise).
    public static func stratified(_ d: Dataset, testFraction: Double, seed: UInt64) -> (train: Dataset, test: Dataset) {
        precondition((0...1).contains(testFraction), "testFraction \(testFraction) is outside [0, 1]")
        var byClass = [[Int]](repeating: [], count: d.classCount)
        for (i, l) in d.labels.enumerated() { byClass[Int(l)].append(i) }
        var isTest = [Bool](repeating: false, count: d.count)
        for (c, members) in byClass.enumerated() where !members.isEmpty {
            var rng = SeededRNG(seed: seed, stream: UInt64(c))
            var shuffled = members
            rng.shuffle(&shuffled)
            let nTest = Int((testFraction * Double(members.count)).rounded(.toNearestOrAwayFromZero))
            for i in shuffled.prefix(nTest) { isTest[i] = true }
        }
        let test = (0..<d.count).filter { isTest[$0] }
        let train = (0..<d.count).filter { !isTest[$0] }
        return (d.subset(train), d.subset(test))
    }
}
