//! Seeded random programs (every op, random operands, tightly scheduled) on the generated RTL:
//! the trace, the final memories and the cycle counts must equal the golden model's. 280
//! programs run under Verilator (tiny, small, a 2-chip ring, tiny with a deeper vector
//! pipeline) and a sample under Icarus too, so the three agree. One suite runs on any
//! [`Backend`]. A failure prints the seed and the program shrunk to what still fails.

use cosim::icarus::Icarus;
use cosim::random::{random_image, random_program, shrink};
use cosim::verilator::Verilated;
use cosim::Backend;
use isa::{HwConfig, MemImage, Program, SystemConfig, Topology};

/// The mismatches of `program` on `backend`, or its error.
fn mismatches(backend: &mut dyn Backend, program: &Program, image: &MemImage) -> Vec<String> {
    match cosim::lockstep(backend, program, image, 100_000, None) {
        Ok(checked) => checked.mismatches.iter().map(|m| m.to_string()).collect(),
        Err(e) => vec![e.to_string()],
    }
}

/// The random suite on any backend: `len` instructions for each seed.
fn run_seeds(backend: &mut dyn Backend, seeds: std::ops::Range<u64>, len: usize) {
    let cfg = backend.config().clone();
    for seed in seeds {
        let program = random_program(&cfg, seed, len);
        let image = random_image(&cfg, seed);
        let problems = mismatches(backend, &program, &image);
        if problems.is_empty() {
            continue;
        }
        let small = shrink(&cfg, &program, |p| {
            !mismatches(backend, p, &image).is_empty()
        });
        panic!(
            "{} seed {seed}: {} mismatches; first ones:\n{}\nshrunk program:\n{}",
            backend.name(),
            problems.len(),
            problems[..problems.len().min(8)].join("\n"),
            isa::disassemble(&small)
        );
    }
}

fn verilator(cfg: &HwConfig, seeds: std::ops::Range<u64>, len: usize) {
    run_seeds(&mut Verilated::new(cfg).unwrap(), seeds, len);
}

fn icarus(cfg: &HwConfig, seeds: std::ops::Range<u64>, len: usize) {
    let mut sim = Icarus::compile(&rtl_gen::generate(cfg).unwrap()).unwrap();
    run_seeds(&mut sim, seeds, len);
}

fn ring2() -> HwConfig {
    HwConfig::preset("tiny")
        .unwrap()
        .with_system(SystemConfig {
            chips: 2,
            topology: Topology::Ring,
            link_latency: 2,
        })
        .unwrap()
}

#[test]
fn verilator_random_programs_on_tiny() {
    verilator(&HwConfig::preset("tiny").unwrap(), 0..120, 16);
}

#[test]
fn verilator_random_programs_on_small() {
    verilator(&HwConfig::preset("small").unwrap(), 1000..1060, 16);
}

#[test]
fn verilator_random_programs_on_a_two_chip_ring() {
    verilator(&ring2(), 2000..2040, 10);
}

#[test]
fn icarus_random_programs_on_tiny() {
    icarus(&HwConfig::preset("tiny").unwrap(), 0..12, 16);
}

#[test]
fn icarus_random_programs_on_a_two_chip_ring() {
    icarus(&ring2(), 2000..2004, 10);
}

/// Tiny with the vector pipeline two stages deeper than the arithmetic needs: a latency
/// changed in the config alone (isa::timing reads it), which the golden model, the verifier,
/// the scheduler and the generated RTL must all follow.
fn deep_vector() -> HwConfig {
    let mut cfg = HwConfig::preset("tiny").unwrap();
    cfg.name = Some("tiny-deep-vector".into());
    cfg.chip.vector_latency = isa::config::MIN_VECTOR_LATENCY + 2;
    cfg.validate().unwrap();
    cfg
}

#[test]
fn verilator_random_programs_with_a_deeper_vector_pipeline() {
    verilator(&deep_vector(), 3000..3060, 16);
}

#[test]
fn icarus_random_programs_with_a_deeper_vector_pipeline() {
    icarus(&deep_vector(), 3000..3008, 16);
}

#[test]
fn the_golden_backend_passes_its_own_check() {
    // The comparison itself: a backend reporting exactly the golden timeline has no
    // mismatches, so the RTL suites' empty lists mean agreement.
    run_seeds(
        &mut cosim::Golden::new(&HwConfig::preset("tiny").unwrap()),
        0..20,
        16,
    );
}
