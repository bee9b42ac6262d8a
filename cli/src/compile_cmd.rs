//! `metronome compile`: a model -> program, memory image and predicted cycle count.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use compiler::{compile, max_batch, Compiled, TensorLayout};
use isa::format_instr;
use serde_json::json;

use crate::inputs::{load_model, write_file, ConfigArgs};

#[derive(Args, Debug)]
pub struct CompileArgs {
    /// Model directory (model.toml + .npy tensors) or int8 .tflite file (default: the
    /// built-in digits MLP).
    #[arg(value_name = "DIR|FILE.tflite")]
    pub model: Option<PathBuf>,
    /// Output directory: program.mtp, program.s (annotated with issue cycles), image.mtm
    /// (weights, parameters and the first batch of test samples) and compiled.json.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Samples per program (default: as many as fit the chip, at most 1024).
    #[arg(long, value_name = "B", value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: Option<u32>,
    /// Print the schedule: a per-unit timeline and every instruction's issue cycle.
    #[arg(long)]
    pub schedule: bool,
    /// Machine-readable summary on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn compile_cmd(args: &CompileArgs) -> Result<()> {
    let cfg = args.config.load()?;
    let model = load_model(args.model.as_ref())?;
    let batch = match args.batch {
        Some(b) => b,
        None => max_batch(&model, &cfg, 1024)
            .with_context(|| format!("compiling {} for this config", model.name))?,
    };
    let compiled = compile(&model, &cfg, batch)
        .with_context(|| format!("compiling {} for a batch of {batch}", model.name))?;
    let inputs: Vec<Vec<i8>> = model.samples().map_or_else(Vec::new, |t| {
        t.inputs
            .iter()
            .take(batch as usize)
            .map(|x| model.quantize_input(x))
            .collect()
    });
    let image = compiled.image(&inputs)?;

    let dir = &args.output;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_file(&dir.join("program.mtp"), &compiled.program.to_bytes(&cfg)?)?;
    write_file(&dir.join("program.s"), listing(&compiled).as_bytes())?;
    write_file(&dir.join("image.mtm"), &image.to_bytes(&cfg))?;
    let summary = summary(&compiled, &model.name, inputs.len());
    write_file(
        &dir.join("compiled.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "compiled {} for {} (config {}), batch {batch}: {} instructions, {} cycles predicted \
             ({:.1} per inference), matrix unit {:.1} % utilized",
            model.name,
            cfg.name.as_deref().unwrap_or("custom config"),
            cfg.hash(),
            compiled.program.len(),
            compiled.cycles(),
            compiled.cycles() as f64 / batch as f64,
            100.0 * compiled.utilization()
        );
        println!(
            "wrote {}/{{program.mtp, program.s, image.mtm, compiled.json}}; run it with \
             `metronome sim {0}/program.mtp --mem {0}/image.mtm{}`",
            dir.display(),
            config_flag(&args.config)
        );
    }
    if args.schedule {
        for (chip, schedule) in compiled.schedules.iter().enumerate() {
            if compiled.schedules.len() > 1 {
                println!("\nchip {chip}");
            }
            println!("\n{}", schedule.chart(96));
        }
        print!("{}", listing(&compiled));
    }
    Ok(())
}

fn config_flag(c: &ConfigArgs) -> String {
    match (&c.preset, &c.config) {
        (_, Some(path)) => format!(" --config {}", path.display()),
        (Some(p), None) => format!(" --preset {p}"),
        (None, None) => String::new(),
    }
}

/// The program as assembler text, each line annotated with its issue cycle and unit.
fn listing(c: &Compiled) -> String {
    let mut out = format!(
        "# {} instructions, batch {}, {} cycles (predicted; config {})\n",
        c.program.len(),
        c.batch,
        c.cycles(),
        c.cfg.hash()
    );
    for (chip, instrs) in c.program.chips.iter().enumerate() {
        if c.program.chips.len() > 1 {
            out.push_str(&format!(".chip {chip}\n"));
        }
        let mut cycle = 0u64;
        for instr in instrs {
            cycle += instr.delay as u64;
            let text = format_instr(instr);
            let unit = instr.op.unit().name();
            out.push_str(&format!("{text:<64} # cycle {cycle:>7}  {unit}\n"));
        }
    }
    out
}

fn layout_json(t: &TensorLayout) -> serde_json::Value {
    json!({
        "features": t.features,
        "chunk": t.chunk,
        "chunks": t.chunks,
        "blocks": t.blocks.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
    })
}

fn summary(c: &Compiled, model: &str, samples_in_image: usize) -> serde_json::Value {
    json!({
        "model": model,
        "config": c.cfg.name,
        "config_hash": c.cfg.hash().to_string(),
        "batch": c.batch,
        "samples_in_image": samples_in_image,
        "instructions": c.program.len(),
        "cycles": c.cycles(),
        "cycles_per_inference": c.cycles() as f64 / c.batch as f64,
        "useful_macs": c.useful_macs,
        "matrix_unit_utilization": c.utilization(),
        "chips": c.cfg.system.chips,
        "topology": c.cfg.system.topology.to_string(),
        "most_instructions_on_a_chip": c.program.chips.iter().map(Vec::len).max().unwrap_or(0),
        // Cycles each execution unit is busy, summed over the chips (the sequencer issues one
        // instruction a cycle).
        "unit_busy": isa::Unit::ALL
            .iter()
            .filter(|u| **u != isa::Unit::Sequencer)
            .map(|u| (u.name().to_string(), json!(c.busy(*u))))
            .collect::<serde_json::Map<_, _>>(),
        "layout": {
            "note": "sample s, feature f: block (f / N) * chunks + s / chunk, row s mod chunk, lane f mod N",
            "input": layout_json(&c.input),
            "output": layout_json(&c.output),
        },
    })
}
