//! `metronome gen`: write the RTL of a config.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use rtl_gen::yosys::{self, Flow};
use serde_json::json;

use crate::inputs::ConfigArgs;
use crate::spinner::spinner;

#[derive(Args, Debug)]
pub struct GenArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Directory to write the Verilog (one module per file) and metronome.json into.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also synthesize with Yosys and print each block's LUTs, flip-flops, multipliers and
    /// memory bits (takes from under a minute for tiny to several for medium).
    #[arg(long)]
    pub report: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn gen(args: &GenArgs) -> Result<()> {
    let cfg = args.config.load()?;
    // The config is validated before anything is written.
    let design = rtl_gen::generate(&cfg)?;
    design
        .write_to(&args.out)
        .with_context(|| format!("writing the design to {}", args.out.display()))?;
    let lines: usize = design.verilog_files().map(|f| f.text.lines().count()).sum();
    let area = if args.report {
        let spinner = spinner(
            format!(
                "synthesizing {} with yosys (LUT mapping included)",
                design.top
            ),
            false,
        );
        let work = tempfile::tempdir().context("creating a directory for yosys")?;
        let result = yosys::synthesize(&design, work.path(), Flow::Report);
        spinner.finish_and_clear();
        result?.1
    } else {
        Vec::new()
    };
    if args.json {
        let files: Vec<&str> = design.files.iter().map(|f| f.name.as_str()).collect();
        let out = json!({
            "out": args.out.display().to_string(),
            "top": design.top,
            "config_hash": cfg.hash().to_string(),
            "files": files,
            "verilog_lines": lines,
            "report": area.iter().map(|r| json!({
                "module": r.module,
                "depth": r.depth,
                "instances": r.instances,
                "lut4": r.luts,
                "flip_flops": r.flip_flops,
                "multipliers": r.multipliers,
                "memory_bits": r.memory_bits,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "wrote {} files ({} modules, {lines} lines of Verilog) to {}; top module {}",
            design.files.len(),
            design.modules.len(),
            args.out.display(),
            design.top
        );
        if !area.is_empty() {
            println!(
                "\nYosys generic synthesis (LUT4 after abc; memories kept as memories):\n{}",
                yosys::format_report(&area)
            );
        }
    }
    Ok(())
}
