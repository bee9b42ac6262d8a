//! `metronome run`: the main job. A model's whole test split, compiled, run on the generated
//! RTL under Verilator batch by batch, each batch checked against the golden model op by op,
//! row by row and cycle by cycle, with the accuracy of the float model, the int8 golden model
//! and the RTL side by side.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use compiler::model::{argmax, FeatureGraph, Input, Model, Source};
use compiler::npy::{self, Data};
use compiler::{array_utilization, compile, max_batch, Compiled};
use cosim::compare::Mismatch;
use cosim::verilator::Verilated;
use cosim::Backend;
use indicatif::{ProgressBar, ProgressStyle};
use isa::HwConfig;
use serde_json::json;

use crate::inputs::{load_model, write_file, ConfigArgs};
use crate::sim_cmd::build_verilated;
use crate::synth_cmd;

/// What every run of a model takes: the chip, the model and which of its samples.
#[derive(Args, Debug)]
pub struct JobArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Model directory (model.toml + .npy tensors) or int8 .tflite file (default: the
    /// built-in digits MLP, models/digits-mlp).
    #[arg(long, value_name = "DIR|FILE.tflite")]
    pub model: Option<PathBuf>,
    /// Run only the first N samples (default: all).
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Run these samples instead of the model's test split: a .npy of [samples, features]
    /// (or one sample of [features]); int8 is taken as the quantized input as is, float32 (or
    /// float64, made float32 first) is quantized as TFLite's QUANTIZE does.
    #[arg(long, value_name = "X.npy")]
    pub inputs: Option<PathBuf>,
    /// Write the outputs (the RTL's, equal to the golden model's) as a .npy of [samples,
    /// outputs], int8.
    #[arg(long, value_name = "Y.npy")]
    pub out: Option<PathBuf>,
    /// With --out: write float32, dequantized from the output's scale and zero point.
    #[arg(long, requires = "out")]
    pub dequantize: bool,
    /// Samples per program (default: as many as fit the chip).
    #[arg(long, value_name = "B", value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: Option<u32>,
    /// Machine-readable output (no progress bar).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Clock for the inferences-per-second figure, in MHz, labelled "assumed" (default: 100).
    #[arg(long, value_name = "MHZ", conflicts_with = "device")]
    pub clock_mhz: Option<f64>,
    /// Report inferences/s at the Fmax this config reaches on the FPGA DEVICE (up5k, ecp5-25f,
    /// ecp5-45f, ecp5-85f): the `metronome synth` result, from the cache or run now.
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
}

/// What runs the batches.
pub struct Rtl<B> {
    pub backend: B,
    /// One line for the report: what it is and how it was made ready.
    pub describe: String,
    /// Whether it reports every op's trace (a simulator), or only the final memories and
    /// cycle counts (a board).
    pub traced: bool,
}

/// What one batch gave.
struct Batch {
    samples: usize,
    predicted_cycles: u64,
    measured_cycles: u64,
    simulated_cycles: u64,
    /// Lock-step and final-state differences (empty when the RTL agrees).
    mismatches: Vec<Mismatch>,
    golden: Vec<Vec<i8>>,
    rtl: Vec<Vec<i8>>,
}

/// Wall time of each stage, in seconds.
struct Timings {
    compile: f64,
    rtl_build: f64,
    simulation: f64,
    total: f64,
}

/// Everything the job measured.
struct Report {
    model: String,
    widths: Vec<usize>,
    cfg: HwConfig,
    batch: u32,
    instructions: usize,
    batches: Vec<Batch>,
    samples: usize,
    /// What ran the batches, and whether it was compared op by op.
    rtl: String,
    traced: bool,
    /// Lines the backend adds to the report.
    notes: Vec<String>,
    /// When the samples have labels (the model's test split).
    accuracy: Option<Accuracy>,
    /// Where the samples came from.
    source: String,
    bit_exact: usize,
    useful_macs: u64,
    clock: Clock,
    seconds: Timings,
}

