//! `metronome synth`: place and route the chip on an FPGA and report what it takes and how
//! fast it runs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use fpga::{Device, Options, Synthesized};
use isa::HwConfig;

use crate::inputs::ConfigArgs;
use crate::spinner::spinner;

#[derive(Args, Debug)]
pub struct SynthArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The FPGA, for the chip alone (its host port on a few pins): up5k (iCE40 UP5K,
    /// iCEBreaker), ecp5-25f, ecp5-45f or ecp5-85f (ECP5 on a ULX3S).
    #[arg(
        long,
        value_name = "DEVICE",
        required_unless_present = "board",
        conflicts_with = "board"
    )]
    pub device: Option<String>,
    /// The board, for a bitstream to load onto it: the chip with a PLL, a UARTBone bridge on
    /// the board's serial line and its LEDs: icebreaker, ulx3s-85f, ulx3s-45f or ulx3s-25f.
    #[arg(long, value_name = "BOARD")]
    pub board: Option<String>,
    /// The serial line's rate on a board, 115200 to 3000000 baud.
    #[arg(long, default_value_t = fpga::DEFAULT_BAUD, requires = "board")]
    pub baud: u32,
    /// The clock to ask of place and route, in MHz (default: 30 on the UP5K, 60 on ECP5); on
    /// a board, the PLL's nearest.
    #[arg(long, value_name = "MHZ")]
    pub clock_mhz: Option<f64>,
    /// nextpnr's placer: heap (its default) or, on ECP5, static (electrostatic; it placed the
    /// ULX3S board top of small with 30 % less wire).
    #[arg(long, value_name = "PLACER", default_value = "heap")]
    pub placer: String,
    /// nextpnr's placement seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u32,
    /// Also copy the report, the tools' logs, the timing report and the bitstream into DIR.
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Machine-readable output (the report as JSON, with the cache entry).
    #[arg(long)]
    pub json: bool,
}

/// Parses `--device`, with the list of devices on error.
pub fn device(name: &str) -> Result<Device> {
    Device::named(name).map_err(anyhow::Error::msg)
}

/// Runs the flow (or takes it from the cache) with a spinner naming each step.
pub fn synthesize(cfg: &HwConfig, options: &Options, quiet: bool) -> Result<Synthesized> {
    let spinner = spinner("generating the RTL".into(), quiet);
    let result = fpga::synthesize(cfg, options, &mut |step| {
        spinner.set_message(step.to_string())
    });
    spinner.finish_and_clear();
    Ok(result?)
}

pub fn synth(args: &SynthArgs) -> Result<()> {
    let cfg = args.config.load()?;
    let board = match &args.board {
        Some(name) => Some(fpga::OnBoard {
            board: fpga::Board::named(name).map_err(anyhow::Error::msg)?,
            baud: args.baud,
        }),
        None => None,
    };
    let device = match (&args.device, &board) {
        (Some(name), _) => device(name)?,
        (None, Some(b)) => b.board.device(),
        (None, None) => bail!("give --device or --board"),
    };
    if let Some(mhz) = args.clock_mhz {
        if !(mhz.is_finite() && mhz > 0.0 && mhz <= 1000.0) {
            bail!("--clock-mhz {mhz}: give a clock between 0 and 1000 MHz");
        }
    }
    let options = Options {
        device,
        board,
        clock_mhz: args.clock_mhz,
        placer: fpga::Placer::named(&args.placer).map_err(anyhow::Error::msg)?,
        seed: args.seed,
        cache_root: dircache::root()
            .context("no cache directory for synthesis results: set METRONOME_CACHE_DIR or HOME")?,
    };
    let done = synthesize(&cfg, &options, args.json)?;
    if let Some(out) = &args.out {
        copy_entry(&done.entry, out)?;
    }
    let report = &done.report;
    if args.json {
        let mut value = serde_json::to_value(report)?;
        value["passes"] = report.passes().into();
        value["cached"] = done.cached.into();
        value["entry"] = done.entry.display().to_string().into();
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", report.table());
        let source = if done.cached {
            "from the cache"
        } else {
            "built into the cache"
        };
        println!("results {source}: {}", done.entry.display());
    }
    if let Some(why) = report.failure() {
        bail!("{why}");
    }
    Ok(())
}

/// Copies the cache entry's files into `out`, each through a temporary name.
fn copy_entry(entry: &Path, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for file in std::fs::read_dir(entry)? {
        let path = file?.path();
        let Some(name) = path.file_name() else {
            continue;
        };
        if !path.is_file() || name == "MANIFEST" {
            continue;
        }
        let tmp = out.join(format!(".{}.tmp", name.to_string_lossy()));
        std::fs::copy(&path, &tmp).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, out.join(name))?;
    }
    Ok(())
}
