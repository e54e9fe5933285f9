#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Softmax cross-entropy on logits, the loss every Murmur classifier trains with
/// (`nn.CrossEntropyLoss` with mean reduction).
///
/// Per sample with logits z and label y: loss = log Σⱼ exp(zⱼ) − z_y, computed as
/// m + log Σⱼ exp(zⱼ − m) with m = max z (no overflow); d loss/dzⱼ = softmax(z)ⱼ − [j = y].
enum SoftmaxCrossEntropy {
    /// Sums the per-sample losses (in Double) and counts arg-max hits over `batch` rows of
    /// `classes` logits; when `gradient` is given, writes `gradientScale · dloss/dz` there
    /// (scale 1/batch gives the gradient of the mean loss).
    ///
    /// Labels must lie in `0..<classes`: a label outside is a programmer error (data sets are
    /// validated when loaded) and stops the process with a message.
    static func evaluate(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, gradientScale: Float
    ) -> (lossSum: Double, correct: Int) {
        var lossSum = 0.0
        var correct = 0
        for r in 0..<batch {
            let z = logits + r * classes
            let label = Int(labels[r])
            precondition(label >= 0 && label < classes, "label \(label) outside 0..<\(classes): validate labels when loading data")
            var m = z[0], best = 0
            for j in 1..<max(classes, 1) where z[j] > m {
                m = z[j]
                best = j
            }
            if best == label { correct += 1 }
            var s: Float = 0
            if let g = gradient.map({ $0 + r * classes }) {
                for j in 0..<classes {
                    let e = expf(z[j] - m)
                    g[j] = e
                    s += e
                }
                let k = gradientScale / s
                for j in 0..<classes { g[j] *= k }
                g[label] -= gradientScale
            } else {
                for j in 0..<classes { s += expf(z[j] - m) }
            }
            lossSum += Double(m + logf(s) - z[label])
        }
        return (lossSum, correct)
    }
}
