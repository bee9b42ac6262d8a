//! An independent reference for compiled models: plain nested loops over the model file's
//! integers and the formula of `docs/numerics.md`, written from that description, sharing no
//! code with the compiler or the golden model. (Also used by `cosim`'s tests.)

#![allow(dead_code)]

pub mod transformer;

use compiler::model::{Clamp, Model};

/// `QuantizeMultiplier`: `real ~= m * 2^(e - 31)` with `m` in `[2^30, 2^31)`.
fn quantize_multiplier(real: f64) -> (i64, i32) {
    if real == 0.0 {
        return (0, 0);
    }
    // frexp: real = q * 2^e with q in [0.5, 1).
    let mut e = real.log2().floor() as i32 + 1;
    let mut q = real / 2f64.powi(e);
    while q >= 1.0 {
        q /= 2.0;
        e += 1;
    }
    while q < 0.5 {
        q *= 2.0;
        e -= 1;
    }
    let mut m = (q * 2f64.powi(31)).round() as i64; // round half away from zero
    if m == 1 << 31 {
        m /= 2;
        e += 1;
    }
    if e < -31 {
        return (0, 0);
    }
    (m, e)
}

/// The requantization of `docs/numerics.md` (multiplier, shifts, both roundings), before the
/// zero point and the clamp.
fn requantize(acc: i32, real: f64) -> i64 {
    let (m, e) = quantize_multiplier(real);
    let (left, right) = (e.max(0), (-e).max(0));
    let x = acc.wrapping_shl(left as u32) as i64;
    // SaturatingRoundingDoublingHighMul: the single overflow case saturates.
    let high = if x == i32::MIN as i64 && m == i32::MIN as i64 {
        i32::MAX as i64
    } else {
        (x * m + (1 << 30)) >> 31
    };
    // RoundingDivideByPOT: round half away from zero.
    if right == 0 {
        return high;
    }
    let div = 1i64 << right;
    let (q, r) = (high / div, high % div);
    let twice = 2 * r.abs();
    if twice >= div {
        q + high.signum()
    } else {
        q
    }
}

/// The int8 outputs of `model` for one quantized input.
pub fn reference_logits(model: &Model, input: &[i8]) -> Vec<i8> {
    let mut x: Vec<i8> = input.to_vec();
    let stack = model.feature_graph().expect("a feature model");
    assert!(
        stack.is_stack(),
        "the reference runs stacks of fully-connected layers"
    );
    let mut in_scale = stack.input.scale;
    let mut in_zp = stack.input.zero_point;
    for layer in stack.dense() {
        let mut y = vec![0i8; layer.outputs];
        for (c, out) in y.iter_mut().enumerate() {
            let mut acc: i32 = layer.bias[c];
            for (k, xk) in x.iter().enumerate() {
                let w = layer.weights[c * layer.inputs + k] as i32;
                acc = acc.wrapping_add((*xk as i32 - in_zp).wrapping_mul(w));
            }
            let real = in_scale as f64 * layer.weight_scales[c] as f64 / layer.output.scale as f64;
            let v = requantize(acc, real) + layer.output.zero_point as i64;
            let lo = match layer.activation {
                Clamp::Relu => layer.output.zero_point as i64,
                Clamp::None => -128,
                Clamp::Relu6 => unreachable!("the reference has no ReLU6"),
            };
            *out = v.clamp(lo, 127) as i8;
        }
        x = y;
        in_scale = layer.output.scale;
        in_zp = layer.output.zero_point;
    }
    x
}

#[test]
fn rounding_matches_docs_numerics() {
    // The doubling high multiply rounds half up: 2.5 -> 3, -2.5 -> -2.
    assert_eq!(requantize(5, 0.5), 3);
    assert_eq!(requantize(-5, 0.5), -2);
    // The shift rounds half away from zero: 6 * 0.25 = 3 / 2 -> 2, and -6 -> -2.
    assert_eq!(requantize(6, 0.25), 2);
    assert_eq!(requantize(-6, 0.25), -2);
    assert_eq!(quantize_multiplier(0.75), (1_610_612_736, 0));
    assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
}
