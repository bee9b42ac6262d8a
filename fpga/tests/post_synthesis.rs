//! The netlist the iCE40 flow makes of the `up5k` chip (Yosys's `synth_ice40`, the
//! hand-instantiated `SB_MAC16`s, block RAM, the instruction memory in SPRAM) runs random
//! programs bit for bit and cycle for cycle as the
//! golden model does, simulated on Yosys's models of the primitives under Icarus Verilog:
//! synthesis did not change the design. A missing tool fails the test with the command that
//! installs it.

use cosim::icarus::Icarus;
use cosim::random::{random_image, random_program};
use fpga::Family;
use isa::HwConfig;

#[test]
fn the_ice40_netlist_of_up5k_runs_random_programs_as_the_golden_model_does() {
    let cfg = HwConfig::preset("up5k").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let netlist = fpga::netlist(&cfg, Family::Ice40, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let text = &netlist.design.files[0].text;
    assert!(text.contains("SB_MAC16"), "the netlist has no DSP");
    assert!(
        text.contains("SB_SPRAM256KA"),
        "the instruction memory is not in SPRAM"
    );
    assert!(
        text.contains("SB_LUT4"),
        "the netlist is not of iCE40 cells"
    );
    let mut sim = Icarus::compile_with(
        &netlist.design,
        std::slice::from_ref(&netlist.models),
        &netlist.defines,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for seed in 7000..7002 {
        let program = random_program(&cfg, seed, 12);
        let image = random_image(&cfg, seed);
        let checked = cosim::lockstep(&mut sim, &program, &image, 100_000, None)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let problems: Vec<String> = checked.mismatches.iter().map(|m| m.to_string()).collect();
        assert!(
            problems.is_empty(),
            "seed {seed}: {} mismatches; first ones:\n{}\nprogram:\n{}",
            problems.len(),
            problems[..problems.len().min(8)].join("\n"),
            isa::disassemble(&program)
        );
    }
}
