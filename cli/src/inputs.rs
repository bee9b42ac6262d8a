//! Reading the user's inputs: configs, programs (text or binary), memory images.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use compiler::Model;
use isa::asm::SourceLines;
use isa::{assemble_with_lines, looks_binary, HwConfig, MemImage, Program};

/// Which hardware configuration to use.
#[derive(Args, Debug, Clone)]
pub struct ConfigArgs {
    /// A named preset: up5k (N=2, for the iCE40 UP5K), tiny (N=4), small (N=8), medium (N=16),
    /// large (N=32), lm (N=8) and lm16 (N=16), sized for the language model.
    #[arg(long, value_name = "NAME", conflicts_with = "config")]
    pub preset: Option<String>,
    /// A TOML configuration file (see `metronome config show` for the format).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ConfigArgs {
    /// The chosen config; `small` when neither flag is given.
    pub fn load(&self) -> Result<HwConfig> {
        match (&self.preset, &self.config) {
            (_, Some(path)) => load_config(path),
            (Some(name), None) => Ok(HwConfig::preset(name)?),
            (None, None) => Ok(HwConfig::default_preset()),
        }
    }
}

pub fn load_config(path: &Path) -> Result<HwConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    HwConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))
}

/// A program and, when it came from text, the source line of each instruction.
pub struct LoadedProgram {
    pub program: Program,
    pub lines: Option<SourceLines>,
}

impl LoadedProgram {
    /// `chip C instruction I (line L)` for messages.
    pub fn locate(&self, chip: u32, index: usize) -> String {
        match self.line(chip, index) {
            Some(l) => format!("chip {chip} instruction {index} (line {l})"),
            None => format!("chip {chip} instruction {index}"),
        }
    }
    pub fn line(&self, chip: u32, index: usize) -> Option<usize> {
        self.lines.as_ref()?.get(chip as usize)?.get(index).copied()
    }
}

/// Reads a program file: the binary format (starts with `MTNP`) or assembler text.
pub fn load_program(path: &Path, cfg: &HwConfig) -> Result<LoadedProgram> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read program {}", path.display()))?;
    if looks_binary(&bytes) {
        let program =
            Program::from_bytes(&bytes, cfg).with_context(|| format!("in {}", path.display()))?;
        return Ok(LoadedProgram {
            program,
            lines: None,
        });
    }
    let Ok(text) = String::from_utf8(bytes) else {
        bail!(
            "{} is neither a program file (MTNP) nor UTF-8 assembler text",
            path.display()
        );
    };
    let (program, lines) =
        assemble_with_lines(&text).with_context(|| format!("in {}", path.display()))?;
    Ok(LoadedProgram {
        program,
        lines: Some(lines),
    })
}

pub fn load_image(path: &Path, cfg: &HwConfig) -> Result<MemImage> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read memory image {}", path.display()))?;
    MemImage::from_bytes(&bytes, cfg).with_context(|| format!("in {}", path.display()))
}

/// The int8 TFLite model in file `path`, imported; named after the file.
pub fn import_tflite(path: &Path) -> Result<tflite::Imported> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    tflite::import(&bytes, &name).with_context(|| format!("importing {}", path.display()))
}

/// Writes a file through a temporary file and a rename, so an interrupted write never leaves
/// a half file under the name; names the file in the error.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The model at `path`: a model directory (or its `model.toml`), or an int8 `.tflite` file
/// imported.
pub fn read_model(path: &Path) -> Result<Model> {
    let dir = match path.file_name() {
        Some(name) if name == "model.toml" && path.is_file() => path.parent().unwrap_or(path),
        _ if path.is_file() => return Ok(import_tflite(path)?.model),
        _ => path,
    };
    Model::load(dir).with_context(|| format!("in the model {}", dir.display()))
}

/// The feature model at `path` ([`read_model`]), or the built-in digits MLP; a token model is
/// refused with the command that runs it.
pub fn load_model(path: Option<&PathBuf>) -> Result<Model> {
    let model = match path {
        Some(path) => read_model(path)?,
        None => Model::digits(),
    };
    if let compiler::model::Input::Tokens(_) = model.input {
        bail!(
            "{} is a token model (metronome-model/2): `metronome generate` decodes it; this \
             command takes feature models",
            model.name
        );
    }
    Ok(model)
}