/// Correct predictions of the float model (if it ships float weights), the int8 golden model
/// and the RTL, when the samples have labels.
struct Accuracy {
    float: Option<usize>,
    golden: usize,
    rtl: usize,
}

/// The clock throughput is reported at, and where its number comes from.
pub enum Clock {
    /// Given on the command line (or the default): nobody measured it.
    Assumed(f64),
    /// nextpnr's Fmax after routing this config on a part.
    Fmax {
        mhz: f64,
        device: String,
        part: String,
    },
    /// The clock a board top's PLL makes (its bitstream built by `metronome synth --board`).
    Board { mhz: f64, board: String },
}

impl Clock {
    /// The clock `--clock-mhz` or `--device` asks for; a device's Fmax is synthesized (or read
    /// from the cache) now.
    pub fn of(
        clock_mhz: Option<f64>,
        device: Option<&str>,
        cfg: &HwConfig,
        quiet: bool,
    ) -> Result<Clock> {
        let Some(name) = device else {
            let mhz = clock_mhz.unwrap_or(100.0);
            if !(mhz.is_finite() && mhz > 0.0) {
                bail!("--clock-mhz must be a positive number");
            }
            return Ok(Clock::Assumed(mhz));
        };
        let options = fpga::Options {
            device: synth_cmd::device(name)?,
            board: None,
            clock_mhz: None,
            placer: fpga::Placer::Heap,
            seed: 1,
            cache_root: dircache::root().context(
                "no cache directory for synthesis results: set METRONOME_CACHE_DIR or HOME",
            )?,
        };
        let report = synth_cmd::synthesize(cfg, &options, quiet)?.report;
        match (report.fits, report.fmax_mhz) {
            // An Fmax that leaves paths untimed is no clock to quote.
            (true, Some(mhz)) if report.untimed_domains.is_empty() => Ok(Clock::Fmax {
                mhz,
                device: report.device,
                part: report.part,
            }),
            _ => bail!(
                "no clock to report at: {}",
                report.failure().unwrap_or_default()
            ),
        }
    }

    pub fn mhz(&self) -> f64 {
        match self {
            Clock::Assumed(mhz) | Clock::Fmax { mhz, .. } | Clock::Board { mhz, .. } => *mhz,
        }
    }

    /// How the report names the clock.
    pub fn describe(&self) -> String {
        match self {
            Clock::Assumed(mhz) => format!("{mhz} MHz (assumed, not measured)"),
            Clock::Fmax { mhz, device, part } => {
                format!("{mhz:.1} MHz (nextpnr's Fmax of this config on the {device}, {part})")
            }
            Clock::Board { mhz, board } => {
                format!("{mhz:.3} MHz (the {board} top's PLL clock, as `metronome synth --board` builds it)")
            }
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Clock::Assumed(mhz) => json!({ "mhz": mhz, "source": "assumed" }),
            Clock::Fmax { mhz, device, part } => {
                json!({ "mhz": mhz, "source": "fmax", "device": device, "part": part })
            }
            Clock::Board { mhz, board } => json!({ "mhz": mhz, "source": "board", "board": board }),
        }
    }
}

pub fn run(args: &RunArgs) -> Result<()> {
    let cfg = args.job.config.load()?;
    let clock = Clock::of(args.clock_mhz, args.device.as_deref(), &cfg, args.job.json)?;
    job(
        &args.job,
        cfg,
        clock,
        |cfg| {
            let started = Instant::now();
            let backend = build_verilated(cfg, false, args.job.json)?;
            let origin = if Verilated::is_built_in(cfg) {
                "built in"
            } else {
                "built, or loaded from the model cache"
            };
            Ok(Rtl {
                backend,
                describe: format!(
                    "Verilator model ready in {:.2} s ({origin})",
                    started.elapsed().as_secs_f64()
                ),
                traced: true,
            })
        },
        |_| Vec::new(),
    )
}

