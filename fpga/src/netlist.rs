//! The chip as the flow's Yosys synthesizes it, written back as Verilog of the part's
//! primitives, with what a simulator needs to run it: the proof that synthesis (and the
//! hand-instantiated primitives) left the design doing what the golden model says.

use std::path::{Path, PathBuf};
use std::process::Command;

use isa::HwConfig;

use crate::{Family, FlowError, Tool};

/// A synthesized chip: `design` is the RTL's (its modules give the ports a test bench
/// needs) with its files replaced by the one netlist; run it with Yosys's simulation
/// `models` of the family's primitives, and `defines`.
pub struct Netlist {
    pub design: rtl_gen::Design,
    pub models: PathBuf,
    pub defines: Vec<&'static str>,
}

/// Synthesizes `cfg`'s chip (`mtn_chip`, every port kept; a system is refused) for `family`
/// in `dir`, with the flow's synthesis script and cells, and reads the netlist back.
pub fn netlist(cfg: &HwConfig, family: Family, dir: &Path) -> Result<Netlist, FlowError> {
    rtl_gen::single_chip(cfg)?;
    synthesized(
        rtl_gen::generate_on(cfg, None, family.cells())?,
        family,
        dir,
    )
}

/// The board top of `cfg`'s chip (`mtn_board_top`: its PLL, UART bridge and LEDs) as the
/// flow synthesizes it for `family` into the bitstream, in `dir`.
pub fn board_netlist(
    cfg: &HwConfig,
    top: &rtl_gen::board::BoardTop,
    family: Family,
    dir: &Path,
) -> Result<Netlist, FlowError> {
    synthesized(
        rtl_gen::generate_board(cfg, top, family.cells())?,
        family,
        dir,
    )
}

/// `design` synthesized with the flow's synthesis script for its config and `family`, in `dir`.
fn synthesized(
    mut design: rtl_gen::Design,
    family: Family,
    dir: &Path,
) -> Result<Netlist, FlowError> {
    let cfg = &design.config.clone();
    let yosys = Tool::Yosys.locate()?;
    let src = dir.join("src");
    design.write_to(&src)?;
    let files: Vec<String> = design
        .verilog_files()
        .map(|f| format!("src/{}", f.name))
        .collect();
    const NETLIST: &str = "netlist.v";
    let script = format!(
        "{}\nwrite_verilog -noattr {NETLIST}\n",
        crate::synth_script(&files, family, cfg, design.top)
    );
    let io = |e: std::io::Error| FlowError::WorkDir(format!("{}: {e}", dir.display()));
    std::fs::write(dir.join("netlist.ys"), script).map_err(io)?;
    let out = Command::new(&yosys)
        .args(["-q", "-l", "netlist.log", "-s", "netlist.ys"])
        .current_dir(dir)
        .output()
        .map_err(|e| FlowError::Run {
            tool: Tool::Yosys,
            why: e.to_string(),
        })?;
    if !out.status.success() {
        let log = dir.join("netlist.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(FlowError::Failed {
            tool: Tool::Yosys,
            log: log.display().to_string(),
            tail: crate::log_tail(&text),
        });
    }
    let text = std::fs::read_to_string(dir.join(NETLIST)).map_err(io)?;
    design.files = vec![rtl_gen::File {
        name: NETLIST.into(),
        text,
    }];
    Ok(Netlist {
        design,
        models: crate::simulation_models(&yosys, family)?,
        defines: family.simulation_defines().to_vec(),
    })
}
