//! The emitted Verilog reads like hand-written code: no line longer than 100 columns, for
//! every preset, multi-chip systems and the extremes a config allows.

use isa::{HwConfig, SystemConfig, Topology};

/// The widest a line may be.
const WIDTH: usize = 100;

fn configs() -> Vec<(&'static str, HwConfig)> {
    let tiny = || HwConfig::preset("tiny").unwrap();
    let mut configs: Vec<(&'static str, HwConfig)> = ["tiny", "small", "medium", "large"]
        .into_iter()
        .map(|p| (p, HwConfig::preset(p).unwrap()))
        .collect();
    let ring = SystemConfig {
        chips: 2,
        topology: Topology::Ring,
        link_latency: 2,
    };
    configs.push(("ring2", tiny().with_system(ring).unwrap()));
    let mesh = SystemConfig {
        chips: 4,
        topology: Topology::Mesh { rows: 2, cols: 2 },
        link_latency: 1,
    };
    configs.push(("mesh4", tiny().with_system(mesh).unwrap()));
    // The extremes the config allows: the widest array with the deepest vector pipeline,
    // the narrowest chip with one of everything, and a large dragonfly.
    let mut wide = HwConfig::preset("large").unwrap();
    wide.chip.n = 64;
    wide.chip.vector_latency = 16;
    wide.validate().unwrap();
    configs.push(("wide", wide));
    let mut narrow = tiny();
    narrow.chip.n = 2;
    narrow.chip.sram_banks = 1;
    narrow.chip.acc_banks = 1;
    narrow.chip.lut_tables = 1;
    narrow.chip.param_depth = 1;
    narrow.validate().unwrap();
    configs.push(("narrow", narrow));
    let dragonfly = SystemConfig {
        chips: 16,
        topology: Topology::Dragonfly {
            groups: 4,
            group_size: 4,
        },
        link_latency: 3,
    };
    configs.push(("dragonfly16", tiny().with_system(dragonfly).unwrap()));
    configs
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
