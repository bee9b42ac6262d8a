//! The emitted Verilog reads like hand-written code: no line longer than 100 columns, for
//! every preset and for multi-chip systems.

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
