import MurmurCore
import MurmurTensor

/// Fully connected layer y = x·Wᵀ + b, with W stored `[outputs, inputs]` row-major and then b
/// `[outputs]` — PyTorch's `nn.Linear` layout, so its `state_dict` loads unchanged.
///
/// Input and output are batch-major (`[batch, inputs]`, `[batch, outputs]`). All three products
/// (forward, weight gradient, input gradient) are single GEMM calls over the whole batch.
struct Dense: Layer {
    let inputs: Int
    let outputs: Int

    var inputSize: Int { inputs }
    var outputSize: Int { outputs }
    var parameterCount: Int { outputs * inputs + outputs }
    var parameterShapes: [(suffix: String, shape: [Int])] { [("weight", [outputs, inputs]), ("bias", [outputs])] }

    func initialize(_ parameters: UnsafeMutableBufferPointer<Float>, scheme: InitScheme, rng: inout SeededRNG) {
        let w = UnsafeMutableBufferPointer(rebasing: parameters[0..<(outputs * inputs)])
        scheme.fill(w, fanIn: inputs, fanOut: outputs, rng: &rng)
        for i in (outputs * inputs)..<parameterCount { parameters[i] = 0 }
    }

    func forward(batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, scratch: LayerScratch) {
        let w = parameters, b = parameters + outputs * inputs
        // Y ← 1·b (each row), then Y ← X·Wᵀ + Y.
        Kernels.broadcastRows(b, into: output, rows: batch, columns: outputs)
        GEMM.sgemm(transA: false, transB: true, m: batch, n: outputs, k: inputs, alpha: 1,
                   a: input, lda: inputs, b: w, ldb: inputs, beta: 1, c: output, ldc: outputs)
    }

    func backward(batch: Int, input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                  outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  parameters: UnsafePointer<Float>, parameterGradient: UnsafeMutablePointer<Float>,
                  scratch: LayerScratch) {
        // dW[out, in] = dYᵀ·X; db = Σ_rows dY; dX[batch, in] = dY·W.
        GEMM.sgemm(transA: true, transB: false, m: outputs, n: inputs, k: batch, alpha: 1,
                   a: outputGradient, lda: outputs, b: input, ldb: inputs, beta: 0,
                   c: parameterGradient, ldc: inputs)
        Kernels.columnSums(outputGradient, rows: batch, columns: outputs, into: parameterGradient + outputs * inputs)
        if let dx = inputGradient {
            GEMM.sgemm(transA: false, transB: false, m: batch, n: inputs, k: outputs, alpha: 1,
                       a: outputGradient, lda: outputs, b: parameters, ldb: inputs, beta: 0, c: dx, ldc: inputs)
        }
    }
}
