//! Compiled models on the RTL: random fully-connected stacks (shapes that are not multiples of
//! `N`, random quantization) run under Verilator, checked op by op against the golden model
//! and output by output against the independent reference of the compiler's tests.

#[path = "../../compiler/tests/support/mod.rs"]
mod support;

use compiler::compile;
use compiler::synthetic::{random_inputs, random_stack};
use cosim::verilator::Verilated;
use cosim::Backend;
use isa::HwConfig;
use support::reference_logits;

fn run_random_stacks(preset: &str, seeds: std::ops::Range<u64>) {
    let cfg = HwConfig::preset(preset).unwrap();
    let mut rtl = Verilated::new(&cfg).unwrap();
    for seed in seeds {
        // One or two layers, widths 1..=40, batch 1..=24, all from the seed.
        let pick =
            |salt: u64, lo: u64, hi: u64| lo + (seed * 7919 + salt * 104_729) % (hi - lo + 1);
        let layers = pick(1, 1, 2) as usize;
        let widths: Vec<usize> = (0..=layers)
            .map(|l| pick(10 + l as u64, 1, 40) as usize)
            .collect();
        let batch = pick(2, 1, 24) as u32;
        let model = random_stack(seed, &widths);
        let compiled = compile(&model, &cfg, batch)
            .unwrap_or_else(|e| panic!("seed {seed} {widths:?} batch {batch}: {e}"));
        let inputs = random_inputs(seed, &model, batch as usize);
        let (image, golden) = compiled.run_golden(&inputs).unwrap();
        let run = rtl
            .run(&compiled.program, &image, compiled.cycles() + 1, None)
            .unwrap();
        let mismatches = cosim::compare::mismatches(&golden, &run);
        assert!(
            mismatches.is_empty(),
            "{preset} seed {seed} {widths:?} batch {batch}: {:?}",
            &mismatches[..mismatches.len().min(5)]
        );
        assert_eq!(run.cycles, vec![compiled.cycles()]);
        for (s, (x, got)) in inputs
            .iter()
            .zip(compiled.outputs(&run.state.chips[0]))
            .enumerate()
        {
            assert_eq!(
                got,
                reference_logits(&model, x),
                "{preset} seed {seed} sample {s}"
            );
        }
    }
}

#[test]
fn random_stacks_on_tiny() {
    run_random_stacks("tiny", 0..12);
}

#[test]
fn random_stacks_on_small() {
    run_random_stacks("small", 100..112);
}
