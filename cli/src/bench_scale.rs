//! `metronome bench scale`: one model compiled for systems of 1, 2, 4, 8 chips, its latency
//! side by side with the bound each system's busiest unit sets and the links' use.

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use compiler::decode::Decoder;
use compiler::model::Input;
use compiler::schedule::Schedule;
use compiler::{compile, CompileError, Model};
use indicatif::{ProgressBar, ProgressStyle};
use isa::{HwConfig, Op, Program, SystemConfig, Topology, Unit};
use serde_json::json;

use crate::inputs::{read_model, ConfigArgs};

#[derive(Args, Debug)]
pub struct ScaleBenchArgs {
    /// Model directory or int8 .tflite file: a feature model (one inference) or a token model
    /// (a token at each of --positions positions). Default: the built-in digits-wide MLP,
    /// 64-256-128-10, which one `small` chip cannot hold.
    #[arg(long, value_name = "DIR|FILE.tflite")]
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
    /// Samples per inference program (1: latency); dense stacks only.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub batch: u32,
    /// Token models: the positions whose steps are averaged, evenly spaced over the context
    /// from the first to the last.
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub positions: u32,
    /// Clock for the inferences-per-second (tokens-per-second) column, in MHz, labelled
    /// "assumed".
    #[arg(long, default_value_t = 100.0)]
    pub clock_mhz: f64,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// What one program of a system does, averaged over the programs measured (one inference, or
/// a token model's steps).
#[derive(Default)]
struct Measured {
    cycles: f64,
    /// The busy cycles of the busiest unit of any chip (the unit busiest on average over
    /// the programs): a program cannot be shorter.
    bound: f64,
    bound_unit: Option<Unit>,
    /// Rows sent over links, each hop counted.
    link_rows: f64,
    links: usize,
    /// The busiest link's rows.
    busiest_link: f64,
    /// The longest chip program's instructions.
    instructions: usize,
}

impl Measured {
    /// The mean over `programs`, each a program and each chip's schedule of it.
    fn of(programs: &[(Program, Vec<Schedule>)], cfg: &HwConfig) -> Measured {
        let links = cfg.system.links();
        let mut m = Measured {
            links: links.len(),
            ..Measured::default()
        };
        let share = 1.0 / programs.len() as f64;
        const UNITS: [Unit; 4] = [Unit::MxuLoad, Unit::MxuArray, Unit::Vector, Unit::Router];
        // Each unit's busy cycles on its busiest chip, on average.
        let mut busy = [0.0f64; UNITS.len()];
        for (program, schedules) in programs {
            let cycles = compiler::schedule::system_cycles(schedules);
            for (mean, unit) in busy.iter_mut().zip(UNITS) {
                let most = schedules.iter().map(|s| s.busy(unit)).max().unwrap_or(0);
                *mean += share * most as f64;
            }
            let mut per_link = vec![0u64; links.len()];
            for (chip, schedule) in schedules.iter().enumerate() {
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
            m.cycles += share * cycles as f64;
            m.link_rows += share * per_link.iter().sum::<u64>() as f64;
            m.busiest_link += share * per_link.iter().copied().max().unwrap_or(0) as f64;
            let longest = program.chips.iter().map(Vec::len).max().unwrap_or(0);
            m.instructions = m.instructions.max(longest);
        }
        let (bound, unit) = busy
            .into_iter()
            .zip(UNITS)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .expect("four units");
        (m.bound, m.bound_unit) = (bound, Some(unit));
        m
    }

    /// Link-cycles used over link-cycles there were.
    fn link_utilization(&self) -> f64 {
        if self.links == 0 {
            return 0.0;
        }
        self.link_rows / (self.links as f64 * self.cycles)
    }
}

/// One system: what it measured, or why it cannot hold the model.
struct Point {
    chips: u32,
    topology: Topology,
    outcome: Result<Measured, String>,
}

/// A model's programs on `cfg`: one inference of a dense stack, or a token model's steps at
/// `positions`.
fn programs(
    model: &Model,
    cfg: &HwConfig,
    batch: u32,
    positions: &[usize],
) -> Result<Vec<(Program, Vec<Schedule>)>, CompileError> {
    if let Input::Tokens(_) = model.input {
        let decoder = Decoder::new(model, cfg)?;
        return positions
            .iter()
            .map(|&p| decoder.step(p).map(|s| (s.program, s.schedules)))
            .collect();
    }
    let compiled = compile(model, cfg, batch)?;
    Ok(vec![(compiled.program, compiled.schedules)])
}

pub fn scale(args: &ScaleBenchArgs) -> Result<()> {
    ensure!(
        args.clock_mhz.is_finite() && args.clock_mhz > 0.0,
        "--clock-mhz must be a positive number"
    );
    let model = match &args.model {
        Some(path) => read_model(path)?,
        None => Model::digits_wide(),
    };
    let (unit, positions) = match &model.input {
        Input::Tokens(vocabulary) => {
            ensure!(
                args.batch == 1,
                "{} is a token model: its steps are measured one sequence at a time (drop \
                 --batch)",
                model.name
            );
            let last = vocabulary.context - 1;
            let count = (args.positions as usize).min(vocabulary.context);
            let positions: Vec<usize> = (0..count)
                .map(|i| {
                    if count == 1 {
                        last
                    } else {
                        i * last / (count - 1)
                    }
                })
                .collect();
            ("token", positions)
        }
        Input::Features { .. } => ("inference", Vec::new()),
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
            let topology = Topology::of_kind(kind, chips).context("in --topology")?;
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
        let cfg = chip
            .clone()
            .with_system(system)
            .with_context(|| format!("{chips} chips on a {topology}"))?;
        // A system too small for the model is a row of the table; anything else an error.
        let outcome = match programs(&model, &cfg, args.batch, &positions) {
            Ok(programs) => Ok(Measured::of(&programs, &cfg)),
            Err(CompileError::DoesNotFit(why)) => Err(why),
            Err(e) => return Err(e).with_context(|| format!("{} on {chips} chips", model.name)),
        };
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
        .min_by(|(a, m), (b, n)| (a, m.cycles).partial_cmp(&(b, n.cycles)).expect("finite"));
    let Some((base_chips, base)) = base else {
        let why: Vec<String> = points
            .iter()
            .filter_map(|p| {
                p.outcome
                    .as_ref()
                    .err()
                    .map(|w| format!("{} chips: {w}", p.chips))
            })
            .collect();
        bail!("no system holds {}:\n  {}", model.name, why.join("\n  "));
    };
    let batch = args.batch as f64;
    let per_second = |cycles: f64| batch * args.clock_mhz * 1e6 / cycles;
    let chip_name = chip.name.as_deref().unwrap_or("custom config");
    let measured_over = if positions.is_empty() {
        format!("batch {}", args.batch)
    } else {
        format!(
            "the mean step of positions {}",
            positions
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if args.json {
        let rows: Vec<_> = points
            .iter()
            .map(|p| match &p.outcome {
                Ok(m) => json!({
                    "chips": p.chips,
                    "topology": p.topology.to_string(),
                    "fits": true,
                    "cycles_per_program": m.cycles,
                    format!("cycles_per_{unit}"): m.cycles / batch,
                    format!("{unit}s_per_second"): per_second(m.cycles),
                    "speedup": base.cycles / m.cycles,
                    "ideal_speedup": base.bound / m.bound,
                    "bound_cycles": m.bound,
                    "bound_unit": m.bound_unit.map(|u| u.name()),
                    "overhead_cycles": m.cycles - m.bound,
                    "link_rows": m.link_rows,
                    "link_utilization": m.link_utilization(),
                    "busiest_link_utilization": m.busiest_link / m.cycles,
                    "most_instructions_on_a_chip": m.instructions,
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
            "positions": positions,
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
        "{} on systems of {chip_name} chips (N={}, config {}), {measured_over}, link latency \
         {}; cycles as scheduled and verified; speed-up over {base_chips} chip(s); {unit}s/s \
         at {} MHz (assumed, not measured)\n",
        model.name,
        chip.chip.n,
        chip.hash(),
        args.link_latency,
        args.clock_mhz
    );
    println!(
        "| chips | topology | cycles/{unit} | {unit}s/s | speed-up | ideal | bound | over bound \
         | links used | busiest link |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for p in &points {
        match &p.outcome {
            Ok(m) => println!(
                "| {} | {} | {:.1} | {:.0} | {:.2}x | {:.2}x | {:.0} ({}) | {:.0} | {:.1} % | \
                 {:.1} % |",
                p.chips,
                p.topology,
                m.cycles / batch,
                per_second(m.cycles),
                base.cycles / m.cycles,
                base.bound / m.bound,
                m.bound,
                m.bound_unit.map_or("-", |u| u.name()),
                m.cycles - m.bound,
                100.0 * m.link_utilization(),
                100.0 * m.busiest_link / m.cycles,
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
