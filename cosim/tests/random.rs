//! Seeded random programs (every op, random operands, tightly scheduled) on the generated RTL:
//! the trace, the final memories and the cycle counts must equal the golden model's. 220
//! programs run under Verilator (tiny, small, a 2-chip ring) and a sample under Icarus too, so
//! the three agree. A failure prints the seed and the program shrunk to what still fails.

use cosim::icarus::Icarus;
use cosim::random::{random_image, random_program, shrink};
use cosim::verilator::Verilated;
use cosim::RtlRun;
use golden::SystemState;
use isa::{HwConfig, MemImage, Program, SystemConfig, Topology};

/// The mismatches of `program` on one simulator, or the simulator's error.
fn mismatches(
    cfg: &HwConfig,
    program: &Program,
    image: &MemImage,
    sim: &mut dyn FnMut(&Program) -> Result<RtlRun, String>,
) -> Vec<String> {
    let state = SystemState::from_image(cfg, image).unwrap();
    let golden = golden::run(program, cfg, state, None).unwrap();
    match sim(program) {
        Ok(rtl) => cosim::compare::mismatches(&golden, &rtl),
        Err(e) => vec![e],
    }
}

fn run_seeds(
    cfg: &HwConfig,
    seeds: std::ops::Range<u64>,
    len: usize,
    sim: &mut dyn FnMut(&Program, &MemImage) -> Result<RtlRun, String>,
) {
    for seed in seeds {
        let program = random_program(cfg, seed, len);
        let image = random_image(cfg, seed);
        let mut on_image = |p: &Program| sim(p, &image);
        let problems = mismatches(cfg, &program, &image, &mut on_image);
        if problems.is_empty() {
            continue;
        }
        let small = shrink(cfg, &program, |p| {
            !mismatches(cfg, p, &image, &mut on_image).is_empty()
        });
        panic!(
            "seed {seed}: {} mismatches; first ones:\n{}\nshrunk program:\n{}",
            problems.len(),
            problems[..problems.len().min(8)].join("\n"),
            isa::disassemble(&small)
        );
    }
}

fn verilator(cfg: &HwConfig, seeds: std::ops::Range<u64>, len: usize) {
    let mut model = Verilated::new(cfg).unwrap();
    run_seeds(cfg, seeds, len, &mut |p, image| {
        model.run(p, image, 100_000).map_err(|e| e.to_string())
    });
}

fn icarus(cfg: &HwConfig, seeds: std::ops::Range<u64>, len: usize) {
    let sim = Icarus::compile(&rtl_gen::generate(cfg).unwrap()).unwrap();
    run_seeds(cfg, seeds, len, &mut |p, image| {
        sim.run(p, image, 100_000).map_err(|e| e.to_string())
    });
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
