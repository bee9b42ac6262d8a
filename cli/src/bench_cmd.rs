//! `metronome bench`: performance measurements, each compared side by side in one run.

use anyhow::{ensure, Context, Result};
use clap::{Args, Subcommand};
use cosim::verilator::Verilated;
use indicatif::{ProgressBar, ProgressStyle};
use isa::{HwConfig, MemImage};
use serde_json::json;

use crate::inputs::ConfigArgs;

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Simulated cycles per second of the Rust harness (trace recorded every cycle) next to a
    /// bare C++ Verilator loop, on the same model running the same program.
    Sim(SimBenchArgs),
    /// Scheduled cycles of an `M x K` by `K x Nout` int8 product against the ideal
    /// `M * ceil(K/N) * ceil(Nout/N)` (one input vector per cycle through each weight tile),
    /// for M, K, Nout each a power of two from N to --max, on each preset's array.
    Gemm(GemmBenchArgs),
    /// One model split over systems of 1, 2, 4, 8 chips (ring, mesh, dragonfly): cycles an
    /// inference or a token, speed-up over the smallest system that holds it, the bound the
    /// busiest unit of any chip sets, and the links' use.
    Scale(crate::bench_scale::ScaleBenchArgs),
}

#[derive(Args, Debug)]
pub struct GemmBenchArgs {
    /// Presets to sweep (default: every preset).
    #[arg(long, value_name = "NAME")]
    pub preset: Vec<String>,
    /// Largest M, K and Nout.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(2..=4096))]
    pub max: u32,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
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
        BenchCmd::Gemm(args) => gemm(args),
        BenchCmd::Scale(args) => crate::bench_scale::scale(args),
    }
}

/// `cfg` with memories deep enough for any product the sweep schedules: the array, the
/// banks and every latency stay the preset's.
fn deepened(mut cfg: HwConfig) -> Result<HwConfig> {
    cfg.chip.sram_depth = 65536;
    cfg.chip.imem_depth = 65536 / cfg.chip.imem_fetch_cycles;
    cfg.chip.param_depth = 4096;
    cfg.validate()?;
    Ok(cfg)
}

/// One scheduled product.
struct Product {
    preset: String,
    n: u32,
    m: u32,
    k: u32,
    nout: u32,
    cycles: u64,
    ideal: u64,
}

impl Product {
    fn utilization(&self) -> f64 {
        self.ideal as f64 / self.cycles as f64
    }
}

fn gemm(args: &GemmBenchArgs) -> Result<()> {
    let presets: Vec<String> = if args.preset.is_empty() {
        isa::PRESETS.iter().map(|p| p.to_string()).collect()
    } else {
        args.preset.clone()
    };
    let mut sweeps = Vec::new();
    for name in &presets {
        let preset = HwConfig::preset(name)?;
        let n = preset.chip.n;
        let sizes: Vec<u32> = std::iter::successors(Some(n), |s| s.checked_mul(2))
            .take_while(|s| *s <= args.max)
            .collect();
        ensure!(
            !sizes.is_empty(),
            "--max must be at least N = {n} for {name}"
        );
        sweeps.push((name.clone(), deepened(preset)?, sizes));
    }
    let total: usize = sweeps.iter().map(|(_, _, s)| s.len().pow(3)).sum();
    let progress = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total as u64).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} products scheduled [{elapsed}]")
                .expect("a valid template"),
        )
    };
    let mut rows = Vec::new();
    for (name, cfg, sizes) in &sweeps {
        let n = cfg.chip.n;
        for &m in sizes {
            for &k in sizes {
                for &nout in sizes {
                    let model = compiler::synthetic::random_stack(1, &[k as usize, nout as usize]);
                    let compiled = compiler::compile(&model, cfg, m)
                        .with_context(|| format!("{name}: M={m} K={k} Nout={nout}"))?;
                    let ideal = compiler::ideal_product_cycles(n, m as u64, k as u64, nout as u64);
                    rows.push(Product {
                        preset: name.clone(),
                        n,
                        m,
                        k,
                        nout,
                        cycles: compiled.cycles(),
                        ideal,
                    });
                    progress.inc(1);
                }
            }
        }
    }
    progress.finish_and_clear();
    // The acceptance bar: every product with M, K, Nout >= 8N.
    let worst_large = |preset: &str| {
        rows.iter()
            .filter(|r| r.preset == preset && r.m.min(r.k).min(r.nout) >= 8 * r.n)
            .map(Product::utilization)
            .reduce(f64::min)
    };
    if args.json {
        let out = json!({
            "note": "memories deepened to hold each product; array, banks and latencies as the preset",
            "products": rows.iter().map(|r| json!({
                "preset": r.preset, "n": r.n, "m": r.m, "k": r.k, "nout": r.nout,
                "cycles": r.cycles, "ideal_cycles": r.ideal, "utilization": r.utilization(),
            })).collect::<Vec<_>>(),
            "min_utilization_at_8n": sweeps.iter().map(|(name, _, _)| (name.clone(), json!(worst_large(name)))).collect::<serde_json::Map<_, _>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "scheduled M x K by K x Nout products; utilization = M*ceil(K/N)*ceil(Nout/N) / cycles\n\
         (SRAM and instruction memory deepened to hold each product; array, banks and latencies \
         as the preset)\n"
    );
    for (name, cfg, sizes) in &sweeps {
        let n = cfg.chip.n;
        println!("{name} (N={n}): utilization % by Nout");
        let header: String = sizes.iter().map(|o| format!("{o:>7}")).collect();
        println!("{:>5} {:>5} {header}", "M", "K");
        for &m in sizes {
            for &k in sizes {
                let cells: String = rows
                    .iter()
                    .filter(|r| &r.preset == name && r.m == m && r.k == k)
                    .map(|r| format!("{:>7.1}", 100.0 * r.utilization()))
                    .collect();
                println!("{m:>5} {k:>5} {cells}");
            }
        }
        match worst_large(name) {
            Some(u) => println!(
                "lowest utilization with M, K, Nout >= 8N = {}: {:.1} %\n",
                8 * n,
                100.0 * u
            ),
            None => println!(
                "(no product has M, K, Nout >= 8N = {} with --max {})\n",
                8 * n,
                args.max
            ),
        }
    }
    Ok(())
}

fn sim(args: &SimBenchArgs) -> Result<()> {
    let cfg = args.config.load()?;
    ensure!(
        cfg.chip.sram_banks >= 4 && cfg.chip.acc_banks >= 2,
        "the benchmark program needs 4 SRAM banks and 2 accumulator banks"
    );
    let most = cosim::bench::max_rows(&cfg);
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
