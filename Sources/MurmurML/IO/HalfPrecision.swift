/// Conversions from the 16-bit float formats safetensors files commonly hold to Float32.
///
/// Written out bit by bit (rather than via `Float16`, which not every platform has) so that
/// loading is identical everywhere. Both conversions are exact.
enum HalfPrecision {
    /// IEEE 754 binary16 → binary32: 1 sign, 5 exponent (bias 15), 10 mantissa bits;
    /// subnormals, infinities and NaN payloads are preserved.
    static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h) & 0x3FF
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa · 2⁻²⁴ (exact in binary32).
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }

    /// bfloat16 → binary32: the top 16 bits of a binary32.
    static func float(fromBFloat b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }
}