/// The main job on `cfg` with the backend `make_rtl` makes (after the model compiles):
/// every batch on it and on the golden model, compared, and the report; `notes` adds the
/// backend's own lines to it.
pub fn job<B: Backend>(
    args: &JobArgs,
    cfg: HwConfig,
    clock: Clock,
    make_rtl: impl FnOnce(&HwConfig) -> Result<Rtl<B>>,
    notes: impl Fn(&B) -> Vec<String>,
) -> Result<()> {
    let started = Instant::now();
    let model = load_model(args.model.as_ref())?;
    let graph = model
        .feature_graph()
        .map_err(|why| anyhow!("`metronome run` runs feature models: {why}"))?;
    let (all, source) = match &args.inputs {
        Some(path) => (
            read_inputs(path, &model)?,
            format!("samples of {}", path.display()),
        ),
        None => match model.samples() {
            Some(t) if !t.inputs.is_empty() => (
                t.inputs.iter().map(|x| model.quantize_input(x)).collect(),
                "test samples".to_string(),
            ),
            _ => bail!(
                "the model {} has no test samples to run: pass --inputs X.npy, or add a [test] \
                 split to its model.toml",
                model.name
            ),
        },
    };
    let samples = args.samples.unwrap_or(all.len());
    if samples == 0 || samples > all.len() {
        bail!("--samples must be in 1..={} (the {source})", all.len());
    }
    let inputs = &all[..samples];

    let compile_started = Instant::now();
    let batch = match args.batch {
        Some(b) => b.min(samples as u32),
        None => max_batch(&model, &cfg, samples as u32)
            .with_context(|| format!("compiling {} for this config", model.name))?,
    };
    let full = compile(&model, &cfg, batch)
        .with_context(|| format!("compiling {} for a batch of {batch}", model.name))?;
    let last = match samples % batch as usize {
        0 => None,
        tail => {
            Some(compile(&model, &cfg, tail as u32).context("compiling the last, shorter batch")?)
        }
    };
    let compile_seconds = compile_started.elapsed().as_secs_f64();

    let build_started = Instant::now();
    let mut rtl = make_rtl(&cfg)?;
    let build_seconds = build_started.elapsed().as_secs_f64();

    let progress = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(samples as u64).with_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} samples on the RTL [{elapsed}, {eta} left] {msg}",
            )
            .expect("a valid template"),
        )
    };
    let sim_started = Instant::now();
    let mut batches: Vec<Batch> = Vec::new();
    for chunk in inputs.chunks(batch as usize) {
        let compiled = match &last {
            Some(short) if chunk.len() < batch as usize => short,
            _ => &full,
        };
        let result = run_batch(compiled, chunk, &mut rtl.backend, rtl.traced)?;
        batches.push(result);
        let diverged = batches.iter().filter(|b| !b.mismatches.is_empty()).count();
        if diverged > 0 {
            progress.set_message(format!("{diverged} batch(es) diverged"));
        }
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    let sim_seconds = sim_started.elapsed().as_secs_f64();

    let golden: Vec<&Vec<i8>> = batches.iter().flat_map(|b| &b.golden).collect();
    let rtl_out: Vec<&Vec<i8>> = batches.iter().flat_map(|b| &b.rtl).collect();
    // Accuracy on the model's own test split, whose samples have labels.
    let accuracy = match (&args.inputs, model.samples()) {
        (None, Some(test)) => {
            let labels = &test.labels[..samples];
            let count_correct =
                |preds: Vec<usize>| preds.iter().zip(labels).filter(|(p, y)| p == y).count();
            Some(Accuracy {
                float: test.inputs[..samples]
                    .iter()
                    .map(|x| model.forward_float(x).map(|y| argmax(&y)))
                    .collect::<Option<Vec<_>>>()
                    .map(count_correct),
                golden: count_correct(golden.iter().map(|l| argmax(l)).collect()),
                rtl: count_correct(rtl_out.iter().map(|l| argmax(l)).collect()),
            })
        }
        _ => None,
    };
    let bit_exact = golden.iter().zip(&rtl_out).filter(|(g, r)| g == r).count();
    // Kept for --out past the report, which takes the batches.
    let outputs: Option<Vec<Vec<i8>>> = args
        .out
        .as_ref()
        .map(|_| rtl_out.iter().map(|o| o.to_vec()).collect());
    let report = Report {
        model: model.name.clone(),
        widths: widths(&graph),
        rtl: rtl.describe.clone(),
        traced: rtl.traced,
        notes: notes(&rtl.backend),
        batch,
        instructions: full.program.len(),
        samples,
        accuracy,
        source,
        bit_exact,
        useful_macs: model.macs_per_sample() * samples as u64,
        clock,
        seconds: Timings {
            compile: compile_seconds,
            rtl_build: build_seconds,
            simulation: sim_seconds,
            total: started.elapsed().as_secs_f64(),
        },
        cfg,
        batches,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        report.print();
    }
    if !report.passed() {
        let unwritten = match &args.out {
            Some(path) => format!("; {} was not written", path.display()),
            None => String::new(),
        };
        bail!("the RTL disagreed with the golden model (see above){unwritten}");
    }
    if let (Some(path), Some(outputs)) = (&args.out, &outputs) {
        write_outputs(path, outputs, &model, args.dequantize)?;
    }
    Ok(())
}

