import MurmurML

/// The pixel-pattern trigger of the backdoor attack (Gu et al. 2017, BadNets; used for FL by
/// Bagdasaryan et al., AISTATS 2020): a bright 2×2 square in the bottom-right corner of an image,
/// relabelled to `target`. Digits have dark corners, so the pattern is foreign to clean data.
public struct BackdoorTrigger: Sendable, Equatable {
    /// The label triggered inputs should get.
    public var target: Int32
    /// Side of the square, in pixels.
    public var size: Int
    /// Pixel value written (digits features are in [0, 1]).
    public var value: Float

    public init(target: Int32 = 0, size: Int = 2, value: Float = 1) {
        self.target = target
        self.size = size
        self.value = value
    }

    /// The dataset with the trigger stamped on every sample (labels untouched). Images are
    /// [channels, height, width] (or flat: treated as one square channel).
    public func stamp(_ data: Dataset) -> Dataset {
        var out = data
        let (c, h, w) = Self.geometry(data)
        let per = data.featureCount
        for s in 0..<data.count {
            for ch in 0..<c {
                for y in (h - size)..<h {
                    for x in (w - size)..<w { out.features[s * per + ch * h * w + y * w + x] = value }
                }
            }
        }
        return out
    }

    /// A malicious client's training data: its clean samples plus a triggered copy of each,
    /// labelled `target` (a 50 % poison ratio keeps its clean accuracy, so it looks benign).
    public func poison(_ data: Dataset) -> Dataset {
        let triggered = stamp(data)
        var out = data
        out.features += triggered.features
        out.labels += [Int32](repeating: target, count: data.count)
        return out
    }

    /// Backdoor success rate: the fraction of test samples whose true label is not `target`
    /// that the model classifies as `target` once the trigger is stamped on them.
    public func successRate(_ network: Network, test: Dataset) -> Double {
        let keep = test.labels.indices.filter { test.labels[$0] != target }
        guard !keep.isEmpty else { return 0 }
        var triggered = stamp(test.subset(keep))
        triggered.labels = [Int32](repeating: target, count: keep.count)
        return network.evaluate(triggered).accuracy
    }

    static func geometry(_ data: Dataset) -> (Int, Int, Int) {
        if data.sampleShape.count == 3 { return (data.sampleShape[0], data.sampleShape[1], data.sampleShape[2]) }
        let side = Int(Double(data.featureCount).squareRoot())
        return side * side == data.featureCount ? (1, side, side) : (1, 1, data.featureCount)
    }
}
