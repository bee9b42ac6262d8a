//! Compiled models on the RTL: random fully-connected stacks (shapes that are not multiples of
//! `N`, random quantization) run under Verilator, checked op by op against the golden model
//! and output by output against the independent reference of the compiler's tests.

mod common;
#[path = "../../compiler/tests/support/mod.rs"]
mod support;

use compiler::compile;
use compiler::synthetic::{random_inputs, random_stack};
use cosim::verilator::Verilated;
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
        let case = format!("{preset} seed {seed} {widths:?} batch {batch}");
        check_on_rtl(&mut rtl, &model, &compiled, &inputs, &case);
    }
}

/// Runs `compiled` with `inputs` on `rtl`: every chip op by op and cycle by cycle against the
/// golden model, each chip's cycles the schedule's, and chip 0's outputs equal to the
/// independent reference's.
fn check_on_rtl(
    rtl: &mut Verilated,
    model: &compiler::Model,
    compiled: &compiler::Compiled,
    inputs: &[Vec<i8>],
    case: &str,
) {
    let outputs = common::run_compiled(rtl, compiled, inputs, case);
    for (s, (x, got)) in inputs.iter().zip(outputs).enumerate() {
        assert_eq!(got, reference_logits(model, x), "{case}: sample {s}");
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

/// The built-in digits-wide MLP, which one `small` chip cannot hold, split over a system of
/// `small` chips and checked on its RTL ([`check_on_rtl`]).
fn digits_wide_on(chips: u32, topology: isa::Topology, link_latency: u32) {
    let model = compiler::Model::digits_wide();
    let small = HwConfig::preset("small").unwrap();
    assert!(compile(&model, &small, 1).is_err(), "one chip holds it");
    let cfg = small
        .with_system(isa::SystemConfig {
            chips,
            topology,
            link_latency,
        })
        .unwrap();
    let samples = model.samples().unwrap();
    let inputs: Vec<Vec<i8>> = samples.inputs[..5]
        .iter()
        .map(|x| model.quantize_input(x))
        .collect();
    let compiled = compile(&model, &cfg, inputs.len() as u32).unwrap();
    let mut rtl = Verilated::new(&cfg).unwrap();
    check_on_rtl(&mut rtl, &model, &compiled, &inputs, &topology.to_string());
}

#[test]
fn a_model_too_big_for_one_chip_on_a_ring_of_two() {
    digits_wide_on(2, isa::Topology::Ring, 2);
}

#[test]
fn a_model_too_big_for_one_chip_on_a_two_by_two_mesh() {
    digits_wide_on(4, isa::Topology::Mesh { rows: 2, cols: 2 }, 1);
}

#[test]
fn a_model_too_big_for_one_chip_on_a_dragonfly_of_eight() {
    let topology = isa::Topology::Dragonfly {
        groups: 2,
        group_size: 4,
    };
    digits_wide_on(8, topology, 3);
}
