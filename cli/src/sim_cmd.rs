//! `metronome sim`: run a program on the generated RTL and check it against the golden model,
//! op by op and cycle by cycle.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use cosim::compare::Mismatch;
use cosim::icarus::Icarus;
use cosim::trace::TraceEvent;
use cosim::verilator::Verilated;
use cosim::{Backend, Wave};
use indicatif::{ProgressBar, ProgressStyle};
use isa::{format_instr, HwConfig, MemImage};
use rtl_gen::Fault;
use serde_json::json;

use crate::inputs::{load_image, load_program, ConfigArgs};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Simulator {
    /// Verilator: built-in models of tiny, small, and tiny as a 2-chip ring (link latency 2) or
    /// a 2x2 mesh (latency 1); any other config is compiled once into the model cache
    /// ($METRONOME_CACHE_DIR, else $XDG_CACHE_HOME/metronome, else ~/.cache/metronome),
    /// which takes from ten seconds to a minute or so.
    Verilator,
    /// Icarus Verilog: generated and compiled on the spot (slower; configs up to about a
    /// million host operations of loading and read-back, runs up to 2^31 cycles).
    Icarus,
}

/// A fault by its name (`rtl_gen::Fault::name`).
fn parse_fault(text: &str) -> Result<Fault, String> {
    Fault::ALL
        .into_iter()
        .find(|f| f.name() == text)
        .ok_or_else(|| {
            let known: Vec<String> = Fault::ALL
                .iter()
                .map(|f| format!("{} ({})", f.name(), f.describe()))
                .collect();
            format!(
                "unknown fault `{text}`; the faults are: {}",
                known.join("; ")
            )
        })
}

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Program file or assembler text.
    pub program: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Initial memory image (default: all zeros).
    #[arg(long, value_name = "IMAGE")]
    pub mem: Option<PathBuf>,
    /// The simulator to run the RTL on.
    #[arg(long, value_enum, default_value = "verilator")]
    pub simulator: Simulator,
    /// Stop with an error if the program runs longer than this many cycles.
    #[arg(long, value_name = "CYCLES", default_value_t = 1_000_000)]
    pub max_cycles: u64,
    /// How many divergences to show.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub show: usize,
    /// Write a waveform of the run: FST (with Icarus, VCD if the name ends in .vcd); view it
    /// with GTKWave. With Verilator this uses a model built with waveform support (cached).
    #[arg(long, value_name = "FILE")]
    pub wave: Option<PathBuf>,
    /// The program cycles the waveform covers, `A..B` (inclusive; default: all).
    #[arg(long, value_name = "A..B", requires = "wave", value_parser = parse_window)]
    pub wave_window: Option<(u64, u64)>,
    /// Plant a bug in the generated RTL (Icarus only), to see a checker catch it:
    /// vop-add-bit-flip (the co-simulation names it) or short-vector-pipeline (generation
    /// refuses it).
    #[arg(long, value_name = "FAULT", value_parser = parse_fault)]
    pub inject_fault: Option<Fault>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn sim(args: &SimArgs) -> Result<()> {
    let cfg = args.config.load()?;
    let loaded = load_program(&args.program, &cfg)?;
    let program = &loaded.program;
    let image = match &args.mem {
        Some(path) => load_image(path, &cfg)?,
        None => MemImage::default(),
    };
    let fault = args.inject_fault;
    let wave = args.wave.as_ref().map(|path| {
        let (from, to) = args.wave_window.unwrap_or((0, u64::MAX >> 1));
        Wave {
            path: path.clone(),
            from,
            to,
        }
    });
    let mut backend: Box<dyn Backend> = match args.simulator {
        Simulator::Verilator => {
            if fault.is_some() {
                bail!("--inject-fault needs RTL generated at run time: add --simulator icarus");
            }
            Box::new(build_verilated(&cfg, wave.is_some(), args.json)?)
        }
        Simulator::Icarus => Box::new(Icarus::compile(&rtl_gen::generate_with_fault(
            &cfg, fault,
        )?)?),
    };
    let checked = cosim::lockstep(
        backend.as_mut(),
        program,
        &image,
        args.max_cycles,
        wave.as_ref(),
    )
    .with_context(|| format!("{} on {}", args.program.display(), backend.name()))?;
    let (golden, rtl, wall) = (&checked.golden, &checked.rtl, checked.rtl_seconds);
    let (state, trace): (Vec<&Mismatch>, Vec<&Mismatch>) =
        checked.mismatches.iter().partition(|m| m.in_final_state());
    let pass = trace.is_empty() && state.is_empty();
    let predicted = golden.cycles();
    let measured = rtl.cycles.iter().copied().max().unwrap_or(0);
    let rows = rtl
        .trace
        .iter()
        .filter(|e| matches!(e, TraceEvent::Write { .. }))
        .count();
    let rate = rtl.simulated_cycles as f64 / wall.max(1e-9);
    let sim_name = backend.name();
    let instr_at = |chip: u32, index: usize| {
        program.chips[chip as usize]
            .get(index)
            .map_or_else(String::new, format_instr)
    };
    if args.json {
        let divergences: Vec<_> = trace
            .iter()
            .take(args.show)
            .map(|m| {
                let (what, expected, actual) = m.parts();
                let at = m.at();
                json!({
                    "chip": at.map(|a| a.chip),
                    "index": at.map(|a| a.index),
                    "instruction": at.map(|a| instr_at(a.chip, a.index)),
                    "line": at.and_then(|a| loaded.line(a.chip, a.index)),
                    "cycle": m.cycle(),
                    "unit": at.map(|a| a.unit.name()),
                    "what": what,
                    "expected": expected,
                    "actual": actual,
                })
            })
            .collect();
        let out = json!({
            "result": if pass { "pass" } else { "fail" },
            "simulator": sim_name,
            "config_hash": cfg.hash().to_string(),
            "fault": fault.map(|f| f.name()),
            "instructions": golden.retired.len(),
            "rows_written": rows,
            "cycles": { "predicted": predicted, "measured": measured, "per_chip": rtl.cycles },
            "divergences": trace.len(),
            "first_divergences": divergences,
            "state_mismatches": state.len(),
            "first_state_mismatches": state
                .iter()
                .take(args.show)
                .map(|m| m.to_string())
                .collect::<Vec<_>>(),
            "simulated_cycles": rtl.simulated_cycles,
            "wall_seconds": wall,
            "simulated_cycles_per_second": rate,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{} on {sim_name}: {} instructions, {rows} rows written",
            if pass { "PASS" } else { "FAIL" },
            golden.retired.len()
        );
        println!("cycles: predicted {predicted}, measured {measured}");
        println!(
            "simulated {} cycles in {wall:.2} s ({:.0} cycles/s, loading and read-back included)",
            rtl.simulated_cycles, rate
        );
        if !trace.is_empty() {
            println!(
                "\n{} divergence(s) from the golden model; first ones:",
                trace.len()
            );
            for m in trace.iter().take(args.show) {
                let (what, expected, actual) = m.parts();
                match (m.at(), m.cycle()) {
                    (Some(at), Some(cycle)) => {
                        println!("  {}", loaded.locate(at.chip, at.index));
                        println!("    {}", instr_at(at.chip, at.index));
                        println!(
                            "    cycle {cycle} ({}): {what}: expected {expected}, got {actual}",
                            at.unit
                        );
                    }
                    _ => println!("  {m}"),
                }
            }
        }
        if !state.is_empty() {
            println!("\n{} final-state mismatch(es); first ones:", state.len());
            for s in state.iter().take(args.show) {
                println!("  {s}");
            }
        }
    }
    if !pass {
        bail!("the RTL diverged from the golden model");
    }
    Ok(())
}

/// A Verilator model of `cfg` (with waveform support if asked), with a spinner while one
/// that is not built in compiles (unless `quiet`).
pub fn build_verilated(cfg: &HwConfig, waves: bool, quiet: bool) -> Result<Verilated> {
    let make = || {
        if waves {
            Verilated::with_waves(cfg)
        } else {
            Verilated::new(cfg)
        }
    };
    if quiet || (Verilated::is_built_in(cfg) && !waves) {
        return Ok(make()?);
    }
    let spinner = ProgressBar::new_spinner().with_message(format!(
        "building (or loading from the cache) a Verilator model of config {}",
        cfg.hash()
    ));
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("a valid template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(200));
    let model = make();
    spinner.finish_and_clear();
    Ok(model?)
}

/// `A..B` with `A <= B`.
fn parse_window(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("`{text}` is not a cycle window like 100..200"))?;
    let num = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{s}` is not a cycle number"))
    };
    let (a, b) = (num(a)?, num(b)?);
    if a > b {
        return Err(format!("the window {a}..{b} ends before it starts"));
    }
    Ok((a, b))
}
