/// Turns the convolution stack's channel-major activations `[channels, batch, plane]` (CNHW)
/// into PyTorch's batch-major flattening `[batch, channels·plane]` (`nn.Flatten` on NCHW), so
/// the first dense layer after it has exactly the weight layout PyTorch would have.
///
/// For one sample (or one channel) the two layouts coincide and this is a copy.
struct Flatten: Layer {
    let channels: Int
    /// Floats per channel per sample (height × width).
    let plane: Int

    var inputSize: Int { channels * plane }
    var outputSize: Int { channels * plane }

    func forward(batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, scratch: LayerScratch) {
        for c in 0..<channels {
            for b in 0..<batch {
                (output + (b * channels + c) * plane).update(from: input + (c * batch + b) * plane, count: plane)
            }
        }
    }

    func backward(batch: Int, input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                  outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  parameters: UnsafePointer<Float>, parameterGradient: UnsafeMutablePointer<Float>,
                  scratch: LayerScratch) {
        guard let dx = inputGradient else { return }
        for c in 0..<channels {
            for b in 0..<batch {
                (dx + (c * batch + b) * plane).update(from: outputGradient + (b * channels + c) * plane, count: plane)
            }
        }
    }
}
