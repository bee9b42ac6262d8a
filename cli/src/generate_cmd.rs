//! `metronome generate`: a token model writing text on the RTL, a position a step, every step
//! checked against the golden model op by op; or, with `--eval`, its quality on the held-out
//! text against the float model it came from.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use compiler::decode::{positions_needed, Decoder, Sampler, Step};
use compiler::model::float::{nll, FloatTransformer};
use compiler::model::{argmax, Input, Model, TestSet, CHARLM};
use cosim::steps::Steps;
use indicatif::{ProgressBar, ProgressStyle};
use isa::{HwConfig, MemImage};
use serde_json::json;

use crate::inputs::{read_model, ConfigArgs};
use crate::run_cmd::Clock;
use crate::sim_cmd::build_verilated;

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The text to start from, in the model's symbols.
    #[arg(long, default_value = "The return statement")]
    pub prompt: String,
    /// New tokens to generate (the prompt and these must fit the model's context).
    #[arg(long, default_value_t = 64)]
    pub tokens: usize,
    /// Sampling temperature: 0 takes the most likely token; above 0 draws from the softmax
    /// of the logits over the temperature, with --seed.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// The sampler's seed (with --temperature above 0); sequence i of a batch uses seed + i.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sequences decoded side by side, each from the prompt: every step loads the weight
    /// tiles once and streams a row per sequence through them. The cache then holds the
    /// positions the run needs rather than the whole context.
    #[arg(long, value_name = "B", default_value_t = 1, conflicts_with = "eval")]
    pub batch: usize,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// A token model directory (metronome-model/2; default: the built-in charlm,
    /// models/charlm).
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Run the golden model only, not the RTL.
    #[arg(long)]
    pub golden: bool,
    /// Measure quality instead: next-token loss and argmax agreement of the int8 model (on
    /// the golden model) against the float model, on windows of the held-out text.
    #[arg(long)]
    pub eval: bool,
    /// Windows of a full context for --eval, evenly spaced over the held-out text.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub eval_windows: usize,
    /// Clock for the tokens-per-second figure, in MHz, labelled "assumed" (default: 100).
    #[arg(long, value_name = "MHZ", conflicts_with = "device")]
    pub clock_mhz: Option<f64>,
    /// Report tokens/s at the Fmax this config reaches on the FPGA DEVICE (ecp5-85f, ...):
    /// the `metronome synth` result, from the cache or run now.
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// Machine-readable output (no streaming, no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// What one step measured.
struct StepRecord {
    position: usize,
    predicted: u64,
    measured: u64,
    loaded_tiles: u64,
}

