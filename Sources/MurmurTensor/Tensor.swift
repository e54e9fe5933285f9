/// A dense Float32 tensor: a shape and contiguous row-major storage.
///
/// Tensors are values (copy-on-write arrays); hot paths borrow their storage as
/// `UnsafeBufferPointer` and call the kernels in `GEMM` and `Vec`.
public struct Tensor: Sendable, Equatable {
    /// Sizes of each dimension, outermost first.
    public var shape: [Int]
    /// Row-major elements; `data.count == shape.reduce(1, *)`.
    public var data: [Float]

    /// A tensor over existing storage. The element count must match the shape.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Number of elements.
    public var count: Int { data.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The element at a multi-dimensional index (bounds are checked by the array).
    public subscript(_ index: Int...) -> Float {
        get { data[offset(index)] }
        set { data[offset(index)] = newValue }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) ≠ tensor rank \(shape.count)")
        var o = 0
        for (i, n) in zip(index, shape) { o = o * n + i }
        return o
    }

    /// The same elements under a new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }
}
