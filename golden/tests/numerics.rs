//! Requantization against the naive formula, concentrated on exact ties.

mod common;

use common::{naive_requant, naive_round_div_pow2, naive_rq_lane};
use golden::numerics::{
    multiply_by_quantized_multiplier, quantize_multiplier, requantize_lane, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};

/// Inputs dense around zero (every small tie), powers of two and their neighbours, extremes.
fn inputs() -> Vec<i32> {
    let mut xs: Vec<i32> = (-2048..=2048).collect();
    for k in 0..31 {
        let p = 1i32 << k;
        xs.extend([p - 1, p, p + 1, -p - 1, -p, -p + 1]);
        // Odd multiples of half a power of two: exact .5 after a right shift by k + 1.
        xs.extend([
            p.wrapping_mul(3),
            -p.wrapping_mul(3),
            p.wrapping_mul(5),
            -p.wrapping_mul(5),
        ]);
    }
    xs.extend([i32::MIN, i32::MIN + 1, i32::MAX, i32::MAX - 1]);
    xs
}

#[test]
fn rounding_divide_by_pot_rounds_half_away_from_zero() {
    assert_eq!(rounding_divide_by_pot(5, 1), 3);
    assert_eq!(rounding_divide_by_pot(-5, 1), -3);
    assert_eq!(rounding_divide_by_pot(-3, 1), -2);
    assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
    assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
    for e in 0..=31 {
        for x in inputs() {
            assert_eq!(
                rounding_divide_by_pot(x, e) as i128,
                naive_round_div_pow2(x as i128, e),
                "x={x} e={e}"
            );
        }
    }
}

#[test]
fn high_mul_saturates_the_one_overflow() {
    assert_eq!(
        saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
        i32::MAX
    );
    assert_eq!(
        saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX),
        -i32::MAX
    );
    // Exact ties: x * 2^30 / 2^31 = x / 2 rounds half up.
    assert_eq!(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
    assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
    let ms = [
        1 << 30,
        (1 << 30) + 1,
        i32::MAX,
        3 << 29,
        1_518_500_250,
        i32::MIN,
        0,
        -7,
    ];
    for m in ms {
        for x in inputs() {
            let naive = ((x as i128 * m as i128 + (1 << 30)) >> 31)
                .clamp(i32::MIN as i128, i32::MAX as i128);
            assert_eq!(
                saturating_rounding_doubling_high_mul(x, m) as i128,
                naive,
                "x={x} m={m}"
            );
        }
    }
}

#[test]
fn multiply_by_quantized_multiplier_matches_formula_on_every_shift() {
    // Power-of-two multipliers (2^30 = 0.5) make exact ties at every right shift.
    let ms = [
        1 << 30,
        (1 << 30) + 1,
        3 << 29,
        i32::MAX,
        1_073_741_825,
        1_518_500_250,
    ];
    let xs = inputs();
    for shift in -31..=30 {
        for &m in &ms {
            for &x in &xs {
                assert_eq!(
                    multiply_by_quantized_multiplier(x, m, shift) as i64,
                    naive_requant(x, 0, m, shift),
                    "x={x} m={m} shift={shift}"
                );
            }
        }
    }
}

#[test]
fn requantize_lane_adds_bias_zero_point_and_clamps() {
    let xs = inputs();
    let cases = [
        (0, 1 << 30, -1, 0, -128, 127),
        (17, 1_518_500_250, -7, -3, -128, 127),
        (-1000, 1 << 30, 0, 5, 5, 127), // ReLU: act_min = zero point
        (i32::MAX, 1 << 30, 2, 0, i32::MIN, i32::MAX), // bias wraps
        (0, 1 << 30, -31, 100, -128, 127),
        (3, 1 << 30, 30, 0, i32::MIN, i32::MAX),
    ];
    for (bias, m, shift, zp, lo, hi) in cases {
        for &x in &xs {
            assert_eq!(
                requantize_lane(x, bias, m, shift as i8, zp, lo, hi) as i64,
                naive_rq_lane(x, bias, m, shift, zp, lo, hi),
                "x={x} bias={bias} m={m} shift={shift}"
            );
        }
    }
}

#[test]
fn quantize_multiplier_reconstructs_the_scale_and_rounds_ties_away() {
    // q * 2^31 = 2^30 + 0.5 exactly: rounds away to 2^30 + 1.
    let tie = 0.5 + 2f64.powi(-32);
    assert_eq!(quantize_multiplier(tie), ((1 << 30) + 1, 0));
    for i in 1..2000 {
        let real = i as f64 * 0.000731;
        let (m, e) = quantize_multiplier(real);
        assert!(((1 << 30)..=i32::MAX).contains(&m), "{real}: {m}");
        let back = m as f64 * 2f64.powi(e - 31);
        assert!(
            (back - real).abs() <= real * 2f64.powi(-30),
            "{real}: {m} {e}"
        );
    }
}
