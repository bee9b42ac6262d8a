//! `metronome bench`: performance measurements, each compared side by side in one run.

use anyhow::{ensure, Result};
use clap::{Args, Subcommand};
use cosim::verilator::Verilated;
use isa::MemImage;
use serde_json::json;

use crate::inputs::ConfigArgs;

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Simulated cycles per second of the Rust harness (trace recorded every cycle) next to a
    /// bare C++ Verilator loop, on the same model running the same program.
    Sim(SimBenchArgs),
}

#[derive(Args, Debug)]
pub struct SimBenchArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Cycles each measurement runs (the program keeps three units busy throughout).
    #[arg(long, default_value_t = 60_000)]
    pub cycles: u64,
    /// Measurements of each kind; the best is reported.
    #[arg(long, default_value_t = 5)]
    pub repeats: u32,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn bench(cmd: &BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Sim(args) => sim(args),
    }
}

fn sim(args: &SimBenchArgs) -> Result<()> {
    let cfg = args.config.load()?;
    ensure!(
        cfg.chip.sram_banks >= 4 && cfg.chip.acc_banks >= 2,
        "the benchmark program needs 4 SRAM banks and 2 accumulator banks"
    );
    // The halt waits for the last row: its delay (cycles + 2N + 4) must fit 16 bits.
    let most = isa::ops::MAX_DELAY as u64 - 2 * cfg.chip.n as u64 - 4;
    ensure!(
        (1..=most).contains(&args.cycles),
        "--cycles must be in 1..={most} for this config"
    );
    let program = cosim::bench::busy_program(&cfg, args.cycles as u32);
    let r = Verilated::bench(
        &cfg,
        &program,
        &MemImage::default(),
        args.cycles,
        args.repeats,
    )?;
    let ratio = r.harness_cycles_per_second / r.bare_cycles_per_second;
    if args.json {
        let out = json!({
            "config_hash": cfg.hash().to_string(),
            "cycles": r.cycles,
            "repeats": args.repeats,
            "harness_cycles_per_second": r.harness_cycles_per_second,
            "bare_cycles_per_second": r.bare_cycles_per_second,
            "ratio": ratio,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "config {} ({}), {} cycles, best of {}",
            cfg.name.as_deref().unwrap_or("custom"),
            cfg.hash(),
            r.cycles,
            args.repeats
        );
        println!(
            "  Rust harness (trace every cycle): {:>12.0} cycles/s",
            r.harness_cycles_per_second
        );
        println!(
            "  bare C++ Verilator loop:          {:>12.0} cycles/s",
            r.bare_cycles_per_second
        );
        println!(
            "  harness / bare:                   {:>11.1} %",
            100.0 * ratio
        );
    }
    Ok(())
}
