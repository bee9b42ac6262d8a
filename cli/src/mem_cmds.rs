//! `config` and `mem` subcommands: inspect configurations and memory images.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use isa::image::ParamEntry;
use isa::{HwConfig, MemImage, Region, Rows};
use serde_json::json;

use crate::inputs::{load_config, load_image, write_file, ConfigArgs};
use cosim::random::{random_image_filling, Fill};

#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// Validate a TOML config and print its summary and hash.
    Check {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Print a config (a preset by default) as TOML, a starting point for your own.
    Show {
        #[command(flatten)]
        config: ConfigArgs,
    },
}

pub fn config(cmd: &ConfigCmd) -> Result<()> {
    match cmd {
        ConfigCmd::Check { file, json } => {
            let cfg = load_config(file)?;
            let c = &cfg.chip;
            if *json {
                println!(
                    "{}",
                    json!({"ok": true, "hash": cfg.hash().to_string(), "n": c.n, "chips": cfg.system.chips,
                           "sram_bytes": sram_bytes(&cfg), "word_bits": isa::Layout::new(&cfg).word_bits,
                           "vector_lanes": c.vector_lanes(), "vector_latency": c.vector_latency,
                           "registered_products": c.registered_products,
                           "mma_latency": isa::timing::Datapath::Mma.latency(&cfg),
                           "registered_accumulate": c.registered_accumulate,
                           "registered_reads": c.registered_reads,
                           "registered_requests": c.registered_requests,
                           "registered_bank_requests": c.registered_bank_requests,
                           "registered_bank_reads": c.registered_bank_reads,
                           "imem_fetch_cycles": c.imem_fetch_cycles,
                           "imem_line_bits": isa::Layout::new(&cfg).line_bits,
                           "missing_ops": isa::Opcode::ALL.iter().filter(|op| !cfg.implements(**op))
                               .map(|op| op.spec().mnemonic).collect::<Vec<_>>()})
                );
            } else {
                println!("{}: valid (config {})", file.display(), cfg.hash());
                println!(
                    "  matrix unit {n}x{n}, {} SRAM banks x {} rows ({} KiB), {} acc banks x {} rows",
                    c.sram_banks,
                    c.sram_depth,
                    sram_bytes(&cfg) / 1024,
                    c.acc_banks,
                    c.acc_depth,
                    n = c.n
                );
                println!(
                    "  matrix unit products {}, {} cycles from a row's read to its result's write, \
                     accumulate read {} cycle(s) ahead",
                    if c.registered_products {
                        "registered (operands and product)"
                    } else {
                        "combinational"
                    },
                    isa::timing::Datapath::Mma.latency(&cfg),
                    c.accumulate_read_ahead()
                );
                let layout = isa::Layout::new(&cfg);
                println!(
                    "  {} lookup tables, {} parameter entries, {} instructions of {} bits",
                    c.lut_tables, c.param_depth, c.imem_depth, layout.word_bits
                );
                if c.imem_fetch_cycles > 1 {
                    println!(
                        "  instructions read over {} cycles as {}-bit lines: they issue at least {} \
                         cycles apart",
                        c.imem_fetch_cycles,
                        layout.line_bits,
                        isa::timing::issue_interval(&cfg)
                    );
                }
                println!(
                    "  vector unit: {} lane(s) a cycle, a row every {} cycle(s), {} cycles from its read to its write",
                    c.vector_lanes(),
                    c.vector_interval(),
                    isa::timing::Datapath::Vector.latency(&cfg)
                );
                let missing: Vec<String> = isa::Opcode::ALL
                    .iter()
                    .filter_map(|op| cfg.missing_unit(*op))
                    .map(|m| format!("{} ({})", m.unit.trim_start_matches("the "), m.setting))
                    .collect();
                if !missing.is_empty() {
                    println!("  left out: {}", missing.join(", "));
                }
                println!(
                    "  system: {} chip(s), {:?}, link latency {}",
                    cfg.system.chips, cfg.system.topology, cfg.system.link_latency
                );
            }
            Ok(())
        }
        ConfigCmd::Show { config } => {
            print!("{}", config.load()?.to_toml());
            Ok(())
        }
    }
}

fn sram_bytes(cfg: &HwConfig) -> u64 {
    let c = &cfg.chip;
    c.sram_banks as u64 * c.sram_depth as u64 * c.n as u64
}

#[derive(Subcommand, Debug)]
pub enum MemCmd {
    /// Print the rows of a memory image (all-zero rows are skipped unless --all).
    Show {
        image: PathBuf,
        #[command(flatten)]
        config: ConfigArgs,
        /// Also print rows that are all zero.
        #[arg(long)]
        all: bool,
    },
    /// Write an image of seeded random data (SRAM, accumulators, tables, valid parameters).
    Random {
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[derive(Args, Debug)]
pub struct MemArgs {
    #[command(subcommand)]
    pub cmd: MemCmd,
}

pub fn mem(cmd: &MemCmd) -> Result<()> {
    match cmd {
        MemCmd::Show { image, config, all } => {
            let cfg = config.load()?;
            let image = load_image(image, &cfg)?;
            print!("{}", render(&image, cfg.lanes(), *all));
            Ok(())
        }
        MemCmd::Random {
            output,
            seed,
            config,
        } => {
            let cfg = config.load()?;
            let image = random_image_filling(&cfg, *seed, Fill::Whole);
            write_file(output, &image.to_bytes(&cfg))?;
            eprintln!(
                "wrote {} (config {}, seed {seed})",
                output.display(),
                cfg.hash()
            );
            Ok(())
        }
    }
}

fn render(image: &MemImage, lanes: usize, all: bool) -> String {
    let mut out = String::new();
    let list = |v: &[i32]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    for chunk in &image.chunks {
        let c = chunk.chip;
        let row_lines: Vec<(String, Vec<i32>)> = match (&chunk.rows, chunk.region) {
            (Rows::I8(v), Region::Sram { bank }) => v
                .chunks(lanes)
                .enumerate()
                .map(|(i, r)| {
                    (
                        format!("chip {c} sram{bank}[{}]", chunk.start as usize + i),
                        r.iter().map(|x| *x as i32).collect(),
                    )
                })
                .collect(),
            (Rows::I32(v), Region::Acc { bank }) => v
                .chunks(lanes)
                .enumerate()
                .map(|(i, r)| {
                    (
                        format!("chip {c} acc{bank}[{}]", chunk.start as usize + i),
                        r.to_vec(),
                    )
                })
                .collect(),
            (Rows::I32(v), Region::Lut { table }) => v
                .chunks(16)
                .enumerate()
                .map(|(i, r)| {
                    (
                        format!("chip {c} lut{table}[{}..]", chunk.start as usize + 16 * i),
                        r.to_vec(),
                    )
                })
                .collect(),
            (Rows::Params(p), _) => {
                for (i, e) in p.iter().enumerate() {
                    if all || *e != ParamEntry::zero(lanes) {
                        out.push_str(&format!(
                            "chip {c} param[{}]: bias {} | mult {} | shift {} | zp {} clamp [{}, {}]\n",
                            chunk.start as usize + i,
                            list(&e.bias),
                            list(&e.multiplier),
                            list(&e.shift.iter().map(|s| *s as i32).collect::<Vec<_>>()),
                            e.zero_point,
                            e.act_min,
                            e.act_max
                        ));
                    }
                }
                continue;
            }
            _ => unreachable!("images are validated on load"),
        };
        for (name, lanes) in row_lines {
            if all || lanes.iter().any(|x| *x != 0) {
                out.push_str(&format!("{name}: {}\n", list(&lanes)));
            }
        }
    }
    out
}
