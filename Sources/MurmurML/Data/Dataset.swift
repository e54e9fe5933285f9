import MurmurCore

/// A labelled data set held in memory: `count` samples of `featureCount` Float32 features each
/// (row-major), one integer class label per sample.
public struct Dataset: Sendable, Equatable {
    /// Row-major features, `count × featureCount`.
    public var features: [Float]
    /// Class labels in `0..<classCount`.
    public var labels: [Int32]
    /// Shape of one sample, e.g. `[1, 8, 8]` for a one-channel 8×8 image or `[60]` for a vector.
    public let sampleShape: [Int]
    /// Number of classes.
    public let classCount: Int
    /// A short name for reports ("digits", "synthetic(0.5,0.5)", a file name).
    public var name: String
    /// Optional natural grouping per sample (the generating device of Synthetic(α, β), or a
    /// user-chosen CSV column), used by the `column` partitioner.
    public var groups: [Int32]?

    /// A data set from its parts; the parts must agree in size.
    public init(
        name: String, features: [Float], labels: [Int32], sampleShape: [Int], classCount: Int, groups: [Int32]? = nil
    ) {
        let d = sampleShape.reduce(1, *)
        precondition(features.count == labels.count * d, "features (\(features.count)) ≠ labels (\(labels.count)) × \(d)")
        self.name = name
        self.features = features
        self.labels = labels
        self.sampleShape = sampleShape
        self.classCount = classCount
        self.groups = groups
    }

    /// Number of samples.
    public var count: Int { labels.count }

    /// Number of features per sample.
    public var featureCount: Int { sampleShape.reduce(1, *) }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        let d = featureCount
        var f = [Float]()
        f.reserveCapacity(indices.count * d)
        var l = [Int32]()
        l.reserveCapacity(indices.count)
        let g = groups.map { gs in indices.map { gs[$0] } }
        features.withUnsafeBufferPointer { src in
            for i in indices {
                f.append(contentsOf: src[(i * d)..<((i + 1) * d)])
                l.append(labels[i])
            }
        }
        return Dataset(name: name, features: f, labels: l, sampleShape: sampleShape, classCount: classCount, groups: g)
    }

    /// Count of samples per class.
    public var classHistogram: [Int] {
        var h = [Int](repeating: 0, count: classCount)
        for l in labels { h[Int(l)] += 1 }
        return h
    }
}
