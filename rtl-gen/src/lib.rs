//! The Metronome RTL generator: a [`HwConfig`] in, synthesizable Verilog-2005 out.
//!
//! The generator runs named passes: **elaborate** (one generator function per block builds a
//! typed syntax tree, [`ast`]), **check** (every instance connects every port of a module that
//! exists), then **emit** ([`emit`]: one module per file, a header with the generator version
//! and config hash, no dates, so the same config always gives the same bytes). Beside the
//! Verilog it writes `metronome.json`, a [descriptor](descriptor) other tools use to refuse a
//! mismatched model.
//!
//! The blocks follow the cycle contract of [`isa::timing`] exactly; the host port is
//! documented in [`host_map`].
//!
//! ```
//! let cfg = isa::HwConfig::preset("tiny").unwrap();
//! let design = rtl_gen::generate(&cfg).unwrap();
//! assert!(design.files.iter().any(|f| f.name == "mtn_chip.v"));
//! assert_eq!(design.top, "mtn_chip");
//! ```

pub mod ast;
mod blocks;
pub mod board;
pub mod cells;
mod check;
pub mod ctx;
pub mod descriptor;
pub mod emit;
mod hier;
pub mod host_map;
mod packed;
mod pipeline;
pub mod uartbone;
pub mod yosys;

pub use blocks::bus::{MemPort, Reach};
pub use cells::Cells;
pub use hier::{instance_counts, memory_bits};

use std::path::Path;

use isa::{ConfigError, HwConfig, Unit};

use crate::ast::Module;
use crate::blocks::*;
use crate::ctx::Ctx;

/// The generator's version, written into every file header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why nothing was generated.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("generator bug: the elaborated design fails its structural check:\n  {}", .0.join("\n  "))]
    Check(Vec<String>),
    #[error(
        "a system of {0} chips cannot be placed as one FPGA design: give a single-chip config \
         (system.chips = 1)"
    )]
    SystemOnFpga(u32),
    #[error(transparent)]
    Board(#[from] board::BoardError),
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// A deliberate bug the generator can plant, to prove that its checks catch bugs: the
/// co-simulation, or the generator's own structural check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `VOP add` results have bit 0 of lane 1 flipped (the co-simulation catches it).
    VopAddBitFlip,
    /// The vector pipeline is built one stage short of `isa::timing` (generation fails).
    ShortVectorPipeline,
}

impl Fault {
    pub const ALL: [Fault; 2] = [Fault::VopAddBitFlip, Fault::ShortVectorPipeline];

    pub fn name(self) -> &'static str {
        match self {
            Fault::VopAddBitFlip => "vop-add-bit-flip",
            Fault::ShortVectorPipeline => "short-vector-pipeline",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Fault::VopAddBitFlip => "VOP add results have bit 0 of lane 1 flipped",
            Fault::ShortVectorPipeline => "the vector pipeline is one stage short",
        }
    }
}

/// One output file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub text: String,
}

/// A generated design: its modules (leaves first) and their files.
#[derive(Clone, Debug)]
pub struct Design {
    pub config: HwConfig,
    /// The bug planted in this design, if any.
    pub fault: Option<Fault>,
    /// `mtn_chip`, or `mtn_system` for more than one chip.
    pub top: &'static str,
    pub modules: Vec<Module>,
    pub files: Vec<File>,
}

/// Elaborates every block of `cfg` (validated first) into modules, leaves first, on the
/// hand-written `cells`.
pub fn elaborate(
    cfg: &HwConfig,
    fault: Option<Fault>,
    cells: Cells,
) -> Result<Vec<Module>, GenError> {
    cfg.validate()?;
    let mut ctx = Ctx::new(cfg);
    ctx.fault = fault;
    // The blocks of units a chip may lack.
    let optional =
        |unit, block: fn(&Ctx) -> Module| chip::has_unit(&ctx, unit).then(|| block(&ctx));
    let registered = cfg.chip.registered_products;
    let mut modules: Vec<Module> = [
        Some(prims::ram_sp()),
        (cfg.chip.imem_fetch_cycles > 1).then(prims::ram_sp_undef),
        Some(prims::ram_1r1w()),
        Some(prims::stream()),
        Some(prims::delay()),
        registered.then(|| cells::Cell::Mul8x8x2.module(cells)),
        registered.then(|| cells::Cell::Mul16x16.module(cells)),
        Some(mxu::pe(&ctx)),
        Some(mxu::array(&ctx)),
        Some(mxu::mxu(&ctx)),
        Some(vector::vector(&ctx)),
        optional(Unit::Permute, permute::permute),
        optional(Unit::Memory, permute::move_unit),
        Some(memory::memory(&ctx, &chip::mem_ports(&ctx))),
        Some(tables::tables(&ctx)),
        Some(host::host(&ctx)),
        Some(seq::decode(&ctx)),
        Some(seq::seq(&ctx)),
        optional(Unit::Router, router::router),
    ]
    .into_iter()
    .flatten()
    .collect();
    let chip = chip::chip(&ctx);
    if ctx.multi_chip() {
        let system = chip::system(&ctx, &chip);
        modules.push(chip);
        modules.push(system);
    } else {
        modules.push(chip);
    }
    let mut problems = check::check(&modules);
    problems.extend(check::latencies(&modules, &ctx));
    if !problems.is_empty() {
        return Err(GenError::Check(problems));
    }
    Ok(modules)
}

/// Elaborates, checks and prints `cfg`'s design: one `<module>.v` per module and
/// `metronome.json`.
pub fn generate(cfg: &HwConfig) -> Result<Design, GenError> {
    generate_with_fault(cfg, None)
}