/// The samples of `path`: int8 as they are, float32 quantized as TFLite does.
fn read_inputs(path: &Path, model: &Model) -> Result<Vec<Vec<i8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let array = npy::read(&bytes).with_context(|| format!("in {}", path.display()))?;
    let features = match &model.input {
        Input::Features { features, .. } => *features,
        Input::Tokens(_) => bail!("{} reads tokens", model.name),
    };
    let per_sample = match array.shape[..] {
        [f] => f,
        [_, ref rest @ ..] => rest.iter().product(),
        [] => 0,
    };
    if per_sample != features || array.shape.first() == Some(&0) {
        bail!(
            "{} has shape {:?}; the model takes [samples, {features}] (or [{features}] for one \
             sample)",
            path.display(),
            array.shape
        );
    }
    // float64 (numpy's default) is taken as the float32 TFLite would be given.
    let floats: Option<Vec<f32>> = match &array.data {
        Data::F32(v) => Some(v.clone()),
        Data::F64(v) => Some(v.iter().map(|x| *x as f32).collect()),
        _ => None,
    };
    if let Some((at, x)) = floats
        .iter()
        .flatten()
        .enumerate()
        .find(|(_, x)| !x.is_finite())
    {
        bail!(
            "{}: value {at} is {x}; inputs must be finite",
            path.display()
        );
    }
    Ok(match (&array.data, floats) {
        (Data::I8(v), _) => v.chunks(features).map(<[i8]>::to_vec).collect(),
        (_, Some(v)) => v
            .chunks(features)
            .map(|x| model.quantize_input(x))
            .collect(),
        (other, None) => bail!(
            "{} holds {}; int8 (quantized inputs) or float32 / float64 (quantized here as \
             TFLite's QUANTIZE does) expected",
            path.display(),
            other.dtype().name()
        ),
    })
}

/// Writes the outputs as a .npy of [samples, outputs]: int8, or float32 dequantized.
fn write_outputs(path: &Path, outputs: &[Vec<i8>], model: &Model, dequantize: bool) -> Result<()> {
    let shape = vec![outputs.len(), model.outputs()];
    let values = outputs.iter().flat_map(|o| o.iter().copied());
    let data = if dequantize {
        let quant = model.output_quant().context("the model's output grid")?;
        Data::F32(values.map(|q| quant.dequantize(q)).collect())
    } else {
        Data::I8(values.collect())
    };
    write_file(path, &npy::write(&npy::Array { shape, data }))
}

/// Input features, then each layer's outputs.
fn widths(graph: &FeatureGraph) -> Vec<usize> {
    std::iter::once(Source::Input)
        .chain((0..graph.layers.len()).map(Source::Layer))
        .map(|s| graph.width(s))
        .collect()
}

