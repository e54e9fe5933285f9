import MurmurCore

/// What a call to `Trainer.train` did.
public struct TrainingStats: Sendable, Equatable {
    /// Mean training loss over every sample seen (each minibatch's mean loss weighted by its size);
    /// 0 when no step ran.
    public var meanLoss: Double
    /// Optimizer steps taken (minibatches).
    public var steps: Int
    /// Samples processed, counting repeats across epochs.
    public var samples: Int

    /// Training statistics.
    public init(meanLoss: Double, steps: Int, samples: Int) {
        self.meanLoss = meanLoss
        self.steps = steps
        self.samples = samples
    }
}

/// Minibatch training loops: the local-training step of every federated client.
///
/// Everything is a pure function of (network, data, hyper-parameters, rng state), so the same
/// seed and data give bit-identical parameters, and a reference implementation can replay the
/// exact minibatch sequence from `epochOrder`.
public enum Trainer {
    /// A uniformly random permutation of `0..<count` (Fisher–Yates, Durstenfeld's variant):
    /// start from [0, 1, …, count−1]; for i from count−1 down to 1, draw
    /// j = Int(rng.next() % UInt64(i + 1)) and swap elements i and j. Exactly count−1 draws.
    ///
    /// Spelled out (modulo, not rejection sampling) so that a NumPy reference replaying
    /// xoshiro256** reproduces the same order; the modulo bias is below 2⁻⁴⁰ for any realistic count.
    public static func epochOrder(count: Int, rng: inout SeededRNG) -> [Int] {
        var order = Array(0..<max(count, 0))
        var i = count - 1
        while i >= 1 {
            let j = Int(rng.next() % UInt64(i + 1))
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }

    /// Trains `net` in place for `epochs` passes over `data` and reports the mean loss.
    ///
    /// Each pass draws `epochOrder(count: data.count, rng: &rng)` and walks it in consecutive
    /// minibatches of `batchSize` (the last one smaller). Per minibatch: `lossAndGradients`,
    /// then `gradientHook(gradients, parameters)` if given (it may edit the gradients, e.g.
    /// FedProx adds μ(w − w₀), Li et al. 2020), then `optimizer.step`. The minibatch buffers are
    /// allocated once per call; a step allocates nothing.
    public static func train<O: Optimizer>(
        _ net: Network, on data: Dataset, epochs: Int, batchSize: Int, optimizer: inout O, rng: inout SeededRNG,
        gradientHook: ((UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void)? = nil
    ) -> TrainingStats {
        precondition(batchSize > 0, "batchSize must be positive, got \(batchSize)")
        precondition(epochs >= 0, "epochs must be non-negative, got \(epochs)")
        precondition(data.featureCount == net.inputSize,
                     "data set '\(data.name)' has \(data.featureCount) features per sample; the network expects \(net.inputSize)")
        let n = data.count, d = net.inputSize
        guard n > 0, epochs > 0 else { return TrainingStats(meanLoss: 0, steps: 0, samples: 0) }
        let capacity = min(batchSize, n)
        var features = [Float](repeating: 0, count: capacity * d)
        var labels = [Int32](repeating: 0, count: capacity)
        var lossSum = 0.0
        var steps = 0
        for _ in 0..<epochs {
            let order = epochOrder(count: n, rng: &rng)
            var start = 0
            while start < n {
                let m = min(batchSize, n - start)
                data.features.withUnsafeBufferPointer { src in
                    features.withUnsafeMutableBufferPointer { dst in
                        for r in 0..<m {
                            let s = order[start + r]
                            (dst.baseAddress! + r * d).update(from: src.baseAddress! + s * d, count: d)  // n, d > 0
                        }
                    }
                }
                for r in 0..<m { labels[r] = data.labels[order[start + r]] }
                let loss = features.withUnsafeBufferPointer { f in
                    labels.withUnsafeBufferPointer { l in net.lossAndGradients(features: f, labels: l, batch: m) }
                }
                lossSum += Double(loss) * Double(m)
                net.parameters.withUnsafeMutableBufferPointer { w in
                    net.gradients.withUnsafeMutableBufferPointer { g in
                        gradientHook?(g, UnsafeBufferPointer(w))
                        optimizer.step(parameters: w, gradients: UnsafeBufferPointer(g))
                    }
                }
                steps += 1
                start += m
            }
        }
        let samples = n * epochs
        return TrainingStats(meanLoss: lossSum / Double(samples), steps: steps, samples: samples)
    }
}
