//! Seeded random programs (every op, random operands, tightly scheduled) on the generated RTL:
//! the trace, the final memories and the cycle counts must equal the golden model's. 350
//! programs run under Verilator (tiny, small, a 2-chip ring, tiny with a deeper vector
//! pipeline, a chip without the optional units, a vector unit computing a lane a
//! cycle) and a sample under Icarus too, so the three
//! agree. One suite runs on any
//! [`Backend`]. A failure prints the seed and the program shrunk to what still fails.

use cosim::icarus::Icarus;
use cosim::random::{random_image, random_program, shrink};
use cosim::verilator::Verilated;
use cosim::Backend;
use std::collections::BTreeSet;

use isa::ops::{FieldKind, Opcode};
use isa::{HwConfig, MemImage, Program};

mod common;
// The configs the generator's tests name (ring2, narrow, ...), defined once.
#[path = "../../rtl-gen/tests/common/mod.rs"]
mod configs;

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

/// One random suite: a config, the seeds Verilator runs (Icarus runs their first few) and
/// the program length. The coverage test below reads the same table.
struct Suite {
    cfg: HwConfig,
    seeds: std::ops::Range<u64>,
    len: usize,
}

fn tiny() -> Suite {
    Suite {
        cfg: HwConfig::preset("tiny").unwrap(),
        seeds: 0..120,
        len: 16,
    }
}

fn small() -> Suite {
    Suite {
        cfg: HwConfig::preset("small").unwrap(),
        seeds: 1000..1060,
        len: 16,
    }
}

fn ring2() -> Suite {
    Suite {
        cfg: configs::config("ring2"),
        seeds: 2000..2040,
        len: 10,
    }
}

/// Tiny with its reads registered, as a 2x2 mesh: transfers leave a cycle later.
fn mesh4() -> Suite {
    Suite {
        cfg: configs::config("mesh4"),
        seeds: 8000..8030,
        len: 10,
    }
}

/// Tiny with a deeper vector pipeline (see `common::deep_vector`).
fn deep_vector() -> Suite {
    Suite {
        cfg: common::deep_vector(),
        seeds: 3000..3060,
        len: 16,
    }
}

/// Two lanes and one of everything (one bank of each kind, one table, one parameter entry):
/// the narrowest addresses the memories get.
fn narrow() -> Suite {
    Suite {
        cfg: configs::config("narrow"),
        seeds: 4000..4040,
        len: 12,
    }
}

/// Tiny without RED, its vector unit one lane a cycle (a row every four cycles) and three
/// stages deeper (every stage of timing slack the arithmetic has).
fn serial() -> Suite {
    Suite {
        cfg: configs::config("serial"),
        seeds: 6000..6030,
        len: 12,
    }
}

/// Narrow without every unit a config may leave out, its vector unit one lane a cycle: RQ
/// is the only vector op.
fn lean() -> Suite {
    Suite {
        cfg: configs::config("lean"),
        seeds: 5000..5040,
        len: 12,
    }
}

/// The preset sized for the iCE40 UP5K: lean's units, two SRAM banks, and instructions read
/// over two cycles (the issue interval 2).
fn up5k() -> Suite {
    Suite {
        cfg: HwConfig::preset("up5k").unwrap(),
        seeds: 7000..7040,
        len: 12,
    }
}

impl Suite {
    fn verilator(&self) {
        verilator(&self.cfg, self.seeds.clone(), self.len);
    }
    fn icarus(&self, programs: u64) {
        let start = self.seeds.start;
        icarus(&self.cfg, start..start + programs, self.len);
    }
}

#[test]
fn verilator_random_programs_on_tiny() {
    tiny().verilator();
}

#[test]
fn verilator_random_programs_on_small() {
    small().verilator();
}

#[test]
fn verilator_random_programs_on_a_two_chip_ring() {
    ring2().verilator();
}

#[test]
fn verilator_random_programs_on_a_mesh_of_chips_with_registered_reads() {
    mesh4().verilator();
}

#[test]
fn verilator_random_programs_with_a_deeper_vector_pipeline() {
    deep_vector().verilator();
}

#[test]
fn verilator_random_programs_on_a_chip_without_optional_units() {
    lean().verilator();
}

#[test]
fn verilator_random_programs_on_the_up5k_chip() {
    up5k().verilator();
}

#[test]
fn verilator_random_programs_on_a_vector_unit_computing_a_lane_a_cycle() {
    serial().verilator();
}

#[test]
fn icarus_random_programs_on_tiny() {
    tiny().icarus(12);
}

#[test]
fn icarus_random_programs_on_a_two_chip_ring() {
    ring2().icarus(4);
}

#[test]
fn icarus_random_programs_with_a_deeper_vector_pipeline() {
    deep_vector().icarus(8);
}

#[test]
fn icarus_random_programs_on_a_narrow_chip() {
    narrow().icarus(8);
}

#[test]
fn icarus_random_programs_on_a_chip_without_optional_units() {
    lean().icarus(6);
}

#[test]
fn icarus_random_programs_on_the_up5k_chip() {
    up5k().icarus(4);
}

#[test]
fn icarus_random_programs_on_a_vector_unit_computing_a_lane_a_cycle() {
    serial().icarus(4);
}

/// Every op and every function of every op a config can run, as mnemonics (`vop.add`),
/// from the ISA's table.
fn every_variant(cfg: &HwConfig) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for op in Opcode::ALL {
        let spec = op.spec();
        if (op == Opcode::Xfer && cfg.system.chips == 1) || !cfg.implements(op) {
            continue;
        }
        let funcs = spec.fields.iter().find_map(|f| match f.kind {
            FieldKind::Func(names) => Some(names),
            _ => None,
        });
        match funcs {
            Some(names) => all.extend(names.iter().map(|n| format!("{}.{n}", spec.mnemonic))),
            None => {
                all.insert(spec.mnemonic.to_string());
            }
        }
    }
    all
}

#[test]
fn every_suite_exercises_every_op_and_function() {
    for suite in [
        tiny(),
        small(),
        ring2(),
        mesh4(),
        deep_vector(),
        lean(),
        serial(),
        up5k(),
    ] {
        let mut seen = BTreeSet::new();
        for seed in suite.seeds.clone() {
            for chip in random_program(&suite.cfg, seed, suite.len).chips {
                seen.extend(chip.iter().map(|i| i.op.mnemonic()));
            }
        }
        let missing: Vec<_> = every_variant(&suite.cfg)
            .difference(&seen)
            .cloned()
            .collect();
        assert!(
            missing.is_empty(),
            "{:?}: never drawn: {missing:?}",
            suite.cfg
        );
    }
}

#[test]
fn the_golden_backend_passes_its_own_check() {
    // The comparison itself: a backend reporting exactly the golden timeline has no
    // mismatches, so the RTL suites' empty lists mean agreement.
    let suite = tiny();
    run_seeds(&mut cosim::Golden::new(&suite.cfg), 0..20, suite.len);
}
