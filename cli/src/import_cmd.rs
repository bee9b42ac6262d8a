//! `metronome import`: an int8 `.tflite` model -> a model directory (format 1), with a
//! summary of what each operator became.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use compiler::model::{Layer, Source};
use serde_json::json;

use crate::inputs::import_tflite;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The int8 TFLite model (full integer quantization; `docs/tflite.md` lists the operators).
    #[arg(value_name = "MODEL.tflite")]
    pub model: PathBuf,
    /// The model directory to write (default: the file's name without `.tflite`, in the
    /// current directory, other characters than letters, digits and '-' made '_').
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace DIR if it exists.
    #[arg(long)]
    pub force: bool,
    /// Machine-readable summary on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn import(args: &ImportArgs) -> Result<()> {
    let imported = import_tflite(&args.model)?;
    let model = &imported.model;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(&model.name));
    let files = model.files().map_err(anyhow::Error::msg)?;
    write_dir(&out, &files, args.force)?;
    let graph = model.feature_graph().map_err(anyhow::Error::msg)?;
    let source_name = |s: Source| model.tensor_name(s).to_string();
    let layers: Vec<serde_json::Value> = model
        .layers
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let quant = graph.quant(Source::Layer(l));
            let (reads, detail) = match layer {
                Layer::Dense(d) => (
                    vec![source_name(d.input)],
                    format!(
                        "{} -> {}, {}, weights per {}",
                        d.inputs,
                        d.outputs,
                        d.activation.name(),
                        if d.weight_scales.len() == 1 {
                            "tensor"
                        } else {
                            "channel"
                        }
                    ),
                ),
                Layer::Table(t) => (vec![source_name(t.input)], "table of 256".to_string()),
                Layer::Elementwise(e) => (
                    e.inputs.iter().map(|s| source_name(*s)).collect(),
                    e.activation.name().to_string(),
                ),
                _ => unreachable!("an imported model has feature layers"),
            };
            json!({
                "name": layer.name(),
                "kind": layer.kind(),
                "reads": reads,
                "values": graph.width(Source::Layer(l)),
                "detail": detail,
                "output_scale": quant.scale,
                "output_zero_point": quant.zero_point,
            })
        })
        .collect();
    if args.json {
        let summary = json!({
            "model": model.name,
            "from": args.model,
            "directory": out,
            "float_input": imported.float_input,
            "float_output": imported.float_output,
            "input": {
                "values": graph.features,
                "scale": graph.input.scale,
                "zero_point": graph.input.zero_point,
            },
            "layers": layers,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    println!(
        "{} -> {} ({}, {} layers)",
        args.model.display(),
        out.display(),
        compiler::model::FORMATS[0],
        model.layers.len()
    );
    println!(
        "  {:<8} {:<16} {:>6}  scale {} zero point {}{}",
        "input",
        "",
        graph.features,
        graph.input.scale,
        graph.input.zero_point,
        if imported.float_input {
            " (the .tflite takes float32 and quantizes it so: `run --inputs` takes either)"
        } else {
            ""
        }
    );
    for l in &layers {
        println!(
            "  {:<8} {:<16} {:>6}  scale {} zero point {}  [{}; reads {}]",
            l["name"].as_str().unwrap_or_default(),
            l["kind"].as_str().unwrap_or_default(),
            l["values"],
            l["output_scale"],
            l["output_zero_point"],
            l["detail"].as_str().unwrap_or_default(),
            l["reads"]
                .as_array()
                .map(|r| r
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        );
    }
    if imported.float_output {
        println!("  the .tflite dequantizes its output to float32: `run --dequantize` does too");
    }
    Ok(())
}

/// Writes `files` as directory `out`, all at once: into a sibling directory first, renamed
/// into place, so an interrupted import leaves no half model. An existing `out` is replaced
/// only with `force`, and only if it is a model directory (it holds `model.toml`); it is
/// restored if the new one cannot take its place.
fn write_dir(out: &Path, files: &[(String, Vec<u8>)], force: bool) -> Result<()> {
    let replacing = out.exists() || out.is_symlink();
    if replacing && !force {
        bail!(
            "{} exists; choose another --out or pass --force to replace it",
            out.display()
        );
    }
    if replacing && !out.join("model.toml").is_file() {
        bail!(
            "{} exists and is not a model directory (no model.toml): not replacing it",
            out.display()
        );
    }
    let name = out.file_name().unwrap_or_default().to_string_lossy();
    let sibling = |what: &str| out.with_file_name(format!(".{name}.{what}-{}", std::process::id()));
    let (tmp, old) = (sibling("tmp"), sibling("old"));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&tmp)?;
        for (file, bytes) in files {
            std::fs::write(tmp.join(file), bytes)?;
        }
        if !replacing {
            return std::fs::rename(&tmp, out);
        }
        std::fs::rename(out, &old)?;
        if let Err(e) = std::fs::rename(&tmp, out) {
            std::fs::rename(&old, out)?;
            return Err(e);
        }
        std::fs::remove_dir_all(&old)
    };
    write()
        .inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&tmp);
        })
        .with_context(|| format!("cannot write the model directory {}", out.display()))
}
