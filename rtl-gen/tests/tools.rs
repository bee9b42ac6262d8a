//! The generated RTL under the tools a user runs it through: Verilator's linter (zero
//! warnings under -Wall, no waivers), Icarus Verilog and Yosys (no latches, `check -assert`).
//! A missing tool fails the test with the command that installs it.

use std::path::Path;
use std::process::Command;

use rtl_gen::yosys::{self, Flow};
use rtl_gen::Design;

mod common;
use common::config;

/// Runs `tool` in `dir`, failing the test (with the install command) if it is missing.
fn run(tool: &str, args: &[String], dir: &Path) -> (bool, String) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {tool} ({e}): install it with ./scripts/setup.sh \
                 (or `sudo apt-get install -y {tool}`)"
            )
        });
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn generated(name: &str) -> (Design, tempfile::TempDir, Vec<String>) {
    written(rtl_gen::generate(&config(name)).unwrap())
}

fn written(design: Design) -> (Design, tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    design.write_to(dir.path()).unwrap();
    let files = design.verilog_files().map(|f| f.name.clone()).collect();
    (design, dir, files)
}

fn lint(name: &str) {
    lint_design(name, generated(name));
}

fn lint_design(name: &str, (design, dir, files): (Design, tempfile::TempDir, Vec<String>)) {
    for f in design.verilog_files() {
        assert!(!f.text.contains("lint_off"), "{}: a lint waiver", f.name);
    }
    let mut args: Vec<String> = ["--lint-only", "-Wall", "--top-module", design.top]
        .map(String::from)
        .into();
    args.extend(files);
    let (ok, text) = run("verilator", &args, dir.path());
    assert!(
        ok && text.trim().is_empty(),
        "verilator -Wall on {name}:\n{text}"
    );
}

fn icarus(name: &str) {
    let (design, dir, files) = generated(name);
    let mut args: Vec<String> = ["-g2005", "-Wall", "-s", design.top, "-o", "model.vvp"]
        .map(String::from)
        .into();
    args.extend(files);
    let (ok, text) = run("iverilog", &args, dir.path());
    assert!(ok && text.trim().is_empty(), "iverilog on {name}:\n{text}");
}

fn synth(name: &str) {
    let (design, dir, _) = generated(name);
    if let Err(e) = yosys::synthesize(&design, dir.path(), Flow::Check) {
        panic!("yosys on {name}: {e}");
    }
}

macro_rules! per_config {
    ($($name:ident),+) => {
        mod verilator_lint { $(#[test] fn $name() { super::lint(stringify!($name)); })+ }
        mod icarus_compiles { $(#[test] fn $name() { super::icarus(stringify!($name)); })+ }
        mod yosys_synthesizes { $(#[test] fn $name() { super::synth(stringify!($name)); })+ }
    };
}

per_config!(up5k, tiny, small, medium, ring2, mesh4, narrow, lean, serial);

/// The FPGA top (the chip behind a serial host port) is as clean as the chip, and a system
/// of chips is refused with the reason.
#[test]
fn the_fpga_top_lints_clean() {
    let design = rtl_gen::generate_fpga(&config("tiny"), rtl_gen::Cells::Portable).unwrap();
    assert_eq!(design.top, "mtn_fpga_top");
    lint_design("the FPGA top of tiny", written(design));
    let e = rtl_gen::generate_fpga(&config("ring2"), rtl_gen::Cells::Portable).unwrap_err();
    assert!(e.to_string().contains("system.chips = 1"), "{e}");
}

/// The board top (PLL, reset, UART, UARTBone bridge, LEDs) as simulation builds it, on its
/// oscillator: as clean under the linter and Yosys as the chip.
#[test]
fn the_board_top_lints_clean_and_synthesizes_without_latches() {
    let top = rtl_gen::board::BoardTop {
        name: "simulated".into(),
        oscillator_mhz: 12.0,
        pll: None,
        baud: 3_000_000,
        leds: 2,
        leds_active_low: true,
        button_active_low: true,
        tie_high: 1,
    };
    let design = rtl_gen::generate_board(&config("up5k"), &top, rtl_gen::Cells::Portable).unwrap();
    assert_eq!(design.top, "mtn_board_top");
    lint_design("the board top of up5k", written(design.clone()));
    let (design, dir, _) = written(design);
    if let Err(e) = yosys::synthesize(&design, dir.path(), Flow::Check) {
        panic!("yosys on the board top: {e}");
    }
}

/// The full report flow (LUT mapping included) on the smallest chip: every block has cells,
/// the blocks add up to the chip, and the PE count and memory bits follow from the config.
#[test]
fn yosys_area_report_of_tiny() {
    let (design, dir, _) = generated("tiny");
    let (_, rows) =
        yosys::synthesize(&design, dir.path(), Flow::Report).unwrap_or_else(|e| panic!("{e}"));
    let row = |m: &str| rows.iter().find(|r| r.module == m).unwrap().clone();
    let chip = row("mtn_chip");
    assert_eq!(rows[0].module, "mtn_chip");
    assert_eq!(row("mtn_pe").instances, 16);
    // N x N int8 multipliers; per vector lane, RQ's four 16 x 16 partial products, which
    // VOP mul's product shares.
    assert_eq!(row("mtn_pe").multipliers, 16);
    assert_eq!(row("mtn_vector").multipliers, 4 * 4);
    let c = &design.config.chip;
    let banks =
        (c.sram_banks * c.sram_depth * 8 * c.n + c.acc_banks * c.acc_depth * 32 * c.n) as u64;
    assert_eq!(row("mtn_memory").memory_bits, banks);
    let top_level: Vec<_> = rows.iter().filter(|r| r.depth == 1).collect();
    for r in &top_level {
        assert!(r.luts + r.flip_flops + r.memory_bits > 0, "{r:?}");
    }
    assert_eq!(
        top_level.iter().map(|r| r.flip_flops).sum::<u64>(),
        chip.flip_flops
    );
    assert_eq!(
        top_level.iter().map(|r| r.memory_bits).sum::<u64>(),
        chip.memory_bits
    );
    assert!(top_level.iter().map(|r| r.luts).sum::<u64>() <= chip.luts);
}
