/// Rectified linear unit y = max(x, 0), elementwise; layout-agnostic.
///
/// The derivative at exactly 0 is taken as 0, as in PyTorch.
struct ReLU: Layer {
    /// Floats per sample.
    let size: Int

    var inputSize: Int { size }
    var outputSize: Int { size }

    func forward(batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, scratch: LayerScratch) {
        Kernels.relu(input, output, count: batch * size)
    }

    func backward(batch: Int, input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                  outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  parameters: UnsafePointer<Float>, parameterGradient: UnsafeMutablePointer<Float>,
                  scratch: LayerScratch) {
        guard let dx = inputGradient else { return }
        Kernels.reluBackward(output, outputGradient, dx, count: batch * size)
    }
}
