import Foundation

/// In-place iterative radix-2 complex FFT over split real/imaginary arrays of Double.
/// Why: the PLD accountant composes T rounds by raising the PMF's transform to the T-th power
/// (Koskela et al. 2020; dp-accounting's `self_convolve`), so its cost is a few FFTs.
enum FFT {
    /// The smallest power of two ≥ n.
    static func paddedLength(_ n: Int) -> Int {
        var m = 1
        while m < n { m <<= 1 }
        return m
    }

    /// cos and sin of 2πk/n for k < n/2, computed directly (no recurrence drift), shared by the
    /// forward and inverse transforms of one length.
    struct Twiddles {
        var cos: [Double], sin: [Double]
        init(count n: Int) {
            cos = [Double](repeating: 1, count: max(n / 2, 1))
            sin = [Double](repeating: 0, count: max(n / 2, 1))
            for k in 0..<(n / 2) {
                let a = 2 * Double.pi * Double(k) / Double(n)
                cos[k] = Foundation.cos(a)
                sin[k] = Foundation.sin(a)
            }
        }
    }

    /// Transforms (re, im) in place with precomputed twiddles of the same length; `inverse`
    /// computes the unscaled inverse transform. The count must be a power of two.
    static func transform(re: inout [Double], im: inout [Double], inverse: Bool, twiddles: Twiddles) {
        let n = re.count
        precondition(n == im.count && n & (n - 1) == 0, "FFT length must be a power of two")  // programmer error
        guard n > 1 else { return }
        let sign: Double = inverse ? 1 : -1
        let wr = twiddles.cos, wi = twiddles.sin
        re.withUnsafeMutableBufferPointer { R in
            im.withUnsafeMutableBufferPointer { I in
                wr.withUnsafeBufferPointer { WR in
                    wi.withUnsafeBufferPointer { WI in
                        // Bit-reversal permutation.
                        var j = 0
                        for i in 1..<n {
                            var bit = n >> 1
                            while j & bit != 0 { j ^= bit; bit >>= 1 }
                            j |= bit
                            if i < j { R.swapAt(i, j); I.swapAt(i, j) }
                        }
                        var len = 2
                        while len <= n {
                            let half = len / 2, stride = n / len
                            var start = 0
                            while start < n {
                                var k = 0
                                for m in 0..<half {
                                    let c = WR[k], s = sign * WI[k]
                                    let p = start + m, q = p + half
                                    let xr = R[q] * c - I[q] * s
                                    let xi = R[q] * s + I[q] * c
                                    R[q] = R[p] - xr
                                    I[q] = I[p] - xi
                                    R[p] += xr
                                    I[p] += xi
                                    k += stride
                                }
                                start += len
                            }
                            len <<= 1
                        }
                    }
                }
            }
        }
    }

    /// The circular `times`-fold self-convolution of `x` padded to `length` (a power of two):
    /// real(IFFT(FFT(x)^times)).
    static func selfConvolve(_ x: [Double], times: Int, length: Int) -> [Double] {
        var re = x + [Double](repeating: 0, count: length - x.count)
        var im = [Double](repeating: 0, count: length)
        let twiddles = Twiddles(count: length)
        transform(re: &re, im: &im, inverse: false, twiddles: twiddles)
        let t = Double(times)
        for i in 0..<length {
            let r = (re[i] * re[i] + im[i] * im[i]).squareRoot()
            if r == 0 { continue }
            let theta = atan2(im[i], re[i]) * t
            let m = pow(r, t)
            re[i] = m * cos(theta)
            im[i] = m * sin(theta)
        }
        transform(re: &re, im: &im, inverse: true, twiddles: twiddles)
        let scale = 1 / Double(length)
        return re.map { $0 * scale }
    }
}
