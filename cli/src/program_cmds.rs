//! `asm`, `disasm`, `verify` and `exec`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use golden::{verify, SystemState, Timeline, Violation};
use isa::{disassemble, format_instr, HwConfig};
use serde_json::json;

use crate::inputs::{load_image, load_program, write_file, ConfigArgs, LoadedProgram};

#[derive(Args, Debug)]
pub struct AsmArgs {
    /// Assembler text to read.
    pub input: PathBuf,
    /// Program file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Args, Debug)]
pub struct DisasmArgs {
    /// Program file (or text, which is printed in canonical form).
    pub input: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// What `verify` and `exec` both take.
#[derive(Args, Debug)]
pub struct ProgramArgs {
    /// Program file or assembler text.
    pub program: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print the per-instruction timeline.
    #[arg(long)]
    pub timeline: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    #[command(flatten)]
    pub common: ProgramArgs,
    /// Initial memory image (default: all zeros).
    #[arg(long, value_name = "IMAGE")]
    pub mem: Option<PathBuf>,
    /// Where to write the final memory image.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Refuse programs that run longer than this many cycles.
    #[arg(long, value_name = "CYCLES")]
    pub max_cycles: Option<u64>,
}

pub fn asm(args: &AsmArgs) -> Result<()> {
    let cfg = args.config.load()?;
    let loaded = load_program(&args.input, &cfg)?;
    let bytes = loaded
        .program
        .to_bytes(&cfg)
        .with_context(|| format!("in {}", args.input.display()))?;
    write_file(&args.output, &bytes)?;
    eprintln!(
        "wrote {} ({} instructions, {} bytes, config {})",
        args.output.display(),
        loaded.program.len(),
        bytes.len(),
        cfg.hash()
    );
    Ok(())
}

pub fn disasm(args: &DisasmArgs) -> Result<()> {
    let cfg = args.config.load()?;
    let loaded = load_program(&args.input, &cfg)?;
    print!("{}", disassemble(&loaded.program));
    Ok(())
}

fn violations_json(loaded: &LoadedProgram, v: &[Violation]) -> serde_json::Value {
    v.iter()
        .map(|x| {
            json!({
                "rule": x.rule.name(), "chip": x.chip, "index": x.index,
                "line": loaded.line(x.chip, x.index), "cycle": x.cycle,
                "resource": x.resource, "message": x.message,
            })
        })
        .collect()
}

fn print_violations(loaded: &LoadedProgram, v: &[Violation]) {
    eprintln!("REJECTED: {} violation(s) of the static schedule", v.len());
    for x in v {
        eprintln!(
            "  {} cycle {}: {} [{}]: {}",
            loaded.locate(x.chip, x.index),
            x.cycle,
            x.rule.name(),
            x.resource,
            x.message
        );
    }
}

fn timeline_json(timeline: &Timeline) -> serde_json::Value {
    timeline
        .chips
        .iter()
        .enumerate()
        .flat_map(|(c, ts)| {
            ts.iter().map(move |t| {
                json!({
                    "chip": c, "index": t.index, "issue": t.issue(), "completion": t.completion(),
                    "unit": t.plan.unit.name(), "instruction": t.op.mnemonic(),
                })
            })
        })
        .collect()
}

fn print_timeline(loaded: &LoadedProgram, timeline: &Timeline) {
    println!(
        "{:>4} {:>5} {:>5} {:>8} {:>8}  {:<10} instruction",
        "chip", "index", "line", "issue", "done", "unit"
    );
    for (c, ts) in timeline.chips.iter().enumerate() {
        for t in ts {
            let line = loaded
                .line(c as u32, t.index)
                .map_or("-".to_string(), |l| l.to_string());
            let text = format_instr(&loaded.program.chips[c][t.index]);
            println!(
                "{c:>4} {:>5} {line:>5} {:>8} {:>8}  {:<10} {text}",
                t.index,
                t.issue(),
                t.completion(),
                t.plan.unit.name()
            );
        }
    }
}

fn units_json(timeline: &Timeline, chip: usize) -> serde_json::Value {
    let units: serde_json::Map<String, serde_json::Value> = timeline
        .unit_busy(chip)
        .into_iter()
        .map(|(u, busy)| (u.name().to_string(), json!(busy)))
        .collect();
    serde_json::Value::Object(units)
}

fn print_units(timeline: &Timeline, chip: usize) {
    let cycles = timeline.chip_cycles(chip).max(1);
    println!("  {:<10} {:>10} {:>7}", "unit", "busy", "util");
    for (unit, busy) in timeline.unit_busy(chip) {
        println!(
            "  {:<10} {busy:>10} {:>6.1}%",
            unit.name(),
            100.0 * busy as f64 / cycles as f64
        );
    }
}

pub fn verify_cmd(args: &ProgramArgs) -> Result<()> {
    let cfg = args.config.load()?;
    let loaded = load_program(&args.program, &cfg)?;
    match verify(&loaded.program, &cfg) {
        Ok(timeline) => {
            if args.json {
                let mut out = json!({"ok": true, "cycles": timeline.cycles(), "instructions": loaded.program.len()});
                if args.timeline {
                    out["timeline"] = timeline_json(&timeline);
                }
                println!("{out}");
            } else {
                if args.timeline {
                    print_timeline(&loaded, &timeline);
                }
                println!(
                    "OK: {} instructions on {} chip(s), {} cycles (config {})",
                    loaded.program.len(),
                    cfg.system.chips,
                    timeline.cycles(),
                    cfg.hash()
                );
            }
            Ok(())
        }
        Err(v) => {
            if args.json {
                println!(
                    "{}",
                    json!({"ok": false, "violations": violations_json(&loaded, &v)})
                );
            } else {
                print_violations(&loaded, &v);
            }
            bail!("{} is not a valid static schedule", args.program.display())
        }
    }
}

pub fn exec(args: &ExecArgs) -> Result<()> {
    let cfg = args.common.config.load()?;
    let loaded = load_program(&args.common.program, &cfg)?;
    let state = match &args.mem {
        Some(path) => SystemState::from_image(&cfg, &load_image(path, &cfg)?)?,
        None => SystemState::new(&cfg),
    };
    let run = match golden::run(&loaded.program, &cfg, state, args.max_cycles) {
        Ok(run) => run,
        Err(golden::GoldenError::Rejected(v)) => {
            if args.common.json {
                println!(
                    "{}",
                    json!({"ok": false, "violations": violations_json(&loaded, &v)})
                );
            } else {
                print_violations(&loaded, &v);
            }
            bail!(
                "{} is not a valid static schedule; nothing was run",
                args.common.program.display()
            );
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(path) = &args.output {
        write_file(path, &run.state.to_image().to_bytes(&cfg))?;
    }
    if args.common.json {
        let chips: Vec<serde_json::Value> = (0..run.timeline.chips.len())
            .map(|c| json!({"chip": c, "cycles": run.timeline.chip_cycles(c), "units": units_json(&run.timeline, c)}))
            .collect();
        let mut out = json!({
            "ok": true, "config": cfg.hash().to_string(), "cycles": run.cycles(),
            "instructions": loaded.program.len(), "chips": chips,
            "output": args.output.as_ref().map(|p| p.display().to_string()),
        });
        if args.common.timeline {
            out["timeline"] = timeline_json(&run.timeline);
        }
        println!("{out}");
        return Ok(());
    }
    if args.common.timeline {
        print_timeline(&loaded, &run.timeline);
    }
    print_summary(&cfg, &loaded, &run.timeline);
    match &args.output {
        Some(path) => println!("final memory image: {}", path.display()),
        None => println!("(pass -o FILE to write the final memory image)"),
    }
    Ok(())
}

pub fn print_summary(cfg: &HwConfig, loaded: &LoadedProgram, timeline: &Timeline) {
    println!(
        "ran {} instructions on {} chip(s) in {} cycles (golden model, config {})",
        loaded.program.len(),
        cfg.system.chips,
        timeline.cycles(),
        cfg.hash()
    );
    for c in 0..timeline.chips.len() {
        if timeline.chips.len() > 1 {
            println!("chip {c}: {} cycles", timeline.chip_cycles(c));
        }
        print_units(timeline, c);
    }
}