pub fn generate(args: &GenerateArgs) -> Result<()> {
    let started = Instant::now();
    let model = match &args.model {
        Some(path) => read_model(path)?,
        None => Model::charlm(),
    };
    let cfg = match (&args.config.preset, &args.config.config) {
        (None, None) => HwConfig::preset("lm")?,
        _ => args.config.load()?,
    };
    let laying = || format!("laying {} out on {}", model.name, config_name(&cfg));
    // A batch's cache holds the positions the run needs (a token a character).
    let decoder = match &model.input {
        Input::Tokens(vocabulary) if args.batch != 1 && !args.eval => {
            let prompt = args.prompt.chars().count();
            let positions = positions_needed(prompt, args.tokens, vocabulary.context)?;
            Decoder::batched(&model, &cfg, args.batch, positions)
                .with_context(|| format!("{} for --batch {}", laying(), args.batch))?
        }
        _ => Decoder::new(&model, &cfg).with_context(laying)?,
    };
    if args.eval {
        return eval(args, &model, &cfg, &decoder);
    }
    let prompt = decoder.tokenize(&args.prompt).context("in --prompt")?;
    decoder.positions(prompt.len(), args.tokens)?;
    if args.batch > 1 && args.temperature == 0.0 && !args.json {
        eprintln!(
            "note: at temperature 0 every sequence of the batch takes the most likely token, \
             so all {} write the same text (--temperature above 0 samples each with its own \
             seed)",
            args.batch
        );
    }
    let seed = |s: usize| args.seed.wrapping_add(s as u64);
    let mut samplers = (0..args.batch)
        .map(|s| Sampler::new(args.temperature, seed(s), decoder.logit_scale()))
        .collect::<Result<Vec<_>, _>>()?;
    let clock = Clock::of(args.clock_mhz, args.device.as_deref(), &cfg, args.json)?;

    let build_started = Instant::now();
    let mut steps = if args.golden {
        None
    } else {
        let rtl = build_verilated(&cfg, false, args.json)?;
        Some(Steps::new(rtl, decoder.image())?)
    };
    let rtl_build = build_started.elapsed().as_secs_f64();
    let mut golden_state = golden::SystemState::from_image(&cfg, decoder.image())?;

    if !args.json {
        let system = match cfg.system.chips {
            1 => String::new(),
            chips => format!(", {chips} chips, {}", cfg.system.topology),
        };
        println!(
            "{} on {}{system} ({}), {}:\n",
            model.name,
            config_name(&cfg),
            cfg.hash(),
            if args.golden {
                "the golden model".to_string()
            } else {
                "Verilator, every step checked against the golden model op by op".to_string()
            }
        );
        print!("{}", args.prompt);
        std::io::stdout().flush().ok();
    }
    let mut records = Vec::new();
    let mut simulation = 0.0;
    let run = |step: &Step, token: &MemImage| -> Result<Vec<Vec<i8>>> {
        let p = step.position;
        let (measured, logits) = match steps.as_mut() {
            Some(steps) => {
                let checked = steps.step(&step.program, token, step.cycles() + 1)?;
                simulation += checked.rtl_seconds;
                if !checked.mismatches.is_empty() {
                    let first: Vec<String> = checked
                        .mismatches
                        .iter()
                        .take(5)
                        .map(|m| m.to_string())
                        .collect();
                    bail!(
                        "position {p}: the RTL disagreed with the golden model ({} \
                         difference(s)); first:\n  {}",
                        checked.mismatches.len(),
                        first.join("\n  ")
                    );
                }
                let logits = decoder.logits(&checked.rtl.state.chips[0]);
                // The step ends with its last chip's halt.
                let cycles = checked.rtl.cycles.iter().copied().max().unwrap_or(0);
                (cycles, logits)
            }
            None => {
                let state = std::mem::replace(&mut golden_state, golden::SystemState::new(&cfg));
                let run = decoder.golden_step(state, step, token)?;
                golden_state = run.state;
                (
                    run.timeline.cycles(),
                    decoder.logits(&golden_state.chips[0]),
                )
            }
        };
        records.push(StepRecord {
            position: p,
            predicted: step.cycles(),
            measured,
            loaded_tiles: step.loaded_tiles,
        });
        Ok(logits)
    };
    // Sequence 0 streams; the others are printed at the end.
    let emit = |s: usize, t: usize| {
        if s == 0 && !args.json {
            print!("{}", decoder.symbols()[t]);
            std::io::stdout().flush().ok();
        }
    };
    let prompts = vec![prompt.clone(); args.batch];
    let generated = decoder.generate(&prompts, args.tokens, &mut samplers, run, emit)?;
    let texts: Vec<String> = generated
        .iter()
        .map(|g| g.iter().map(|t| decoder.symbols()[*t]).collect())
        .collect();
    let batch = args.batch as f64;

    let n = cfg.lanes() as u64;
    let steps_run = records.len() as u64;
    let mean =
        |f: fn(&StepRecord) -> u64| records.iter().map(f).sum::<u64>() as f64 / steps_run as f64;
    let (predicted, measured) = (mean(|r| r.predicted), mean(|r| r.measured));
    let loaded = mean(|r| r.loaded_tiles);
    let cycles_equal = records.iter().filter(|r| r.predicted == r.measured).count();
    // The busiest chip's weight tiles bound a step.
    let weight_tiles = decoder.weight_tiles_on_busiest_chip();
    let roofline = weight_tiles * (n + 1);
    let weight_macs = model.macs_per_sample() as f64;
    let chips = cfg.system.chips as f64;
    let utilization = batch * weight_macs / ((n * n) as f64 * chips * measured);
    let tokens_per_second = batch * clock.mhz() * 1e6 / measured;
    let (min, max) = (
        records.iter().map(|r| r.measured).min().unwrap_or(0),
        records.iter().map(|r| r.measured).max().unwrap_or(0),
    );
    let total = started.elapsed().as_secs_f64();
    let backend = if args.golden { "golden" } else { "verilator" };
    if args.json {
        let per_step: Vec<_> = records
            .iter()
            .map(|r| {
                json!({ "position": r.position, "predicted_cycles": r.predicted,
                        "measured_cycles": r.measured, "loaded_tiles": r.loaded_tiles })
            })
            .collect();
        let report = json!({
            "model": model.name,
            "config_name": cfg.name,
            "config_hash": cfg.hash().to_string(),
            "backend": backend,
            "prompt": args.prompt,
            "text": texts[0],
            "batch": args.batch,
            "texts": texts,
            "temperature": args.temperature,
            "seed": args.seed,
            "steps": steps_run,
            "bit_exact_steps": if args.golden { serde_json::Value::Null } else { json!(steps_run) },
            "cycles_equal_steps": cycles_equal,
            "cycles_per_step": { "predicted_mean": predicted, "measured_mean": measured,
                                 "min": min, "max": max },
            // A step is a token of each sequence.
            "cycles_per_token": { "predicted_mean": predicted / batch,
                                  "measured_mean": measured / batch,
                                  "min": min as f64 / batch, "max": max as f64 / batch },
            "chips": cfg.system.chips,
            "topology": cfg.system.topology.to_string(),
            "roofline": { "weight_tiles": weight_tiles, "cycles": roofline,
                          "ratio": measured / roofline as f64,
                          "loaded_tiles_mean": loaded,
                          "ratio_with_cache_tiles": measured / (loaded * (n + 1) as f64) },
            "matrix_utilization": utilization,
            "tokens_per_second": tokens_per_second,
            "clock": clock.to_json(),
            "seconds": { "rtl_build": rtl_build, "simulation": simulation, "total": total },
            "per_step": per_step,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("\n");
    // The other sequences of a batch, quoted (their newlines escaped) one a line.
    for (s, text) in texts.iter().enumerate().skip(1) {
        let whole = format!("{}{text}", args.prompt);
        println!("  sequence {s} (seed {}): {whole:?}", seed(s));
    }
    if args.batch > 1 {
        println!();
        println!(
            "  batch        {} sequences side by side: a step is a token of each",
            args.batch
        );
    }
    println!(
        "  steps        {steps_run} positions ({} of prompt, {} generated){}",
        prompt.len(),
        generated[0].len(),
        if args.golden {
            String::new()
        } else {
            format!("; all {steps_run} bit-exact against the golden model, op by op")
        }
    );
    println!(
        "  cycles/step  predicted {predicted:.0}, measured {measured:.0} ({cycles_equal}/{steps_run} \
         steps equal; {min} to {max} by position){}",
        if args.batch > 1 {
            format!("; {:.0} a token", measured / batch)
        } else {
            String::new()
        }
    );
    let whose = if cfg.system.chips > 1 {
        "the busiest chip's "
    } else {
        ""
    };
    println!(
        "  roofline     {whose}{weight_tiles} weight tiles x (N + 1) = {roofline} cycles: \
         {:.2}x; counting the cache's tiles too ({loaded:.0} loaded a step): {:.2}x",
        measured / roofline as f64,
        measured / (loaded * (n + 1) as f64)
    );
    println!(
        "  utilization  {:.1} % of the matrix units (batch x weight MACs / (chips x N x N x \
         cycles))",
        100.0 * utilization
    );
    println!(
        "  throughput   {tokens_per_second:.0} tokens/s at {}",
        clock.describe()
    );
    println!(
        "  wall time    {}{total:.2} s in all",
        if args.golden {
            String::new()
        } else {
            format!("RTL build {rtl_build:.2} s, simulation {simulation:.2} s, ")
        }
    );
    Ok(())
}

fn config_name(cfg: &HwConfig) -> String {
    cfg.name.clone().unwrap_or_else(|| "a custom config".into())
}

/// `--eval`: the int8 model on the golden model against the float model, on windows of a
/// full context evenly spaced over the held-out text.
fn eval(args: &GenerateArgs, model: &Model, cfg: &HwConfig, decoder: &Decoder) -> Result<()> {
    let (Input::Tokens(vocab), Some(TestSet::Text(text))) = (&model.input, &model.test) else {
        bail!(
            "{} has no held-out text to evaluate on ([test] text)",
            model.name
        );
    };
    let float = match &args.model {
        Some(dir) => FloatTransformer::load(dir.as_path(), vocab.symbols.len(), vocab.context),
        None => FloatTransformer::load(&CHARLM, vocab.symbols.len(), vocab.context),
    }
    .context("--eval compares with the float model, which the model directory must ship")?;
    let tokens = decoder.tokenize(text)?;
    let context = vocab.context;
    if tokens.len() <= context || args.eval_windows < 2 {
        bail!(
            "--eval needs at least two windows of {} characters and the characters after them",
            context
        );
    }
    // As the training script: numpy's linspace(0, len - context - 1, windows), truncated.
    let stop = (tokens.len() - context - 1) as f64;
    let starts: Vec<usize> = (0..args.eval_windows)
        .map(|i| (i as f64 * (stop / (args.eval_windows - 1) as f64)) as usize)
        .collect();
    let programs: Vec<Step> = (0..context)
        .map(|p| decoder.step(p))
        .collect::<Result<_, _>>()?;
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new((starts.len() * context) as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} positions on the golden model [{elapsed}]",
        )
        .expect("a valid template"),
    );
    let scale = decoder.logit_scale() as f64;
    let (mut int8_loss, mut float_loss, mut agree, mut positions) = (0.0, 0.0, 0usize, 0usize);
    for s in &starts {
        let window = &tokens[*s..s + context];
        let float_logits = float.logits(window);
        let mut state = golden::SystemState::from_image(cfg, decoder.image())?;
        for (p, step) in programs.iter().enumerate() {
            state = decoder
                .golden_step(state, step, &decoder.token_image(&[window[p]])?)?
                .state;
            let q = &decoder.logits(&state.chips[0])[0];
            let target = tokens[s + p + 1];
            let z: Vec<f64> = q.iter().map(|v| *v as f64 * scale).collect();
            let f: Vec<f64> = float_logits[p].iter().map(|v| *v as f64).collect();
            int8_loss += nll(&z, target);
            float_loss += nll(&f, target);
            agree += usize::from(argmax(q) == argmax(&float_logits[p]));
            positions += 1;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let (int8_loss, float_loss) = (int8_loss / positions as f64, float_loss / positions as f64);
    let agreement = agree as f64 / positions as f64;
    if args.json {
        let report = json!({
            "model": model.name,
            "config_name": cfg.name,
            "config_hash": cfg.hash().to_string(),
            "windows": starts.len(),
            "positions": positions,
            "float_loss": float_loss,
            "int8_loss": int8_loss,
            "loss_increase": int8_loss / float_loss - 1.0,
            "argmax_agreement": agreement,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} on {} ({}), the golden model: {} windows of {context} held-out characters, \
             {positions} positions",
            model.name,
            config_name(cfg),
            cfg.hash(),
            starts.len()
        );
        println!(
            "  next-character loss  float {float_loss:.4}, int8 {int8_loss:.4} nats ({:+.2} %)",
            100.0 * (int8_loss / float_loss - 1.0)
        );
        println!(
            "  argmax agreement     {:.2} % with the float model",
            100.0 * agreement
        );
    }
    Ok(())
}
