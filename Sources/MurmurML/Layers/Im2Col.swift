/// The im2col lowering of `Conv2D` (Chellapilla, Puri & Simard 2006) and its adjoint.
///
/// Row r = (c·k + ky)·k + kx of the column matrix holds, for every output pixel n = (b, oy, ox),
/// the input value its kernel tap (ky, kx) reads: x[b, c, oy + ky − p, ox + kx − p], or 0 in the
/// padding.
extension Conv2D {
    /// col[(c·k + ky)·k + kx, (b·oh + oy)·ow + ox] ← x[b, c, oy + ky − p, ox + kx − p] (0 outside).
    func im2col(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>, batch: Int) {
        if keepsSize { im2colShifted(x, into: col, batch: batch) } else { im2colRows(x, into: col, batch: batch) }
    }

    /// The adjoint of `im2col`: dx ← 0, then dx[b, c, iy, ix] += dcol[…] over every patch
    /// position that read (iy, ix).
    func col2im(_ dcol: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, batch: Int) {
        Kernels.zero(dx, batch * inputSize)
        if keepsSize { col2imShifted(dcol, into: dx, batch: batch) } else { col2imRows(dcol, into: dx, batch: batch) }
    }

    /// Whether the output plane has the input's size (k = 2p + 1, e.g. 3×3 with padding 1).
    var keepsSize: Bool { outHeight == height && outWidth == width }

    /// Runs of consecutive H×W planes of one channel: with channel-major input (or one channel)
    /// the whole batch is one run; otherwise each sample's plane is its own run.
    @inline(__always)
    private func runs(batch: Int) -> (count: Int, planes: Int, sampleStride: Int, channelStride: Int) {
        let (sampleStride, channelStride) = inputLayout.strides(channels: inChannels, plane: height * width, batch: batch)
        return sampleStride == height * width ? (1, batch, sampleStride, channelStride) : (batch, 1, sampleStride, channelStride)
    }

