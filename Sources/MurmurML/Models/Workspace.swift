/// Preallocated memory for one network's forward and backward passes at up to `capacity`
/// samples: per layer an activation buffer, an activation-gradient buffer and its scratch.
///
/// One 64-byte-aligned allocation, zero-filled, freed in `deinit`. Smaller batches use a prefix
/// of every buffer, so a network reallocates only when it first sees a larger batch.
final class Workspace {
    /// Largest batch the buffers hold.
    let capacity: Int
    /// Output of layer i (`capacity × outputSize` floats).
    let activations: [UnsafeMutablePointer<Float>]
    /// dL/d(output of layer i), same size.
    let activationGradients: [UnsafeMutablePointer<Float>]
    /// Scratch of layer i.
    let scratch: [LayerScratch]
    private let base: UnsafeMutableRawPointer

    init(layers: [any Layer], capacity: Int) {
        precondition(capacity > 0, "workspace capacity must be positive")  // programmer error
        self.capacity = capacity
        let alignment = 64
        func rounded(_ bytes: Int) -> Int { (max(bytes, 1) + alignment - 1) / alignment * alignment }
        var plan = [(activation: Int, gradient: Int, floats: Int, indices: Int)]()
        var total = 0
        for layer in layers {
            let out = rounded(capacity * layer.outputSize * 4)
            let floats = rounded(capacity * layer.scratchPerSample * 4)
            let indices = rounded(capacity * layer.indexScratchPerSample * 4)
            plan.append((total, total + out, total + 2 * out, total + 2 * out + floats))
            total += 2 * out + floats + indices
        }
        base = UnsafeMutableRawPointer.allocate(byteCount: max(total, alignment), alignment: alignment)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(total, alignment))
        var activations = [UnsafeMutablePointer<Float>](), gradients = [UnsafeMutablePointer<Float>]()
        var scratch = [LayerScratch]()
        for (layer, p) in zip(layers, plan) {
            let out = capacity * layer.outputSize
            activations.append((base + p.activation).bindMemory(to: Float.self, capacity: out))
            gradients.append((base + p.gradient).bindMemory(to: Float.self, capacity: out))
            scratch.append(LayerScratch(
                floats: (base + p.floats).bindMemory(to: Float.self, capacity: capacity * layer.scratchPerSample),
                indices: (base + p.indices).bindMemory(to: Int32.self, capacity: capacity * layer.indexScratchPerSample)))
        }
        self.activations = activations
        self.activationGradients = gradients
        self.scratch = scratch
    }

    deinit { base.deallocate() }
}
