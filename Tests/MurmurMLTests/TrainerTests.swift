import MurmurCore
import MurmurTestSupport
import Testing
@testable import MurmurML

@Suite(.ownThreads) struct TrainerTests {
    /// Known answer from an independent Python implementation of SplitMix64 + xoshiro256**
    /// (Blackman & Vigna's reference algorithms) running the documented Fisher–Yates loop.
    @Test func epochOrderKnownAnswer() {
        var rng = SeededRNG(seed: 42)
        #expect(Trainer.epochOrder(count: 10, rng: &rng) == [7, 3, 8, 9, 5, 6, 4, 1, 0, 2])
        #expect(Trainer.epochOrder(count: 7, rng: &rng) == [0, 4, 6, 2, 3, 1, 5])
        // 9 + 6 draws consumed; the next draw of the same Python stream:
        #expect(rng.next() == 16_191_947_441_114_085_370)
    }

    @Test func epochOrderEdgeCases() {
        var rng = SeededRNG(seed: 1)
        var fresh = SeededRNG(seed: 1)
        #expect(Trainer.epochOrder(count: 0, rng: &rng) == [])
        #expect(Trainer.epochOrder(count: 1, rng: &rng) == [0])
        #expect(rng.next() == fresh.next(), "orders of 0 or 1 element draw nothing")
        let big = Trainer.epochOrder(count: 1000, rng: &rng)
        #expect(big.sorted() == Array(0..<1000))
        #expect(big != Array(0..<1000))
    }

    @Test func statsCountStepsAndSamples() throws {
        let data = blobs(count: 10, seed: 1)
        let net = try Network(config: Self.logistic, seed: 1)
        var sgd = SGD(learningRate: 0.1)
        var rng = SeededRNG(seed: 2)
        var sizes = [Int]()
        let stats = Trainer.train(net, on: data, epochs: 2, batchSize: 4, optimizer: &sgd, rng: &rng) { _, _ in sizes.append(0) }
        #expect(stats.steps == 6)  // ⌈10/4⌉ = 3 per epoch
        #expect(stats.samples == 20)
        #expect(sizes.count == 6)
        #expect(stats.meanLoss > 0)
        let none = Trainer.train(net, on: data, epochs: 0, batchSize: 4, optimizer: &sgd, rng: &rng)
        #expect(none == TrainingStats(meanLoss: 0, steps: 0, samples: 0))
    }

    /// The loss Trainer reports for one full batch is the network's loss on those samples,
    /// i.e. the minibatch really holds the samples `epochOrder` names.
    @Test func minibatchesFollowEpochOrder() throws {
        let data = blobs(count: 6, seed: 3)
        let net = try Network(config: Self.mlp, seed: 4)
        let before = net.parameters
        var rng = SeededRNG(seed: 5)
        var replay = rng
        let order = Trainer.epochOrder(count: 6, rng: &replay)
        var sgd = SGD(learningRate: 0)
        let stats = Trainer.train(net, on: data, epochs: 1, batchSize: 4, optimizer: &sgd, rng: &rng)
        #expect(net.parameters == before)
        let first = data.subset(Array(order[0..<4])), second = data.subset(Array(order[4..<6]))
        let l1 = first.features.withUnsafeBufferPointer { f in first.labels.withUnsafeBufferPointer { net.lossAndGradients(features: f, labels: $0, batch: 4) } }
        let l2 = second.features.withUnsafeBufferPointer { f in second.labels.withUnsafeBufferPointer { net.lossAndGradients(features: f, labels: $0, batch: 2) } }
        #expect(abs(stats.meanLoss - (Double(l1) * 4 + Double(l2) * 2) / 6) < 1e-6)
    }

    @Test func trainingIsBitIdenticalForTheSameSeed() throws {
        let config = ModelConfig(architecture: .cnn(channels: [2], hidden: 6), inputShape: [1, 4, 4], classCount: 2)
        var rng = SeededRNG(seed: 6)
        let data = Dataset(name: "r", features: (0..<(40 * 16)).map { _ in Float(rng.nextGaussian()) },
                           labels: (0..<40).map { Int32($0 % 2) }, sampleShape: [1, 4, 4], classCount: 2)
        func run() throws -> [Float] {
            let net = try Network(config: config, seed: 7)
            var sgd = SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3)
            var r = SeededRNG(seed: 8)
            _ = Trainer.train(net, on: data, epochs: 2, batchSize: 7, optimizer: &sgd, rng: &r)
            var adam = Adam(learningRate: 0.01)
            _ = Trainer.train(net, on: data, epochs: 1, batchSize: 16, optimizer: &adam, rng: &r)
            return net.parameters
        }
        let a = try run(), b = try run()
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        #expect(a != (try Network(config: config, seed: 7)).parameters)
    }

    @Test(arguments: [logistic, mlp])
    func trainingReducesLossOnASeparableProblem(config: ModelConfig) throws {
        let data = blobs(count: 200, seed: 9)
        let net = try Network(config: config, seed: 10)
        let before = net.evaluate(data)
        var sgd = SGD(learningRate: 0.1, momentum: 0.9)
        var rng = SeededRNG(seed: 11)
        _ = Trainer.train(net, on: data, epochs: 5, batchSize: 16, optimizer: &sgd, rng: &rng)
        let after = net.evaluate(data)
        #expect(after.loss < before.loss / 4, "loss \(before.loss) → \(after.loss)")
        #expect(after.accuracy >= 0.98)
    }

    @Test func gradientHookRunsBeforeTheStep() throws {
        let data = blobs(count: 20, seed: 12)
        let net = try Network(config: Self.mlp, seed: 13)
        let start = net.parameters
        var sgd = SGD(learningRate: 0.5)
        var rng = SeededRNG(seed: 14)
        // A hook that cancels the gradient: the step then changes nothing.
        _ = Trainer.train(net, on: data, epochs: 1, batchSize: 8, optimizer: &sgd, rng: &rng) { g, w in
            #expect(w.count == g.count)
            for i in g.indices { g[i] = 0 }
        }
        #expect(net.parameters == start)
        // A FedProx-style hook μ(w − w₀) with a huge μ keeps w near w₀ compared with none.
        func drift(mu: Float) throws -> Float {
            let n = try Network(config: Self.mlp, seed: 13)
            var o = SGD(learningRate: 0.05)
            var r = SeededRNG(seed: 14)
            _ = Trainer.train(n, on: data, epochs: 3, batchSize: 4, optimizer: &o, rng: &r) { g, w in
                for i in g.indices { g[i] += mu * (w[i] - start[i]) }
            }
            return zip(n.parameters, start).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        }
        #expect(try drift(mu: 10) < drift(mu: 0) / 2)
    }

    static let logistic = ModelConfig(architecture: .logisticRegression, inputShape: [4], classCount: 2)
    static let mlp = ModelConfig(architecture: .mlp(hidden: [8]), inputShape: [4], classCount: 2)
}

/// Two Gaussian blobs in 4-D centred at ±(1.5, 1.5, 0, 0), σ = 0.5: linearly separable with
/// overwhelming probability.
func blobs(count: Int, seed: UInt64) -> Dataset {
    var rng = SeededRNG(seed: seed)
    var features = [Float](), labels = [Int32]()
    for i in 0..<count {
        let label = Int32(i % 2)
        let centre: Float = label == 0 ? -1.5 : 1.5
        for j in 0..<4 { features.append((j < 2 ? centre : 0) + Float(rng.nextGaussian() * 0.5)) }
        labels.append(label)
    }
    return Dataset(name: "blobs", features: features, labels: labels, sampleShape: [4], classCount: 2)
}
