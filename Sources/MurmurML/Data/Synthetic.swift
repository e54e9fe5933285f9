import MurmurCore

/// The Synthetic(α, β) federated data of FedProx (Li et al., "Federated Optimization in
/// Heterogeneous Networks", MLSys 2020, §5.1), generated on the fly: 60 features, 10 classes.
///
/// Each device has its own softmax-regression model and its own input distribution, and
/// `groups` records the device, so `Partitioner.column` gives the paper's natural partition.
public enum Synthetic {
    /// Number of features per sample.
    public static let featureCount = 60
    /// Number of classes.
    public static let classCount = 10
    /// Fewest samples a device gets: the reference generator's `+ 50`.
    public static let minSamplesPerDevice = 50
    /// Most samples a device gets; caps LogNormal(4, 2)'s tail (P ≈ 1.2 %, about 1 device in 80, is capped)
    /// so one device cannot dominate memory or a round's wall time.
    public static let maxSamplesPerDevice = 5_000

    /// Generates `devices` devices' data, deterministically from `seed`.
    ///
    /// Device k, following the paper and its reference generator (`litian96/FedProx`,
    /// `data/synthetic_*/generate_synthetic.py`), where N(m, s) has standard deviation s as in
    /// `np.random.normal`:
    /// - n_k = min(50 + ⌊LogNormal(μ 4, σ 2)⌋, `maxSamplesPerDevice`) samples;
    /// - u_k ~ N(0, α); W_k[c][j] ~ N(u_k, 1) (10 × 60); b_k[c] ~ N(u_k, 1);
    /// - B_k ~ N(0, β); v_k[j] ~ N(B_k, 1); x ~ N(v_k, Σ) with Σ = diag(j^-1.2), j = 1…60;
    /// - y = argmax(softmax(W_k x + b_k)) = argmax(W_k x + b_k).
    ///
    /// Device k draws from its own sub-stream `SeededRNG(seed: seed, stream: k)`, so its data
    /// does not depend on how many devices are generated. Note that u_k shifts every logit of
    /// device k by the same amount (u_k · (Σ_j x_j + 1)), so α changes W_k and b_k but not the
    /// labels: label heterogeneity across devices comes from β and from each device's own
    /// W_k and v_k. `devices` must be ≥ 1 and α, β ≥ 0 (programmer errors otherwise).
    public static func generate(alpha: Double, beta: Double, devices: Int, seed: UInt64) -> Dataset {
        precondition(devices >= 1, "devices must be at least 1")
        precondition(alpha >= 0 && beta >= 0, "alpha and beta are standard deviations and must be ≥ 0")
        let d = featureCount
        let k = classCount
        let sd = (1...d).map { Float(pow(Double($0), -0.6)) }  // √(j^-1.2)
        var features = [Float]()
        var labels = [Int32]()
        var groups = [Int32]()
        var w = [Float](repeating: 0, count: k * d)
        var b = [Float](repeating: 0, count: k)
        var v = [Float](repeating: 0, count: d)
        for device in 0..<devices {
            var rng = SeededRNG(seed: seed, stream: UInt64(device))
            let logNormal = exp(4 + 2 * rng.nextGaussian())
            let n = min(minSamplesPerDevice + Int(min(logNormal, 1e9)), maxSamplesPerDevice)
            let u = alpha * rng.nextGaussian()
            let bigB = beta * rng.nextGaussian()
            for i in 0..<(k * d) { w[i] = Float(u + rng.nextGaussian()) }
            for c in 0..<k { b[c] = Float(u + rng.nextGaussian()) }
            for j in 0..<d { v[j] = Float(bigB + rng.nextGaussian()) }
            let first = features.count
            features.append(contentsOf: repeatElement(0, count: n * d))
            features.withUnsafeMutableBufferPointer { f in
                for s in 0..<n {
                    let x = UnsafeMutableBufferPointer(rebasing: f[(first + s * d)..<(first + (s + 1) * d)])
                    for j in 0..<d { x[j] = v[j] + sd[j] * Float(rng.nextGaussian()) }
                    labels.append(Int32(argmaxLogit(w, b, UnsafeBufferPointer(x))))
                }
            }
            groups.append(contentsOf: repeatElement(Int32(device), count: n))
        }
        return Dataset(
            name: "synthetic(\(short(alpha)),\(short(beta)))", features: features, labels: labels, sampleShape: [d],
            classCount: k, groups: groups)
    }

    /// argmax_c (W x + b)_c, ties to the lowest class.
    private static func argmaxLogit(_ w: [Float], _ b: [Float], _ x: UnsafeBufferPointer<Float>) -> Int {
        let d = x.count
        var best = 0
        var bestValue = -Float.infinity
        w.withUnsafeBufferPointer { wp in
            for c in 0..<b.count {
                var s = b[c]
                for j in 0..<d { s += wp[c * d + j] * x[j] }
                if s > bestValue {
                    bestValue = s
                    best = c
                }
            }
        }
        return best
    }

    /// "1" for 1.0, "0.5" for 0.5: the paper's way of naming Synthetic(1,1).
    private static func short(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
import Foundation
#endif
