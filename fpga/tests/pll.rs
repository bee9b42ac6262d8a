//! The board top's PLL dividers are the ones the vendor-neutral tools choose: icestorm's
//! `icepll` for the iCE40 and Project Trellis's `ecppll` (YoWASP's build) for the ECP5, asked
//! for the same clocks. A missing tool fails the test with the command that installs it.

use std::process::Command;

use fpga::Tool;
use rtl_gen::board::{Ecp5Pll, Ice40Pll};

/// The number after `key` on the line that starts with it, in `text`.
fn field(text: &str, key: &str) -> f64 {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in:\n{text}"));
    line[key.len()..]
        .trim_start_matches([':', ' ', '('])
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {key}: {line}"))
}

#[test]
fn ice40_dividers_are_those_icepll_chooses() {
    let icepll = Tool::Icepll.locate().unwrap_or_else(|e| panic!("{e}"));
    for out in [
        16.0, 20.0, 24.0, 25.0, 30.0, 32.5, 33.0, 36.0, 40.0, 42.0, 48.0, 50.0, 75.0, 100.0,
    ] {
        let run = Command::new(&icepll)
            .args(["-i", "12", "-o", &out.to_string()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stdout);
        let ours = Ice40Pll::new(12.0, out).unwrap();
        let theirs = (
            field(&text, "DIVR") as u32,
            field(&text, "DIVF") as u32,
            field(&text, "DIVQ") as u32,
            field(&text, "FILTER_RANGE") as u32,
        );
        assert_eq!(
            (ours.divr, ours.divf, ours.divq, ours.filter_range),
            theirs,
            "12 -> {out} MHz"
        );
        let achieved = text.lines().find(|l| l.contains("(achieved)")).unwrap();
        assert!(
            (field(achieved, "F_PLLOUT") - ours.output_mhz).abs() < 0.001,
            "{achieved} vs {}",
            ours.output_mhz
        );
    }
}

#[test]
fn ecp5_dividers_are_those_ecppll_chooses() {
    let ecppll = Tool::Ecppll.locate().unwrap_or_else(|e| panic!("{e}"));
    // YoWASP tools see only the working directory's tree.
    let dir = tempfile::tempdir().unwrap();
    for out in [
        25.0, 30.0, 40.0, 48.0, 50.0, 55.0, 60.0, 62.5, 65.0, 70.0, 75.0, 80.0, 100.0,
    ] {
        let run = Command::new(&ecppll)
            .args(["-i", "25", "-o", &out.to_string(), "-f", "pll.v"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = String::from_utf8_lossy(&run.stdout);
        let verilog = std::fs::read_to_string(dir.path().join("pll.v")).unwrap();
        let cphase = verilog
            .lines()
            .find_map(|l| l.trim().strip_prefix(".CLKOP_CPHASE("))
            .and_then(|r| r.trim_end_matches([')', ',']).parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no CLKOP_CPHASE in:\n{verilog}"));
        let ours = Ecp5Pll::new(25.0, out).unwrap();
        let theirs = (
            field(&text, "Refclk divisor") as u32,
            field(&text, "Feedback divisor") as u32,
            field(&text, "clkout0 divisor") as u32,
            cphase,
        );
        assert_eq!(
            (
                ours.clki_div,
                ours.clkfb_div,
                ours.clkop_div,
                ours.clkop_cphase
            ),
            theirs,
            "25 -> {out} MHz"
        );
    }
}
