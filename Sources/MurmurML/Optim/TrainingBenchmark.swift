import MurmurCore

/// Measures local-training throughput, the number `murmur bench train` compares with PyTorch
/// eager (scripts/reference/train_torch.py does the same work in PyTorch).
public enum TrainingBenchmark {
    /// Samples in the synthetic data set (both here and in train_torch.py).
    public static let sampleCount = 2048

    /// Training samples per second of `config` with plain SGD (lr 0.01) and minibatches of
    /// `batchSize`, measured over at least `seconds` of wall-clock time.
    ///
    /// Data: `sampleCount` samples of standard-normal features in the config's input shape with
    /// uniform labels. Work per minibatch: gather the shuffled samples, forward, loss, backward,
    /// optimizer step — exactly what `Trainer.train` does. One warm-up epoch is not timed.
    /// Returns 0 for a config `Network` rejects or a non-positive batch size.
    public static func samplesPerSecond(config: ModelConfig, batchSize: Int, seconds: Double) -> Double {
        guard batchSize > 0, let net = try? Network(config: config, seed: 1) else { return 0 }
        let data = syntheticData(config: config, count: sampleCount, seed: 2)
        var optimizer = SGD(learningRate: 0.01)
        var rng = SeededRNG(seed: 3)
        _ = Trainer.train(net, on: data, epochs: 1, batchSize: batchSize, optimizer: &optimizer, rng: &rng)
        let clock = ContinuousClock()
        let start = clock.now
        var samples = 0
        var elapsed = 0.0
        repeat {
            samples += Trainer.train(net, on: data, epochs: 1, batchSize: batchSize, optimizer: &optimizer, rng: &rng).samples
            let d = clock.now - start
            elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        } while elapsed < seconds
        return Double(samples) / elapsed
    }

    /// `count` samples of N(0, 1) features shaped like `config.inputShape`, labels uniform over
    /// the classes.
    static func syntheticData(config: ModelConfig, count: Int, seed: UInt64) -> Dataset {
        var rng = SeededRNG(seed: seed)
        let d = config.inputShape.reduce(1, *)
        let features = (0..<(count * d)).map { _ in Float(rng.nextGaussian()) }
        let labels = (0..<count).map { _ in Int32(rng.next() % UInt64(config.classCount)) }
        return Dataset(name: "benchmark", features: features, labels: labels, sampleShape: config.inputShape, classCount: config.classCount)
    }
}
