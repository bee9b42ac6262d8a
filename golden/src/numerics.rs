//! Integer arithmetic the chip implements, exactly as TFLite's classic fixed-point path
//! (`tflite-runtime` 2.14 reference kernels, gemmlowp "double rounding").

/// TFLite `QuantizeMultiplier`: `real ~= multiplier * 2^(shift - 31)` with `multiplier` in
/// `[2^30, 2^31)` (or 0 for `real == 0` or tiny values). `real` must be finite and `>= 0`.
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    if real == 0.0 {
        return (0, 0);
    }
    let (q, mut shift) = frexp(real);
    // `f64::round` rounds half away from zero, as TFLite's `TfLiteRound`.
    let mut q_fixed = (q * (1u64 << 31) as f64).round() as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        return (0, 0);
    }
    // The chip's shift field holds -31..=30; larger scales saturate (TFLite's default build
    // would shift further, but no int8 layer has a scale of 2^30 or more).
    if shift > 30 {
        return (i32::MAX, 30);
    }
    (q_fixed as i32, shift)
}

/// `frexp`: `x = m * 2^e` with `m` in `[0.5, 1)` for finite positive `x`.
fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale up first.
        let (m, e) = frexp(x * (1u64 << 54) as f64);
        return (m, e - 54);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022)
}

/// gemmlowp `SaturatingRoundingDoublingHighMul`: `round(a * b / 2^31)` with ties rounded up
/// (the nudge form), saturating the one overflow case `MIN * MIN`.
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Rust's `/` truncates toward zero, like C++'s.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp `RoundingDivideByPOT`: `x / 2^exponent` rounded half away from zero.
pub fn rounding_divide_by_pot(x: i32, exponent: u32) -> i32 {
    debug_assert!(exponent <= 31);
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TFLite `MultiplyByQuantizedMultiplier(x, multiplier, shift)`; `shift` in `-31..=30`.
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = shift.max(0) as u32;
    let right = (-shift).max(0) as u32;
    // `x * 2^left` in int32, wrapping (the chip has no wider register here).
    let shifted = x.wrapping_shl(left);
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(shifted, multiplier),
        right,
    )
}

/// Saturates an int32 lane to int8, as every write of a 32-bit value into SRAM does.
pub fn saturate_i8(x: i32) -> i8 {
    x.clamp(i8::MIN as i32, i8::MAX as i32) as i8
}

/// One lane of `RQ`: bias, rescale, zero point, clamp.
pub fn requantize_lane(
    acc: i32,
    bias: i32,
    multiplier: i32,
    shift: i8,
    zero_point: i32,
    act_min: i32,
    act_max: i32,
) -> i32 {
    let scaled = multiply_by_quantized_multiplier(acc.wrapping_add(bias), multiplier, shift as i32);
    (scaled as i64 + zero_point as i64).clamp(act_min as i64, act_max as i64) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_matches_definition() {
        for x in [
            1.0,
            0.5,
            0.75,
            3.0,
            1e-10,
            123456.789,
            f64::MIN_POSITIVE / 4.0,
        ] {
            let (m, e) = frexp(x);
            assert!((0.5..1.0).contains(&m), "{x}: {m}");
            assert_eq!(m * 2f64.powi(e), x);
        }
    }

    #[test]
    fn quantize_multiplier_known_values() {
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
        assert_eq!(quantize_multiplier(0.25), (1 << 30, -1));
        // 0.75 = 0.75 * 2^0: 0.75 * 2^31 = 1610612736.
        assert_eq!(quantize_multiplier(0.75), (1_610_612_736, 0));
        // Rounds up to 2^31: renormalized.
        let just_below_one = 1.0 - f64::EPSILON / 4.0;
        assert_eq!(quantize_multiplier(just_below_one), (1 << 30, 1));
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        assert_eq!(quantize_multiplier(1e-12), (0, 0));
    }
}