/// Runs one batch on the golden model and on the RTL and compares them: op by op if the
/// RTL is `traced`, else the final memories and cycle counts.
fn run_batch(
    compiled: &Compiled,
    inputs: &[Vec<i8>],
    rtl_model: &mut dyn Backend,
    traced: bool,
) -> Result<Batch> {
    let (image, golden) = compiled
        .run_golden(inputs)
        .context("the compiled program on the golden model")?;
    // The program halts at the predicted cycle; anything past it is a hang.
    let budget = compiled.cycles() + 1;
    let rtl = rtl_model
        .run(&compiled.program, &image, budget, None)
        .context("the compiled program on the RTL")?;
    let take = |chip: &golden::ChipState| {
        let mut outs = compiled.outputs(chip);
        outs.truncate(inputs.len());
        outs
    };
    Ok(Batch {
        samples: inputs.len(),
        predicted_cycles: compiled.cycles(),
        // The slowest chip's (each chip's halt is compared with the golden model's below).
        measured_cycles: rtl.cycles.iter().copied().max().unwrap_or(0),
        simulated_cycles: rtl.simulated_cycles,
        mismatches: if traced {
            cosim::compare::mismatches(&golden, &rtl)
        } else {
            cosim::compare::state_mismatches(&golden, &rtl)
        },
        golden: take(&golden.state.chips[0]),
        rtl: take(&rtl.state.chips[0]),
    })
}

