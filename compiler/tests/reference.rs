//! The compiled program, run on the golden model, against the independent reference in
//! `support`: the shipped digits model on every test sample, and random fully-connected stacks.

mod support;

use compiler::model::{argmax, Model};
use compiler::synthetic::{random_inputs, random_stack, random_stack_pow2};
use compiler::{compile, max_batch, CompileError, Compiled};
use isa::HwConfig;
use proptest::prelude::*;
use support::reference_logits;

/// Runs `inputs` through `compiled` on the golden model. `run_golden` fails if the run's
/// cycle count differs from the predicted one, so the `unwrap` checks that too.
fn golden_outputs(compiled: &Compiled, inputs: &[Vec<i8>]) -> Vec<Vec<i8>> {
    let (_, run) = compiled.run_golden(inputs).unwrap();
    compiled.outputs(&run.state.chips[0])
}

#[test]
fn digits_golden_equals_reference_on_every_test_sample_and_keeps_accuracy() {
    let model = Model::digits();
    let test = model.samples().unwrap();
    let samples = test.inputs.len();
    assert_eq!(samples, 360);
    let float_correct = test
        .inputs
        .iter()
        .zip(&test.labels)
        .filter(|(x, y)| argmax(&model.forward_float(x).unwrap()) == **y)
        .count();
    let float_accuracy = float_correct as f64 / samples as f64;
    assert!(float_accuracy > 0.95, "float accuracy {float_accuracy}");
    for preset in ["tiny", "small"] {
        let cfg = HwConfig::preset(preset).unwrap();
        let batch = max_batch(&model, &cfg, samples as u32).unwrap() as usize;
        let full = compile(&model, &cfg, batch as u32).unwrap();
        let mut int8_correct = 0;
        for (b, chunk) in test.inputs.chunks(batch).enumerate() {
            let inputs: Vec<Vec<i8>> = chunk.iter().map(|x| model.quantize_input(x)).collect();
            let compiled = if chunk.len() == batch {
                full.clone()
            } else {
                compile(&model, &cfg, chunk.len() as u32).unwrap()
            };
            let outputs = golden_outputs(&compiled, &inputs);
            for (s, (x, got)) in inputs.iter().zip(&outputs).enumerate() {
                let sample = b * batch + s;
                assert_eq!(
                    got,
                    &reference_logits(&model, x),
                    "{preset}: sample {sample}"
                );
                int8_correct += usize::from(argmax(got) == test.labels[sample]);
            }
        }
        let int8_accuracy = int8_correct as f64 / samples as f64;
        assert!(
            (int8_accuracy - float_accuracy).abs() <= 0.01,
            "{preset}: int8 {int8_accuracy} vs float {float_accuracy}"
        );
    }
}

#[test]
fn batches_longer_than_an_accumulator_bank_run_in_chunks() {
    // tiny's accumulator banks hold 64 rows: 120 samples run as chunks of 64 and 56.
    let cfg = HwConfig::preset("tiny").unwrap();
    for (seed, widths) in [(1, vec![8, 6, 3]), (2, vec![5, 9])] {
        let model = random_stack_pow2(seed, &widths);
        let compiled = compile(&model, &cfg, 120).unwrap();
        assert_eq!(compiled.input.chunks, 2);
        let inputs = random_inputs(seed, &model, 120);
        let outputs = golden_outputs(&compiled, &inputs);
        for (s, x) in inputs.iter().enumerate() {
            assert_eq!(
                outputs[s],
                reference_logits(&model, x),
                "seed {seed} sample {s}"
            );
        }
    }
}

#[test]
fn a_multiplier_rq_cannot_apply_is_an_error() {
    let cfg = HwConfig::preset("small").unwrap();
    let mut model = random_stack(4, &[8, 8]);
    let compiler::model::Layer::Dense(fc1) = &mut model.layers[0] else {
        unreachable!("random stacks are dense")
    };
    fc1.output.scale = 1e-30;
    let err = compile(&model, &cfg, 1).unwrap_err().to_string();
    assert!(
        err.starts_with("layer fc1, channel 0: the requantization multiplier"),
        "{err}"
    );
    assert!(err.contains("not below 2^29"), "{err}");
}

fn widths() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=40, 2..=4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random shapes (most not multiples of `N`), weights, biases, scales and zero points.
    #[test]
    fn random_stacks_golden_equals_reference(
        seed in any::<u64>(),
        widths in widths(),
        batch in 1u32..=24,
        preset in prop::sample::select(vec!["tiny", "small"]),
        pow2 in any::<bool>(),
    ) {
        let cfg = HwConfig::preset(preset).unwrap();
        let model = if pow2 { random_stack_pow2(seed, &widths) } else { random_stack(seed, &widths) };
        let compiled = match compile(&model, &cfg, batch) {
            Err(CompileError::DoesNotFit(_)) => {
                prop_assume!(false, "too big for {}", preset);
                unreachable!()
            }
            other => other.unwrap(),
        };
        let inputs = random_inputs(seed, &model, batch as usize);
        let outputs = golden_outputs(&compiled, &inputs);
        for (s, x) in inputs.iter().enumerate() {
            prop_assert_eq!(&outputs[s], &reference_logits(&model, x), "sample {}", s);
        }
    }
}
