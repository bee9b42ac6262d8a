//! Synthetic models with seeded random weights and quantization: for property tests and
//! benchmarks, where shapes matter and accuracy does not.

use seeded::Rng;

use crate::model::{Clamp, Dense, Input, Layer, Model, Quant, Source};

/// Log-uniform in `[lo, hi)`.
fn scale(rng: &mut Rng, lo: f64, hi: f64) -> f32 {
    (lo.ln() + rng.unit() * (hi.ln() - lo.ln())).exp() as f32
}

/// A stack of fully-connected layers of the given widths (`widths[0]` input features), with
/// random int8 weights, biases, scales and zero points. Output scales follow the expected
/// spread of each layer's sums, so outputs use the int8 range instead of saturating.
pub fn random_stack(seed: u64, widths: &[usize]) -> Model {
    stack(seed, widths, false)
}

/// [`random_stack`] with every scale a power of two: each requantization multiplier is then an
/// exact power of two, and the rounding shift meets exact ties (`x.5`) often, which is where
/// double and single rounding, and half-up and half-away, part ways.
pub fn random_stack_pow2(seed: u64, widths: &[usize]) -> Model {
    stack(seed, widths, true)
}

fn stack(seed: u64, widths: &[usize], pow2: bool) -> Model {
    assert!(
        widths.len() >= 2,
        "a stack needs input features and one layer"
    );
    let mut rng = Rng::new(seed);
    let snap = |s: f32| {
        if pow2 {
            2f32.powi(s.log2().round() as i32)
        } else {
            s
        }
    };
    let mut input = Quant {
        scale: snap(scale(&mut rng, 0.005, 0.1)),
        zero_point: rng.range(-128, 127) as i32,
    };
    let model_input = input;
    let mut layers = Vec::new();
    for (l, pair) in widths.windows(2).enumerate() {
        let (inputs, outputs) = (pair[0], pair[1]);
        let weights: Vec<i8> = (0..inputs * outputs)
            .map(|_| rng.range(-127, 127) as i8)
            .collect();
        let weight_scales: Vec<f32> = (0..outputs)
            .map(|_| snap(scale(&mut rng, 0.001, 0.05)))
            .collect();
        let bias = (0..outputs)
            .map(|_| rng.range(-20_000, 20_000) as i32)
            .collect();
        // Sums of `inputs` products of about 73 x 73 spread like 73^2 sqrt(inputs).
        let spread = 73.0 * 73.0 * (inputs as f64).sqrt() * input.scale as f64 * 0.02;
        let output = Quant {
            scale: snap((spread / 64.0 * scale(&mut rng, 0.5, 2.0) as f64) as f32),
            zero_point: rng.range(-128, 127) as i32,
        };
        layers.push(Layer::Dense(Dense {
            name: format!("fc{}", l + 1),
            input: if l == 0 {
                Source::Input
            } else {
                Source::Layer(l - 1)
            },
            inputs,
            outputs,
            activation: if rng.range(0, 1) == 1 {
                Clamp::Relu
            } else {
                Clamp::None
            },
            weights,
            weight_scales,
            bias,
            output,
            float: None,
        }));
        input = output;
    }
    Model {
        name: format!("random-{seed}"),
        description: "seeded random fully-connected stack".into(),
        input: Input::Features {
            features: widths[0],
            quant: model_input,
        },
        layers,
        test: None,
    }
}

/// `batch` seeded random quantized inputs for `model`.
pub fn random_inputs(seed: u64, model: &Model, batch: usize) -> Vec<Vec<i8>> {
    // Another stream than the model's of the same seed.
    let mut rng = Rng::new(seed ^ 0xD1B5_4A32_D192_ED03);
    let features = model.feature_graph().expect("a feature model").features;
    (0..batch)
        .map(|_| (0..features).map(|_| rng.range(-128, 127) as i8).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_name_valid_models() {
        let a = random_stack(7, &[13, 9, 5]);
        a.validate().unwrap();
        assert_eq!(a, random_stack(7, &[13, 9, 5]));
        assert_ne!(a, random_stack(8, &[13, 9, 5]));
        let a = a.feature_graph().unwrap();
        assert_eq!(a.dense().nth(1).unwrap().inputs, 9);
        let p = random_stack_pow2(7, &[13, 9, 5]);
        p.validate().unwrap();
        let p = p.feature_graph().unwrap();
        let scales = std::iter::once(p.input.scale)
            .chain(p.dense().flat_map(|l| l.weight_scales.iter().copied()))
            .chain(p.dense().map(|l| l.output.scale));
        for s in scales {
            assert_eq!(s.log2().fract(), 0.0, "{s} is a power of two");
        }
    }
}
