//! Configs and checks the co-simulation suites share (each suite uses some).
#![allow(dead_code)]

use compiler::Compiled;
use cosim::verilator::Verilated;
use cosim::Backend;
use isa::HwConfig;

/// Runs `compiled` with `inputs` on `rtl`: every chip op by op and cycle by cycle against the
/// golden model, each chip's cycles the schedule's. Returns chip 0's outputs.
pub fn run_compiled(
    rtl: &mut Verilated,
    compiled: &Compiled,
    inputs: &[Vec<i8>],
    case: &str,
) -> Vec<Vec<i8>> {
    let (image, golden) = compiled.run_golden(inputs).unwrap();
    let run = rtl
        .run(&compiled.program, &image, compiled.cycles() + 1, None)
        .unwrap();
    let mismatches = cosim::compare::mismatches(&golden, &run);
    assert!(
        mismatches.is_empty(),
        "{case}: {:?}",
        &mismatches[..mismatches.len().min(5)]
    );
    let scheduled: Vec<u64> = compiled.schedules.iter().map(|s| s.cycles()).collect();
    assert_eq!(run.cycles, scheduled, "{case}: each chip's cycles");
    compiled.outputs(&run.state.chips[0])
}

/// Tiny with the vector pipeline two stages deeper than the arithmetic needs: a latency
/// changed in the config alone (isa::timing reads it), which the golden model, the verifier,
/// the scheduler and the generated RTL must all follow.
pub fn deep_vector() -> HwConfig {
    let mut cfg = HwConfig::preset("tiny").unwrap();
    cfg.name = Some("tiny-deep-vector".into());
    cfg.chip.vector_latency = isa::config::MIN_VECTOR_LATENCY + 2;
    cfg.validate().unwrap();
    cfg
}
