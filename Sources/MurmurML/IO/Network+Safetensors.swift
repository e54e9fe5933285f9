import MurmurTensor

extension Network {
    /// This network's parameters as a safetensors file: one F32 tensor per `parameterLayout`
    /// slot, named and shaped as there (PyTorch layout), with optional string metadata.
    ///
    /// The bytes are deterministic, so their CID identifies the weights.
    public func safetensors(metadata: [String: String] = [:]) -> [UInt8] {
        let tensors = parameterLayout.map { slot in
            (name: slot.name, tensor: Tensor(shape: slot.shape, data: Array(parameters[slot.range])))
        }
        return Safetensors.encode(tensors, metadata: metadata)
    }

    /// A network for `config` with the weights of a safetensors file.
    ///
    /// The file must hold exactly the tensors of `parameterLayout` with the same shapes (F32,
    /// F16 or BF16); otherwise throws `MLError.missingTensor`, `.unexpectedTensor` or
    /// `.shapeMismatch`, or the decoding error.
    public convenience init(config: ModelConfig, safetensors bytes: [UInt8]) throws {
        let layout = try LayerStack(config: config)
        let (tensors, _) = try Safetensors.decode(bytes)
        var values = [Float](repeating: 0, count: layout.parameterCount)
        for slot in layout.slots {
            guard let t = tensors[slot.name] else { throw MLError.missingTensor(name: slot.name, shape: slot.shape) }
            guard t.shape == slot.shape else { throw MLError.shapeMismatch(name: slot.name, expected: slot.shape, actual: t.shape) }
            values.replaceSubrange(slot.range, with: t.data)
        }
        let known = Set(layout.slots.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw MLError.unexpectedTensor(name: extra)
        }
        try self.init(config: config, parameters: values)
    }
}
