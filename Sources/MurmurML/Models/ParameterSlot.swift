/// Where one named tensor lives inside a network's flat parameter vector.
///
/// The flat vector is what clients train, clip and ship; slots map it back to named tensors
/// (safetensors files, PyTorch `state_dict` keys via docs/ml.md) without copying.
public struct ParameterSlot: Sendable, Equatable {
    /// Tensor name, e.g. `dense0.weight`, `conv1.bias`.
    public let name: String
    /// Tensor shape, PyTorch layout (`[out, in]` for dense weights, `[outC, inC, kH, kW]` for conv).
    public let shape: [Int]
    /// Index of the tensor's first element in the flat vector.
    public let offset: Int
    /// Number of elements (the product of `shape`).
    public var count: Int

    /// A slot for `shape` starting at `offset`; `count` is the product of the shape.
    public init(name: String, shape: [Int], offset: Int) {
        self.name = name
        self.shape = shape
        self.offset = offset
        self.count = shape.reduce(1, *)
    }

    /// The index range of this tensor in the flat vector.
    public var range: Range<Int> { offset..<(offset + count) }
}
