//! `metronome gen`: write the RTL of a config.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;

use crate::inputs::ConfigArgs;

#[derive(Args, Debug)]
pub struct GenArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Directory to write the Verilog (one module per file) and metronome.json into.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
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
    if args.json {
        let files: Vec<&str> = design.files.iter().map(|f| f.name.as_str()).collect();
        let out = json!({
            "out": args.out.display().to_string(),
            "top": design.top,
            "config_hash": cfg.hash().to_string(),
            "files": files,
            "verilog_lines": lines,
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
    }
    Ok(())
}
