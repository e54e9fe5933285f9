/// A first-order update rule: turns a gradient into a change of the parameters, keeping any
/// state it needs (momentum, moment estimates) between steps.
///
/// One optimizer value belongs to one parameter vector; its state is sized on the first step.
/// Steps are deterministic (fixed loop order, no threads).
public protocol Optimizer {
    /// Updates `parameters` in place from `gradients` (same length) by one step.
    mutating func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>)
}

extension Optimizer {
    /// One step on arrays (convenience for tests and small tools).
    public mutating func step(parameters: inout [Float], gradients: [Float]) {
        gradients.withUnsafeBufferPointer { g in
            parameters.withUnsafeMutableBufferPointer { p in step(parameters: p, gradients: g) }
        }
    }
}
