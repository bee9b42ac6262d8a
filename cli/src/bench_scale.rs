//! `metronome bench scale`: one model compiled for systems of 1, 2, 4, 8 chips, its latency
//! side by side with the bound each system's busiest weight loader sets and the links' use.

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use compiler::{compile, Compiled};
use indicatif::{ProgressBar, ProgressStyle};
use isa::{HwConfig, Op, SystemConfig, Topology, Unit};
use serde_json::json;

use crate::inputs::{load_model, ConfigArgs};

#[derive(Args, Debug)]
pub struct ScaleBenchArgs {
    /// Model directory (default: the built-in digits-wide MLP, 64-256-128-10, which one `small`
    /// chip cannot hold).
    #[arg(long, value_name = "DIR")]
    pub model: Option<std::path::PathBuf>,
    /// The chip every system is made of (its own system is replaced).
    #[command(flatten)]
    pub config: ConfigArgs,
    /// System sizes.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub chips: Vec<u32>,
    /// Topologies: ring, mesh (the squarest grid), dragonfly (two groups).
    #[arg(long, value_delimiter = ',', default_value = "ring")]
    pub topology: Vec<String>,
    /// Cycles a row spends on each link.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub link_latency: u32,
    /// Samples per inference program (1: latency).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: u32,
    /// Clock for the inferences-per-second column, in MHz, labelled "assumed".
    #[arg(long, default_value_t = 100.0)]
    pub clock_mhz: f64,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// One system's compiled program, or why it does not hold the model.
struct Point {
    chips: u32,
    topology: Topology,
    outcome: Result<Measured, String>,
}

struct Measured {
    cycles: u64,
    /// The busy cycles of the busiest unit of any chip: the program cannot be shorter.
    bound: u64,
    bound_unit: Unit,
    /// Rows sent over links, each hop counted.
    link_rows: u64,
    links: usize,
    /// The busiest link's rows.
    busiest_link: u64,
    instructions: usize,
}

impl Measured {
    fn of(c: &Compiled) -> Measured {
        let cfg = &c.cfg;
        let (bound, bound_unit) = c
            .schedules
            .iter()
            .flat_map(|s| {
                [Unit::MxuLoad, Unit::MxuArray, Unit::Vector, Unit::Router]
                    .map(|unit| (s.busy(unit), unit))
            })
            .max_by_key(|(busy, _)| *busy)
            .unwrap_or((0, Unit::MxuLoad));
        let links = cfg.system.links();
        let mut per_link = vec![0u64; links.len()];
        for (chip, schedule) in c.schedules.iter().enumerate() {
            for slot in schedule
                .slots
                .iter()
                .filter(|s| matches!(s.op, Op::Xfer(_)))
            {
                let plan = isa::timing::plan(&slot.op, chip as u32, slot.issue, cfg);
                for used in plan.links {
                    let k = links.iter().position(|l| *l == used.link);
                    per_link[k.expect("a route's links are the system's")] += 1;
                }
            }
        }
        Measured {
            cycles: c.cycles(),
            bound,
            bound_unit,
            link_rows: per_link.iter().sum(),
            links: links.len(),
            busiest_link: per_link.iter().copied().max().unwrap_or(0),
            instructions: c.program.len(),
        }
    }
    /// Link-cycles used over link-cycles there were.
    fn link_utilization(&self) -> f64 {
        if self.links == 0 {
            return 0.0;
        }
        self.link_rows as f64 / (self.links as u64 * self.cycles) as f64
    }
}

pub fn scale(args: &ScaleBenchArgs) -> Result<()> {
    ensure!(
        args.clock_mhz.is_finite() && args.clock_mhz > 0.0,
        "--clock-mhz must be a positive number"
    );
    let model = match &args.model {
        Some(dir) => load_model(Some(dir))?,
        None => compiler::Model::digits_wide(),
    };
    let chip = args.config.load()?;
    if chip.system.chips != 1 {
        bail!(
            "the config is a system of {} chips: give one chip's config, and --chips and \
             --topology for the systems",
            chip.system.chips
        );
    }
    let mut systems = Vec::new();
    for kind in &args.topology {
        for &chips in &args.chips {
            let topology = Topology::of_kind(kind, chips).with_context(|| "in --topology")?;
            if !systems.contains(&(chips, topology)) {
                systems.push((chips, topology));
            }
        }
    }
    let progress = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(systems.len() as u64).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} systems compiled [{elapsed}] {msg}")
                .expect("a valid template"),
        )
    };
    let mut points = Vec::new();
    for (chips, topology) in systems {
        progress.set_message(format!("{chips} chips, {topology}"));
        let system = SystemConfig {
            chips,
            topology,
            link_latency: args.link_latency,
        };
        let cfg = HwConfig {
            name: chip.name.clone(),
            ..chip.clone()
        }
        .with_system(system)
        .with_context(|| format!("{chips} chips on a {topology}"))?;
        let outcome = compile(&model, &cfg, args.batch)
            .map(|c| Measured::of(&c))
            .map_err(|e| e.to_string());
        points.push(Point {
            chips,
            topology,
            outcome,
        });
        progress.inc(1);
    }
    progress.finish_and_clear();
    // Speed-ups are over the smallest system that holds the model.
    let base = points
        .iter()
        .filter_map(|p| p.outcome.as_ref().ok().map(|m| (p.chips, m)))
        .min_by_key(|(chips, m)| (*chips, m.cycles));
    let Some((base_chips, base)) = base else {
        let why: Vec<String> = points
            .iter()
            .map(|p| format!("{} chips: {}", p.chips, p.outcome.as_ref().err().unwrap()))
            .collect();
        bail!("no system holds {}:\n  {}", model.name, why.join("\n  "));
    };
    let per_second = |cycles: u64| args.batch as f64 * args.clock_mhz * 1e6 / cycles as f64;
    let chip_name = chip.name.as_deref().unwrap_or("custom config");
    if args.json {
        let rows: Vec<_> = points
            .iter()
            .map(|p| match &p.outcome {
                Ok(m) => json!({
                    "chips": p.chips,
                    "topology": p.topology.to_string(),
                    "fits": true,
                    "cycles_per_program": m.cycles,
                    "cycles_per_inference": m.cycles as f64 / args.batch as f64,
                    "inferences_per_second": per_second(m.cycles),
                    "speedup": base.cycles as f64 / m.cycles as f64,
                    "ideal_speedup": base.bound as f64 / m.bound as f64,
                    "bound_cycles": m.bound,
                    "bound_unit": m.bound_unit.name(),
                    "overhead_cycles": m.cycles.saturating_sub(m.bound),
                    "link_rows": m.link_rows,
                    "link_utilization": m.link_utilization(),
                    "busiest_link_utilization": m.busiest_link as f64 / m.cycles as f64,
                    "instructions": m.instructions,
                }),
                Err(why) => json!({
                    "chips": p.chips,
                    "topology": p.topology.to_string(),
                    "fits": false,
                    "why": why,
                }),
            })
            .collect();
        let out = json!({
            "model": model.name,
            "chip": chip_name,
            "config_hash": chip.hash().to_string(),
            "n": chip.chip.n,
            "batch": args.batch,
            "link_latency": args.link_latency,
            "clock_mhz": args.clock_mhz,
            "clock": "assumed",
            "speedup_over_chips": base_chips,
            "systems": rows,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{} on systems of {chip_name} chips (N={}, config {}), batch {}, link latency {}; \
         cycles as scheduled and verified (the RTL runs them cycle for cycle); speed-up over \
         {base_chips} chip(s); inferences/s at {} MHz (assumed, not measured)\n",
        model.name,
        chip.chip.n,
        chip.hash(),
        args.batch,
        args.link_latency,
        args.clock_mhz
    );
    println!(
        "| chips | topology | cycles/inference | inferences/s | speed-up | ideal | bound | \
         over bound | links used | busiest link |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for p in &points {
        match &p.outcome {
            Ok(m) => println!(
                "| {} | {} | {:.1} | {:.0} | {:.2}x | {:.2}x | {} ({}) | {} | {:.1} % | {:.1} % |",
                p.chips,
                p.topology,
                m.cycles as f64 / args.batch as f64,
                per_second(m.cycles),
                base.cycles as f64 / m.cycles as f64,
                base.bound as f64 / m.bound as f64,
                m.bound,
                m.bound_unit.name(),
                m.cycles.saturating_sub(m.bound),
                100.0 * m.link_utilization(),
                100.0 * m.busiest_link as f64 / m.cycles as f64,
            ),
            Err(why) => println!(
                "| {} | {} | does not fit: {why} | | | | | | | |",
                p.chips, p.topology
            ),
        }
    }
    println!(
        "\nbound: the busy cycles of the busiest unit of any chip (the weight loader, the array, \
         the vector unit or the router, which sends the gathers); ideal: the speed-up those \
         bounds allow; over bound: what the pipeline's fill and drain, the gathers' link \
         latency and the dependencies between layers add (and at batch 1 a cycle a weight \
         tile: a tile loads N + 1 cycles after the one before at the soonest)"
    );
    Ok(())
}