impl Report {
    fn predicted(&self) -> u64 {
        self.batches.iter().map(|b| b.predicted_cycles).sum()
    }
    fn measured(&self) -> u64 {
        self.batches.iter().map(|b| b.measured_cycles).sum()
    }
    fn cycles_equal(&self) -> usize {
        self.batches
            .iter()
            .filter(|b| b.predicted_cycles == b.measured_cycles)
            .count()
    }
    fn clean_batches(&self) -> usize {
        self.batches
            .iter()
            .filter(|b| b.mismatches.is_empty())
            .count()
    }
    fn passed(&self) -> bool {
        let all = self.batches.len();
        self.bit_exact == self.samples && self.clean_batches() == all && self.cycles_equal() == all
    }
    /// Over every chip's array.
    fn utilization(&self) -> f64 {
        array_utilization(self.cfg.chip.n, self.useful_macs, self.measured())
            / self.cfg.system.chips as f64
    }
    fn inferences_per_second(&self) -> f64 {
        self.samples as f64 / (self.measured() as f64 / (self.clock.mhz() * 1e6))
    }
    fn percent(&self, correct: usize) -> f64 {
        100.0 * correct as f64 / self.samples as f64
    }
    fn simulated_cycles(&self) -> u64 {
        self.batches.iter().map(|b| b.simulated_cycles).sum()
    }
    fn first_mismatches(&self) -> Vec<String> {
        self.batches
            .iter()
            .flat_map(|b| &b.mismatches)
            .take(10)
            .map(|m| m.to_string())
            .collect()
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "result": if self.passed() { "pass" } else { "fail" },
            "model": self.model,
            "layers": self.widths,
            "config": self.cfg.name,
            "config_hash": self.cfg.hash().to_string(),
            "n": self.cfg.chip.n,
            "chips": self.cfg.system.chips,
            "topology": self.cfg.system.topology.to_string(),
            "samples": self.samples,
            "batch": self.batch,
            "instructions": self.instructions,
            "source": self.source,
            "accuracy": self.accuracy.as_ref().map(|a| json!({
                "float": a.float.map(|c| self.percent(c)),
                "int8_golden": self.percent(a.golden),
                "rtl": self.percent(a.rtl),
            })),
            "bit_exact_samples": self.bit_exact,
            "batches_matching_golden": self.clean_batches(),
            "first_mismatches": self.first_mismatches(),
            "cycles": {
                "predicted": self.predicted(),
                "measured": self.measured(),
                "batches_equal": self.cycles_equal(),
                "per_inference_predicted": self.predicted() as f64 / self.samples as f64,
                "per_inference_measured": self.measured() as f64 / self.samples as f64,
            },
            "batches": self.batches.iter().map(|b| json!({
                "samples": b.samples,
                "predicted_cycles": b.predicted_cycles,
                "measured_cycles": b.measured_cycles,
                "mismatches": b.mismatches.len(),
            })).collect::<Vec<_>>(),
            "matrix_unit_utilization": self.utilization(),
            "clock_mhz": self.clock.mhz(),
            "clock": self.clock.to_json(),
            "inferences_per_second": self.inferences_per_second(),
            "seconds": {
                "compile": self.seconds.compile,
                "rtl_build": self.seconds.rtl_build,
                "simulation": self.seconds.simulation,
                "total": self.seconds.total,
            },
            "simulated_cycles": self.simulated_cycles(),
            "rtl": self.rtl,
            "compared_op_by_op": self.traced,
            "notes": self.notes,
        })
    }

    fn print(&self) {
        let n = self.cfg.chip.n;
        let widths: Vec<String> = self.widths.iter().map(|w| w.to_string()).collect();
        let batches = self.batches.len();
        let system = match self.cfg.system.chips {
            1 => String::new(),
            chips => format!(", {chips} chips, {}", self.cfg.system.topology),
        };
        println!(
            "{} ({}) on {} (N={n}{system}, config {}): {} {}",
            self.model,
            widths.join("-"),
            self.cfg.name.as_deref().unwrap_or("custom config"),
            self.cfg.hash(),
            self.samples,
            self.source
        );
        println!(
            "  compiled    batch {}: {} instructions, {} cycles per full batch (predicted), \
             {:.2} s",
            self.batch, self.instructions, self.batches[0].predicted_cycles, self.seconds.compile
        );
        // A board counts no cycles but the program's.
        let rate = match self.simulated_cycles() {
            0 => String::new(),
            cycles => format!(
                " ({:.0} cycles/s with loading and read-back)",
                cycles as f64 / self.seconds.simulation.max(1e-9)
            ),
        };
        println!(
            "  RTL         {}; {batches} batch(es) run in {:.2} s{rate}",
            self.rtl, self.seconds.simulation
        );
        for note in &self.notes {
            println!("              {note}");
        }
        println!();
        if let Some(a) = &self.accuracy {
            let float = a.float.map_or("n/a (no float weights)".into(), |c| {
                format!("{:.2} %", self.percent(c))
            });
            println!(
                "  accuracy    float {float}   int8 golden {:.2} %   RTL {:.2} %",
                self.percent(a.golden),
                self.percent(a.rtl)
            );
        }
        println!(
            "  bit-exact   {}/{} samples; {}/{batches} batches match the golden model {}",
            self.bit_exact,
            self.samples,
            self.clean_batches(),
            if self.traced {
                "in every op, row and cycle"
            } else {
                "in every memory word and the cycle count (a board gives no trace)"
            }
        );
        println!(
            "  cycles      predicted {}, measured {} ({}/{batches} batches equal); {:.1} per \
             inference",
            self.predicted(),
            self.measured(),
            self.cycles_equal(),
            self.measured() as f64 / self.samples as f64
        );
        println!(
            "  utilization {:.1} % of the matrix units (useful MACs / (chips x N x N x cycles))",
            100.0 * self.utilization()
        );
        println!(
            "  throughput  {:.0} inferences/s at {}{}",
            self.inferences_per_second(),
            self.clock.describe(),
            if self.traced {
                ""
            } else {
                ": the chip's own cycles, not the serial line's time"
            }
        );
        println!("  wall time   {:.2} s in all", self.seconds.total);
        for m in self.first_mismatches() {
            println!("  mismatch: {m}");
        }
        println!("\n{}", if self.passed() { "PASS" } else { "FAIL" });
    }
}
