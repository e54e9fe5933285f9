import MurmurCore

extension SeededRNG {
    /// A uniform integer in `0..<bound` (Lemire 2019, "Fast random integer generation in an
    /// interval", multiply-shift with rejection), `bound > 0`.
    ///
    /// Spelled out here rather than using `Int.random(in:using:)` so that splits and partitions
    /// stay identical across Swift standard-library versions.
    mutating func index(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")  // programmer error
        let s = UInt64(bound)
        var m = next().multipliedFullWidth(by: s)
        if m.low < s {
            let threshold = (0 &- s) % s
            while m.low < threshold { m = next().multipliedFullWidth(by: s) }
        }
        return Int(m.high)
    }

    /// Shuffles `a` in place (Fisher–Yates, Durstenfeld's variant, using `index(below:)`).
    mutating func shuffle<T>(_ a: inout [T]) {
        var i = a.count - 1
        while i > 0 {
            let j = index(below: i + 1)
            if i != j { a.swapAt(i, j) }
            i -= 1
        }
    }
}
