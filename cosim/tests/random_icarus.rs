//! Seeded random programs (every op, random operands, tightly scheduled) on the generated RTL
//! under Icarus Verilog: the RTL must end with the golden model's memories and cycle counts.
//! A failure names the seed; `metronome`'s assembler text of the program is printed too.

use cosim::icarus::Icarus;
use cosim::random::{random_image, random_program};
use golden::SystemState;
use isa::{HwConfig, SystemConfig, Topology};

fn run_seeds(cfg: &HwConfig, seeds: std::ops::Range<u64>, len: usize) {
    let design = rtl_gen::generate(cfg).unwrap();
    let sim = Icarus::compile(&design).unwrap_or_else(|e| panic!("{e}"));
    for seed in seeds {
        let program = random_program(cfg, seed, len);
        let image = random_image(cfg, seed);
        let state = SystemState::from_image(cfg, &image).unwrap();
        let golden = golden::run(&program, cfg, state, None).unwrap();
        let rtl = sim
            .run(&program, &image, 100_000)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let problems = cosim::compare::mismatches(&golden, &rtl);
        assert!(
            problems.is_empty(),
            "seed {seed}: {} mismatches; first ones:\n{}\nprogram:\n{}",
            problems.len(),
            problems[..problems.len().min(8)].join("\n"),
            isa::disassemble(&program)
        );
    }
}

#[test]
fn random_programs_on_tiny() {
    run_seeds(&HwConfig::preset("tiny").unwrap(), 0..40, 16);
}

#[test]
fn random_programs_on_small() {
    run_seeds(&HwConfig::preset("small").unwrap(), 100..104, 16);
}

#[test]
fn random_programs_on_a_two_chip_ring() {
    let cfg = HwConfig::preset("tiny")
        .unwrap()
        .with_system(SystemConfig {
            chips: 2,
            topology: Topology::Ring,
            link_latency: 2,
        })
        .unwrap();
    run_seeds(&cfg, 200..208, 10);
}
