//! The emitted Verilog reads like hand-written code: no line longer than 100 columns, for
//! every preset, multi-chip systems and the extremes a config allows.

use isa::HwConfig;

mod common;
use common::config;

/// The widest a line may be.
const WIDTH: usize = 100;

fn configs() -> Vec<(&'static str, HwConfig)> {
    // Every preset, systems, and the extremes a config allows.
    [
        "tiny",
        "small",
        "medium",
        "large",
        "ring2",
        "mesh4",
        "wide",
        "narrow",
        "lean",
        "dragonfly16",
    ]
    .into_iter()
    .map(|name| (name, config(name)))
    .collect()
}

#[test]
fn no_line_is_longer_than_100_columns() {
    let mut long = Vec::new();
    for (name, cfg) in configs() {
        let design = rtl_gen::generate(&cfg).unwrap();
        for f in design.verilog_files() {
            for (i, line) in f.text.lines().enumerate() {
                let width = line.chars().count();
                if width > WIDTH {
                    long.push(format!("{name}: {}:{}: {width} columns", f.name, i + 1));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "{} lines longer than {WIDTH} columns:\n  {}",
        long.len(),
        long.join("\n  ")
    );
}