    /// Same-size lowering: when the output plane equals the input plane, row (c, ky, kx) is the
    /// input run shifted by s = (ky − p)·W + (kx − p) elements with the pixels whose tap reads
    /// padding zeroed — one fused pass of SIMD `load & mask` per row, where the row-by-row
    /// lowering would make a copy call per 4–8-float image row.
    func im2colShifted(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>, batch: Int) {
        let hw = height * width, n = batch * hw
        let r = runs(batch: batch)
        let length = r.planes * hw
        paddingMasks.withUnsafeBufferPointer { masks in
            for c in 0..<inChannels {
                for tap in 0..<(kernel * kernel) {
                    let row = col + (c * kernel * kernel + tap) * n
                    let shift = (tap / kernel - padding) * width + (tap % kernel - padding)
                    let mask = masks.baseAddress! + tap * maskPlanes * hw  // non-empty: hw ≥ 1
                    for run in 0..<r.count {
                        let src = x + run * r.sampleStride + c * r.channelStride, dst = row + run * length
                        var q = 0
                        while q < r.planes {
                            // A block of up to `maskPlanes` planes against the tiled mask.
                            let base = q * hw, count = min(maskPlanes, r.planes - q) * hw
                            // Pixels whose source index stays inside the run; the others (first
                            // and last block only) read padding anyway.
                            let j0 = min(max(0, -shift - base), count), j1 = max(min(count, length - shift - base), j0)
                            for j in 0..<j0 { dst[base + j] = 0 }
                            Self.maskedCopy(src + base + j0 + shift, mask + j0, into: dst + base + j0, count: j1 - j0)
                            for j in j1..<count { dst[base + j] = 0 }
                            q += maskPlanes
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2colShifted`: dx[g + s] += dcol[g] & mask over the same pixels.
    func col2imShifted(_ dcol: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, batch: Int) {
        let hw = height * width, n = batch * hw
        let r = runs(batch: batch)
        let length = r.planes * hw
        paddingMasks.withUnsafeBufferPointer { masks in
            for c in 0..<inChannels {
                for tap in 0..<(kernel * kernel) {
                    let row = dcol + (c * kernel * kernel + tap) * n
                    let shift = (tap / kernel - padding) * width + (tap % kernel - padding)
                    let mask = masks.baseAddress! + tap * maskPlanes * hw  // non-empty: hw ≥ 1
                    for run in 0..<r.count {
                        let src = row + run * length, dst = dx + run * r.sampleStride + c * r.channelStride
                        var q = 0
                        while q < r.planes {
                            let base = q * hw, count = min(maskPlanes, r.planes - q) * hw
                            let j0 = min(max(0, -shift - base), count), j1 = max(min(count, length - shift - base), j0)
                            Self.maskedAdd(src + base + j0, mask + j0, into: dst + base + j0 + shift, count: j1 - j0)
                            q += maskPlanes
                        }
                    }
                }
            }
        }
    }

    /// Planes per mask tile: enough that a masked copy runs over ≥ 256 floats, so that small
    /// images do not pay a call per plane.
    static func maskPlanes(height: Int, width: Int) -> Int { max(1, 256 / max(height * width, 1)) }

    /// Per tap (ky, kx), bit masks for `planes` consecutive H×W planes: all ones where output
    /// pixel (oy, ox) reads inside the image, zero where it reads padding. Selecting by bits
    /// keeps NaN and ∞ out of the padding, which multiplying by 0/1 would not.
    static func paddingMasks(height: Int, width: Int, kernel: Int, padding: Int, planes: Int) -> [UInt32] {
        var masks = [UInt32]()
        masks.reserveCapacity(kernel * kernel * planes * height * width)
        for ky in 0..<kernel {
            for kx in 0..<kernel {
                for _ in 0..<planes {
                    for oy in 0..<height {
                        for ox in 0..<width {
                            let iy = oy + ky - padding, ix = ox + kx - padding
                            masks.append(iy >= 0 && iy < height && ix >= 0 && ix < width ? ~0 : 0)
                        }
                    }
                }
            }
        }
        return masks
    }

    /// dst[i] ← src[i] & mask[i] (bitwise) for i < count.
    @inline(__always)
    private static func maskedCopy(_ src: UnsafePointer<Float>, _ mask: UnsafePointer<UInt32>,
                                   into dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<UInt32>.self)
                & UnsafeRawPointer(mask + i).loadUnaligned(as: SIMD8<UInt32>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: SIMD8<UInt32>.self)
            i += 8
        }
        while i < count { dst[i] = Float(bitPattern: src[i].bitPattern & mask[i]); i += 1 }
    }

    /// dst[i] += src[i] & mask[i] (bitwise) for i < count.
    @inline(__always)
    private static func maskedAdd(_ src: UnsafePointer<Float>, _ mask: UnsafePointer<UInt32>,
                                  into dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let bits = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<UInt32>.self)
                & UnsafeRawPointer(mask + i).loadUnaligned(as: SIMD8<UInt32>.self)
            Kernels.store(Kernels.load(dst + i) + unsafeBitCast(bits, to: SIMD8<Float>.self), dst + i)
            i += 8
        }
        while i < count { dst[i] += Float(bitPattern: src[i].bitPattern & mask[i]); i += 1 }
    }

    /// The input columns [ox0, ox1) that read inside the image for kernel column `kx`.
    @inline(__always)
    private func validColumns(_ kx: Int) -> (Int, Int) {
        (max(0, padding - kx), min(outWidth, width + padding - kx))
    }

    /// The row-by-row lowering, for any kernel and padding.
    func im2colRows(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>, batch: Int) {
        let (sampleStride, channelStride) = inputLayout.strides(channels: inChannels, plane: height * width, batch: batch)
        let ohw = outHeight * outWidth, n = batch * ohw
        for c in 0..<inChannels {
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let row = col + ((c * kernel + ky) * kernel + kx) * n
                    let (x0, x1) = validColumns(kx)
                    let shift = kx - padding
                    for b in 0..<batch {
                        let plane = x + b * sampleStride + c * channelStride
                        for oy in 0..<outHeight {
                            let dst = row + b * ohw + oy * outWidth
                            let iy = oy + ky - padding
                            guard iy >= 0, iy < height, x0 < x1 else {
                                for ox in 0..<outWidth { dst[ox] = 0 }
                                continue
                            }
                            let base = iy * width + shift
                            for ox in 0..<x0 { dst[ox] = 0 }
                            for ox in x0..<x1 { dst[ox] = plane[base + ox] }
                            for ox in x1..<outWidth { dst[ox] = 0 }
                        }
                    }
                }
            }
        }
    }

    /// The row-by-row adjoint, for any kernel and padding.
    func col2imRows(_ dcol: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, batch: Int) {
        let (sampleStride, channelStride) = inputLayout.strides(channels: inChannels, plane: height * width, batch: batch)
        let ohw = outHeight * outWidth, n = batch * ohw
        for c in 0..<inChannels {
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let row = dcol + ((c * kernel + ky) * kernel + kx) * n
                    let (x0, x1) = validColumns(kx)
                    guard x0 < x1 else { continue }
                    let shift = kx - padding
                    for b in 0..<batch {
                        let plane = dx + b * sampleStride + c * channelStride
                        for oy in 0..<outHeight {
                            let iy = oy + ky - padding
                            guard iy >= 0, iy < height else { continue }
                            let src = row + b * ohw + oy * outWidth
                            let base = iy * width + shift
                            for ox in x0..<x1 { plane[base + ox] += src[ox] }
                        }
                    }
                }
            }
        }
    }
}
