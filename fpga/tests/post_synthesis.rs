//! The netlist the iCE40 flow makes of the `up5k` chip (Yosys's `synth_ice40`, the
//! hand-instantiated `SB_MAC16`s, block RAM, the instruction memory in SPRAM) runs random
//! programs bit for bit and cycle for cycle as the golden model does, simulated on Yosys's
//! models of the primitives under Icarus Verilog, and the iCEBreaker bitstream's netlist runs
//! the digits model over its UART: synthesis did not change the design. The ECP5 netlist's
//! flip-flops share their reset. A missing tool fails the test with the command that
//! installs it.

use cosim::board_sim::SimulatedBoard;
use cosim::icarus::Icarus;
use cosim::random::{random_image, random_program};
use cosim::uart::OverUart;
use fpga::{Board, Family};
use isa::HwConfig;

mod digits;

// The configs the generator's tests name, defined once there.
#[path = "../../rtl-gen/tests/common/mod.rs"]
mod configs;

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

/// Yosys's iCE40 models with the black-box `SB_PLL40_PAD` replaced by the pass-through
/// stand-in of `testbench/`, and the macro they need defined.
fn ice40_models_with_pll_standin(models: &std::path::Path) -> rtl_gen::File {
    let text = std::fs::read_to_string(models).unwrap();
    let start = text
        .find("(* blackbox *)\nmodule SB_PLL40_PAD (")
        .expect("Yosys's models declare SB_PLL40_PAD as a black box");
    let end = start + text[start..].find("endmodule").unwrap() + "endmodule".len();
    let standin = include_str!("../../testbench/sb_pll40_pad_standin.v");
    rtl_gen::File {
        name: "cells_sim.v".into(),
        text: format!(
            "`define NO_ICE40_DEFAULT_ASSIGNMENTS\n{}{standin}{}",
            &text[..start],
            &text[end..]
        ),
    }
}

/// The netlist of the iCEBreaker's bitstream at 3 Mbaud (`metronome synth --board
/// icebreaker --baud 3000000`: the `up5k` chip behind the board top, its PLL, UART and
/// UARTBone bridge, as `synth_ice40` makes it) runs a batch of the digits model through
/// its serial line as the golden model does, memory word for memory word and cycle for
/// cycle, driven by the host code `metronome board run` uses. Simulated under Verilator on
/// Yosys's models of the iCE40 primitives; the PLL, of which Yosys has no model, passes the
/// oscillator through.
#[test]
fn the_icebreaker_bitstreams_netlist_runs_the_digits_model_over_its_uart() {
    let cfg = HwConfig::preset("up5k").unwrap();
    let top = Board::named("icebreaker")
        .unwrap()
        .top(30.0, 3_000_000)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut netlist = fpga::board_netlist(&cfg, &top, Family::Ice40, dir.path())
        .unwrap_or_else(|e| panic!("{e}"));
    for cell in ["SB_PLL40_PAD", "SB_SPRAM256KA", "SB_MAC16", "SB_LUT4"] {
        assert!(
            netlist.design.files[0].text.contains(cell),
            "no {cell} in the netlist"
        );
    }
    netlist
        .design
        .files
        .push(ice40_models_with_pll_standin(&netlist.models));
    // The vendor models and the bit-level netlist draw Verilator's warnings (pins left
    // open, circular logic between the bits of one vector): not errors.
    let board = SimulatedBoard::of_design(&netlist.design, &top, &["-Wno-fatal"])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut backend = OverUart::new(board, &cfg);
    // One batch: at the gate level, every cycle of the serial line costs (a batch, with the
    // memories cleared and the program loaded first, is some 12 million cycles).
    let (model, compiled) = digits::compiled(&cfg);
    digits::check_batch(&mut backend, &model, &compiled, 0);
}

/// The flip-flops of the ECP5 netlist share one reset net: the eight flip-flops of a logic
/// tile share their set/reset, and synth_ecp5 gives each flip-flop an inverter of the chip's
/// reset of its own unless the flow merges them (docs/fpga.md).
#[test]
fn the_ecp5_netlists_flip_flops_share_their_reset() {
    let cfg = configs::config("lean");
    let dir = tempfile::tempdir().unwrap();
    let netlist = fpga::netlist(&cfg, Family::Ecp5, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let text = &netlist.design.files[0].text;
    let mut flip_flops = 0;
    let mut resets = std::collections::BTreeMap::<String, usize>::new();
    for instance in text.split("TRELLIS_FF #(").skip(1) {
        let ports = &instance[..instance.find(");").expect("an instance ends")];
        flip_flops += 1;
        let at = ports
            .find(".LSR(")
            .expect("a flip-flop's set/reset is connected");
        let net = &ports[at + 5..];
        *resets
            .entry(net[..net.find(')').unwrap()].trim().to_string())
            .or_default() += 1;
    }
    assert!(flip_flops > 500, "{flip_flops} flip-flops");
    let reset = resets
        .iter()
        .filter(|(net, _)| !net.starts_with("1'"))
        .max_by_key(|(_, n)| **n);
    assert!(
        reset.is_some_and(|(_, n)| 2 * n > flip_flops),
        "most flip-flops are on one reset net: {reset:?} of {flip_flops}"
    );
    // The reset, and a constant for the flip-flops without one.
    assert!(
        resets.len() <= 2,
        "{} reset nets: {:?}",
        resets.len(),
        resets.iter().take(4).collect::<Vec<_>>()
    );
}
