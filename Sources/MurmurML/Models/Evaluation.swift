/// Accuracy and mean loss of a model on a data set.
///
/// Reported per round in simulations and recorded in model-version records.
public struct Evaluation: Sendable, Codable, Equatable {
    /// Fraction of samples whose arg-max logit is the label (ties go to the lower class).
    public var accuracy: Double
    /// Mean softmax cross-entropy.
    public var loss: Double
    /// Number of samples evaluated.
    public var count: Int

    /// An evaluation result.
    public init(accuracy: Double, loss: Double, count: Int) {
        self.accuracy = accuracy
        self.loss = loss
        self.count = count
    }
}

extension Network {
    /// Accuracy and mean cross-entropy over all of `data`, in order, `batchSize` samples at a time.
    ///
    /// An empty data set gives accuracy 0, loss 0, count 0. The data set's sample size must
    /// match the network's input (a programmer error otherwise).
    public func evaluate(_ data: Dataset, batchSize: Int = 256) -> Evaluation {
        precondition(batchSize > 0, "batchSize must be positive")
        precondition(data.featureCount == inputSize,
                     "data set '\(data.name)' has \(data.featureCount) features per sample; this network expects \(inputSize)")
        guard data.count > 0 else { return Evaluation(accuracy: 0, loss: 0, count: 0) }
        var lossSum = 0.0
        var correct = 0
        let classes = config.classCount, d = inputSize
        data.features.withUnsafeBufferPointer { f in
            data.labels.withUnsafeBufferPointer { l in
                var start = 0
                while start < data.count {
                    let m = min(batchSize, data.count - start)
                    let r = withLogits(features: f.baseAddress! + start * d, batch: m) { z in
                        SoftmaxCrossEntropy.evaluate(logits: z, labels: l.baseAddress! + start, batch: m, classes: classes,
                                                     gradient: nil, gradientScale: 0)
                    }
                    lossSum += r.lossSum
                    correct += r.correct
                    start += m
                }
            }
        }
        return Evaluation(accuracy: Double(correct) / Double(data.count), loss: lossSum / Double(data.count), count: data.count)
    }
}
