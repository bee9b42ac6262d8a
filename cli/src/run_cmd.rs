//! `metronome run`: the main job. A model's whole test split, compiled, run on the generated
//! RTL under Verilator batch by batch, each batch checked against the golden model op by op,
//! row by row and cycle by cycle, with the accuracy of the float model, the int8 golden model
//! and the RTL side by side.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use compiler::model::{argmax, Model};
use compiler::{compile, max_batch, Compiled};
use golden::SystemState;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::inputs::ConfigArgs;
use crate::sim_cmd::build_verilated;

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Model directory (model.toml + .npy tensors; default: the built-in digits MLP,
    /// models/digits-mlp).
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Run only the first N test samples (default: all).
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Samples per program (default: as many as fit the chip).
    #[arg(long, value_name = "B")]
    pub batch: Option<u32>,
    /// Clock frequency for the inferences-per-second figure, in MHz.
    #[arg(long, value_name = "MHZ", default_value_t = 100.0)]
    pub clock_mhz: f64,
    /// Machine-readable output (no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// What one batch gave.
struct BatchResult {
    predicted_cycles: u64,
    measured_cycles: u64,
    simulated_cycles: u64,
    /// Lock-step and final-state differences (empty when the RTL agrees).
    mismatches: Vec<String>,
    golden: Vec<Vec<i8>>,
    rtl: Vec<Vec<i8>>,
}

/// Loads the model named on the command line, or the built-in one.
pub fn load_model(dir: Option<&PathBuf>) -> Result<Model> {
    match dir {
        Some(dir) => Model::load(dir).with_context(|| format!("in the model {}", dir.display())),
        None => Ok(Model::digits()),
    }
}

pub fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let cfg = args.config.load()?;
    let model = load_model(args.model.as_ref())?;
    let Some(test) = &model.test else {
        bail!(
            "the model {} has no [test] split to run; add one to its model.toml",
            model.name
        );
    };
    let samples = args.samples.unwrap_or(test.inputs.len());
    if samples == 0 || samples > test.inputs.len() {
        bail!(
            "--samples must be in 1..={} (the model's test split)",
            test.inputs.len()
        );
    }
    if !(args.clock_mhz.is_finite() && args.clock_mhz > 0.0) {
        bail!("--clock-mhz must be a positive number");
    }
    let batch = match args.batch {
        Some(b) => b.min(samples as u32),
        None => max_batch(&model, &cfg, samples as u32)
            .with_context(|| format!("compiling {} for this config", model.name))?,
    };
    let compile_started = Instant::now();
    let full = compile(&model, &cfg, batch)
        .with_context(|| format!("compiling {} for a batch of {batch}", model.name))?;
    let tail = samples % batch as usize;
    let last = match tail {
        0 => None,
        t => Some(compile(&model, &cfg, t as u32).context("compiling the last, shorter batch")?),
    };
    let compile_seconds = compile_started.elapsed().as_secs_f64();

    let build_started = Instant::now();
    let mut rtl_model = build_verilated(&cfg, false, args.json)?;
    let build_seconds = build_started.elapsed().as_secs_f64();

    let progress = if args.json {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(samples as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} samples on the RTL [{elapsed}, {eta} left] {msg}",
            )
            .expect("a valid template"),
        );
        bar
    };
    let sim_started = Instant::now();
    let mut results = Vec::new();
    for chunk in test.inputs[..samples].chunks(batch as usize) {
        let compiled = if chunk.len() == batch as usize {
            &full
        } else {
            last.as_ref().expect("a shorter batch was compiled")
        };
        let inputs: Vec<Vec<i8>> = chunk.iter().map(|x| model.quantize_input(x)).collect();
        let result = run_batch(compiled, &inputs, &mut rtl_model)?;
        if !result.mismatches.is_empty() {
            progress.set_message(format!(
                "{} batch(es) diverged",
                results
                    .iter()
                    .filter(|r: &&BatchResult| !r.mismatches.is_empty())
                    .count()
                    + 1
            ));
        }
        results.push(result);
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    let sim_seconds = sim_started.elapsed().as_secs_f64();

    // Accuracy of the float model, the int8 golden model and the RTL, side by side.
    let labels = &test.labels[..samples];
    let golden_logits: Vec<&Vec<i8>> = results.iter().flat_map(|r| &r.golden).collect();
    let rtl_logits: Vec<&Vec<i8>> = results.iter().flat_map(|r| &r.rtl).collect();
    let correct =
        |preds: &mut dyn Iterator<Item = usize>| preds.zip(labels).filter(|(p, y)| p == *y).count();
    let float_correct = if model.layers.iter().all(|l| l.float.is_some()) {
        let mut preds = test.inputs[..samples].iter().map(|x| {
            argmax(
                &model
                    .forward_float(x)
                    .expect("every layer has float weights"),
            )
        });
        Some(correct(&mut preds))
    } else {
        None
    };
    let golden_correct = correct(&mut golden_logits.iter().map(|l| argmax(l)));
    let rtl_correct = correct(&mut rtl_logits.iter().map(|l| argmax(l)));
    let bit_exact = golden_logits
        .iter()
        .zip(&rtl_logits)
        .filter(|(g, r)| g == r)
        .count();
    let clean_batches = results.iter().filter(|r| r.mismatches.is_empty()).count();
    let predicted: u64 = results.iter().map(|r| r.predicted_cycles).sum();
    let measured: u64 = results.iter().map(|r| r.measured_cycles).sum();
    let cycles_equal = results
        .iter()
        .filter(|r| r.predicted_cycles == r.measured_cycles)
        .count();
    let simulated: u64 = results.iter().map(|r| r.simulated_cycles).sum();
    let macs = model.macs_per_sample() * samples as u64;
    let n = cfg.chip.n as u64;
    let utilization = macs as f64 / (n * n * measured) as f64;
    let inferences_per_second = samples as f64 / (measured as f64 / (args.clock_mhz * 1e6));
    let pct = |c: usize| 100.0 * c as f64 / samples as f64;
    let pass = bit_exact == samples && clean_batches == results.len() && predicted == measured;

    if args.json {
        let out = json!({
            "result": if pass { "pass" } else { "fail" },
            "model": model.name,
            "config": cfg.name,
            "config_hash": cfg.hash().to_string(),
            "n": n,
            "samples": samples,
            "batch": batch,
            "batches": results.len(),
            "instructions": full.program.len(),
            "accuracy": {
                "float": float_correct.map(pct),
                "int8_golden": pct(golden_correct),
                "rtl": pct(rtl_correct),
            },
            "bit_exact_samples": bit_exact,
            "batches_matching_golden": clean_batches,
            "first_mismatches": results.iter().flat_map(|r| &r.mismatches).take(10).collect::<Vec<_>>(),
            "cycles": {
                "predicted": predicted,
                "measured": measured,
                "batches_equal": cycles_equal,
                "per_inference_predicted": predicted as f64 / samples as f64,
                "per_inference_measured": measured as f64 / samples as f64,
            },
            "matrix_unit_utilization": utilization,
            "clock_mhz": args.clock_mhz,
            "inferences_per_second": inferences_per_second,
            "seconds": {
                "compile": compile_seconds,
                "rtl_build": build_seconds,
                "simulation": sim_seconds,
                "total": started.elapsed().as_secs_f64(),
            },
            "simulated_cycles": simulated,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let layers: Vec<String> = std::iter::once(model.features)
            .chain(model.layers.iter().map(|l| l.outputs))
            .map(|w| w.to_string())
            .collect();
        println!(
            "{} ({}) on {} (N={n}, config {}): {samples} test samples",
            model.name,
            layers.join("-"),
            cfg.name.as_deref().unwrap_or("custom config"),
            cfg.hash()
        );
        println!(
            "  compiled    batch {batch}: {} instructions, {} cycles per batch (predicted), {compile_seconds:.2} s",
            full.program.len(),
            full.cycles()
        );
        println!(
            "  RTL         Verilator model ready in {build_seconds:.2} s (built in, or from the model cache); {} batch(es) simulated in {sim_seconds:.2} s ({:.0} cycles/s with loading and read-back)",
            results.len(),
            simulated as f64 / sim_seconds.max(1e-9)
        );
        println!();
        let float = float_correct.map_or("n/a (no float weights)".into(), |c| {
            format!("{:.2} %", pct(c))
        });
        println!(
            "  accuracy    float {float}   int8 golden {:.2} %   RTL {:.2} %",
            pct(golden_correct),
            pct(rtl_correct)
        );
        println!(
            "  bit-exact   {bit_exact}/{samples} samples; {clean_batches}/{} batches match the golden model in every op, row and cycle",
            results.len()
        );
        println!(
            "  cycles      predicted {predicted}, measured {measured} ({cycles_equal}/{} batches equal); {:.1} per inference",
            results.len(),
            measured as f64 / samples as f64
        );
        println!(
            "  utilization {:.1} % of the matrix unit (useful MACs / (N x N x cycles))",
            100.0 * utilization
        );
        println!(
            "  throughput  {inferences_per_second:.0} inferences/s at {} MHz",
            args.clock_mhz
        );
        println!(
            "  wall time   {:.2} s in all",
            started.elapsed().as_secs_f64()
        );
        for m in results.iter().flat_map(|r| &r.mismatches).take(10) {
            println!("  mismatch: {m}");
        }
        println!("\n{}", if pass { "PASS" } else { "FAIL" });
    }
    if !pass {
        bail!("the RTL disagreed with the golden model (see above)");
    }
    Ok(())
}

/// Runs one batch on the golden model and on the RTL and compares them.
fn run_batch(
    compiled: &Compiled,
    inputs: &[Vec<i8>],
    rtl_model: &mut cosim::verilator::Verilated,
) -> Result<BatchResult> {
    let cfg = &compiled.cfg;
    let image = compiled.image(inputs)?;
    let state = SystemState::from_image(cfg, &image).context("the compiled memory image")?;
    let golden = golden::run(&compiled.program, cfg, state, None)
        .context("the compiled program on the golden model")?;
    // The program halts at the predicted cycle; anything past it is a hang.
    let budget = compiled.cycles() + 1;
    let rtl = rtl_model
        .run(&compiled.program, &image, budget)
        .context("the compiled program on the RTL")?;
    let take = |chip: &golden::ChipState| {
        let mut outs = compiled.outputs(chip);
        outs.truncate(inputs.len());
        outs
    };
    Ok(BatchResult {
        predicted_cycles: compiled.cycles(),
        measured_cycles: rtl.cycles[0],
        simulated_cycles: rtl.simulated_cycles,
        mismatches: cosim::compare::mismatches(&golden, &rtl),
        golden: take(&golden.state.chips[0]),
        rtl: take(&rtl.state.chips[0]),
    })
}