/// [`generate`], with a bug planted (`Some`): for testing the co-simulation, never for use.
/// The file headers and the descriptor say which.
pub fn generate_with_fault(cfg: &HwConfig, fault: Option<Fault>) -> Result<Design, GenError> {
    generate_on(cfg, fault, Cells::Portable)
}

/// [`generate_with_fault`] on the hand-written `cells` of a vendor: the design a flow
/// synthesizes, for simulating its netlist against the golden model.
pub fn generate_on(cfg: &HwConfig, fault: Option<Fault>, cells: Cells) -> Result<Design, GenError> {
    let modules = elaborate(cfg, fault, cells)?;
    let top = if cfg.system.chips > 1 {
        "mtn_system"
    } else {
        "mtn_chip"
    };
    Ok(assemble(cfg, fault, top, modules))
}

/// Refuses a system of chips, which no FPGA design holds.
pub fn single_chip(cfg: &HwConfig) -> Result<(), GenError> {
    match cfg.system.chips {
        1 => Ok(()),
        chips => Err(GenError::SystemOnFpga(chips)),
    }
}

/// The design an FPGA flow places and routes: `cfg`'s chip on `cells` under `mtn_fpga_top`,
/// which puts the host port behind shift registers on a few pins and leaves the trace open.
pub fn generate_fpga(cfg: &HwConfig, cells: Cells) -> Result<Design, GenError> {
    single_chip(cfg)?;
    let mut modules = elaborate(cfg, None, cells)?;
    let chip = modules.last().expect("the chip is elaborated last");
    let top = fpga::fpga_top(&Ctx::new(cfg), chip);
    modules.push(cells::Cell::Global.module(cells));
    modules.push(top);
    Ok(assemble(cfg, None, "mtn_fpga_top", modules))
}

/// The design that goes onto a board: `cfg`'s chip on `cells` under `mtn_board_top`, which
/// makes its clock with the board's PLL (none in `top`: the oscillator's clock, for
/// simulation) and puts its host port behind a UARTBone bridge ([`uartbone`]) on the
/// board's serial line.
pub fn generate_board(
    cfg: &HwConfig,
    top: &board::BoardTop,
    cells: Cells,
) -> Result<Design, GenError> {
    single_chip(cfg)?;
    let cycles_per_bit = top.cycles_per_bit()?;
    let ctx = Ctx::new(cfg);
    let mut modules = elaborate(cfg, None, cells)?;
    let chip = modules.last().expect("the chip is elaborated last");
    let board = board_top::board(&ctx, top, chip);
    let pll = top.pll.map(|p| match p {
        board::Pll::Ice40(_) => cells::Cell::Ice40Pll,
        board::Pll::Ecp5(_) => cells::Cell::Ecp5Pll,
    });
    modules.extend(
        [
            Some(uart::uart_rx(cycles_per_bit)),
            Some(uart::uart_tx(cycles_per_bit)),
            Some(bridge::uartbone(&ctx, top.timeout_cycles())),
            Some(board_top::reset_sync()),
            Some(cells::Cell::Global.module(cells)),
            pll.map(|c| c.module(cells)),
            Some(board),
            Some(board_top::board_top(top)),
        ]
        .into_iter()
        .flatten(),
    );
    let problems = check::check(&modules);
    if !problems.is_empty() {
        return Err(GenError::Check(problems));
    }
    Ok(assemble(cfg, None, "mtn_board_top", modules))
}

/// Prints `modules` (with `top` last) into a design's files.
fn assemble(
    cfg: &HwConfig,
    fault: Option<Fault>,
    top: &'static str,
    modules: Vec<Module>,
) -> Design {
    let mut header = vec![
        format!("Generated by metronome rtl-gen {VERSION}. Do not edit: regenerate with `metronome gen`."),
        format!(
            "Config {} ({}).",
            cfg.hash(),
            cfg.name.as_deref().unwrap_or("unnamed")
        ),
    ];
    if let Some(f) = fault {
        header.push(format!(
            "FAULT INJECTED ({}): {}. For testing the checker only.",
            f.name(),
            f.describe()
        ));
    }
    let mut files: Vec<File> = modules
        .iter()
        .map(|m| File {
            name: format!("{}.v", m.name),
            text: emit::module(m, &header),
        })
        .collect();
    files.push(File {
        name: descriptor::FILE_NAME.into(),
        text: descriptor::descriptor(&Ctx::new(cfg), top, &modules, fault),
    });
    Design {
        config: cfg.clone(),
        fault,
        top,
        modules,
        files,
    }
}

impl Design {
    /// The write ports the retirement trace reports (`trace_<name>_wr_*`): every port a
    /// program writes through.
    pub fn traced_writes(&self) -> Vec<MemPort> {
        chip::traced_writes(&Ctx::new(&self.config))
    }

    /// The units whose completions the trace reports (`trace_<unit>_retire_o`, named by
    /// [`isa::Unit::ident`]; the router's also names the transfer's source chip in
    /// `trace_router_retire_chip_o`).
    pub fn units(&self) -> Vec<isa::Unit> {
        chip::units(&Ctx::new(&self.config))
    }

    /// The Verilog files, leaves first (the order a tool reads them in).
    pub fn verilog_files(&self) -> impl Iterator<Item = &File> {
        self.files.iter().filter(|f| f.name.ends_with(".v"))
    }

    /// Writes every file into `dir` (created if missing). Each file is written to a temporary
    /// name and renamed, so an interrupted run never leaves a half-written file.
    pub fn write_to(&self, dir: &Path) -> Result<(), GenError> {
        let io = |path: &Path, source| GenError::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        for f in &self.files {
            let path = dir.join(&f.name);
            let tmp = dir.join(format!(".{}.tmp", f.name));
            std::fs::write(&tmp, &f.text).map_err(|e| io(&tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
        }
        Ok(())
    }
}
