/// Which network to build. The configuration is part of a model's manifest, so it is Codable
/// and stable.
public enum Architecture: Codable, Sendable, Equatable {
    /// Multinomial logistic regression: one Dense layer to the classes.
    case logisticRegression
    /// Multi-layer perceptron: Dense → ReLU for each hidden width, then Dense to the classes.
    case mlp(hidden: [Int])
    /// Small CNN: for each entry of `channels`, Conv2D 3×3 (stride 1, padding 1) → ReLU →
    /// MaxPool 2×2; then Dense(`hidden`) → ReLU → Dense to the classes.
    case cnn(channels: [Int], hidden: Int)
}

/// A network's full description: architecture, input shape and number of classes.
public struct ModelConfig: Codable, Sendable, Equatable {
    public var architecture: Architecture
    /// Shape of one input sample: `[features]` for dense models, `[channels, height, width]` for CNNs.
    public var inputShape: [Int]
    public var classCount: Int

    public init(architecture: Architecture, inputShape: [Int], classCount: Int) {
        self.architecture = architecture
        self.inputShape = inputShape
        self.classCount = classCount
    }
}
