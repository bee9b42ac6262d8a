//! Metronome co-simulation: runs the generated RTL and compares it with the golden model,
//! op by op and cycle by cycle.
//!
//! - [`verilator`]: verilated models, stepped from Rust with the retirement trace sampled every
//!   cycle: built in for the standard configs (by this crate's build script, bound through
//!   `cxx`), or for any other config compiled once into the model cache and loaded
//!   ([`runtime`], [`cache`]); optionally with FST waveforms.
//! - [`icarus`]: the second simulator, Icarus Verilog under `testbench/tb_host.v`.
//! - [`host`]: the host-port protocol both use to load a program and image, start, run to
//!   `HALT` within a cycle budget and read everything back.
//! - [`trace`] and [`compare`]: every instruction's issue and completion cycle and every row it
//!   wrote, then the final memories and cycle counts, against the golden model.
//! - [`random`]: seeded random programs the verifier accepts, a scheduler and a shrinker;
//!   [`bench`]: the simulation benchmark's workload.
//!
//! Every simulator is a [`Backend`] (so is the golden model itself, [`Golden`]), and
//! [`lockstep`] checks any of them against the golden model:
//!
//! ```no_run
//! use cosim::verilator::Verilated;
//! let cfg = isa::HwConfig::preset("tiny").unwrap();
//! let program = isa::assemble("+0 ctl.nop\n+1 ctl.halt\n").unwrap();
//! let image = isa::MemImage::default();
//! let mut rtl = Verilated::new(&cfg).unwrap();
//! let checked = cosim::lockstep(&mut rtl, &program, &image, 1000, None).unwrap();
//! assert!(checked.mismatches.is_empty());
//! ```

pub mod bench;
pub mod board_sim;
pub use dircache as cache;
pub mod compare;
mod error;
pub mod host;
pub mod icarus;
mod model_src;
pub mod probe;
pub mod random;
pub mod runtime;
pub mod steps;
pub mod trace;
pub mod uart;
pub mod verilator;

pub use error::SimError;

use golden::SystemState;
use isa::{HwConfig, MemImage, Program};

use crate::compare::Mismatch;

/// What a program left behind on the RTL.
#[derive(Clone, Debug)]
pub struct RtlRun {
    /// Each chip's cycle count (its halt cycle + 1).
    pub cycles: Vec<u64>,
    /// Every chip's SRAM and accumulators.
    pub state: SystemState,
    /// The retirement trace, in cycle order.
    pub trace: Vec<trace::TraceEvent>,
    /// Clock cycles simulated in all: loading, the program, reading back.
    pub simulated_cycles: u64,
}

/// A waveform to dump: the file and the program cycles (inclusive) it covers. Verilator
/// writes FST; Icarus writes FST, or VCD if the file is named `.vcd`.
#[derive(Clone, Debug)]
pub struct Wave {
    pub path: std::path::PathBuf,
    pub from: u64,
    pub to: u64,
}

/// A way to run programs on one config: a simulator of its RTL, a board, or the golden
/// model. Each run starts from a freshly powered-up chip (memories at zero), loads the
/// program and the image, runs to `ctl.halt` (an error past `budget` cycles) and reads
/// every memory and the trace back.
pub trait Backend {
    /// Its name in reports (`verilator`, `icarus`, `golden`).
    fn name(&self) -> &'static str;

    /// The config it runs.
    fn config(&self) -> &HwConfig;

    /// Runs `program` on `image`, writing a waveform of a window of the program's cycles if
    /// asked (not every backend can).
    fn run(
        &mut self,
        program: &Program,
        image: &MemImage,
        budget: u64,
        wave: Option<&Wave>,
    ) -> Result<RtlRun, SimError>;
}

/// The golden model as a backend: what a correct chip reports, trace included.
pub struct Golden {
    cfg: HwConfig,
}

impl Golden {
    pub fn new(cfg: &HwConfig) -> Self {
        Golden { cfg: cfg.clone() }
    }
}

impl Backend for Golden {
    fn name(&self) -> &'static str {
        "golden"
    }

    fn config(&self) -> &HwConfig {
        &self.cfg
    }

    fn run(
        &mut self,
        program: &Program,
        image: &MemImage,
        budget: u64,
        wave: Option<&Wave>,
    ) -> Result<RtlRun, SimError> {
        if wave.is_some() {
            return Err(SimError::Unsupported(
                "the golden model has no waveforms: simulate the RTL".into(),
            ));
        }
        let state = SystemState::from_image(&self.cfg, image)?;
        let run = golden::run(program, &self.cfg, state, Some(budget))?;
        let cycles: Vec<u64> = (0..run.timeline.chips.len())
            .map(|c| run.timeline.chip_cycles(c))
            .collect();
        Ok(RtlRun {
            simulated_cycles: cycles.iter().copied().max().unwrap_or(0),
            cycles,
            trace: trace::from_golden(&run),
            state: run.state,
        })
    }
}

/// A run on a backend checked against the golden model.
#[derive(Clone, Debug)]
pub struct Checked {
    pub golden: golden::Run,
    pub rtl: RtlRun,
    /// Wall time of the backend's run alone (loading and reading back included).
    pub rtl_seconds: f64,
    /// Every difference: final memories, cycle counts, then the trace op by op.
    pub mismatches: Vec<Mismatch>,
}

/// Runs `program` on the golden model and on `backend` and compares them: every memory word
/// at the end, each chip's cycle count, and every instruction's issue and completion cycle
/// and every row it wrote.
pub fn lockstep(
    backend: &mut dyn Backend,
    program: &Program,
    image: &MemImage,
    budget: u64,
    wave: Option<&Wave>,
) -> Result<Checked, SimError> {
    let cfg = backend.config().clone();
    let state = SystemState::from_image(&cfg, image)?;
    let golden = golden::run(program, &cfg, state, Some(budget))?;
    let started = std::time::Instant::now();
    let rtl = backend.run(program, image, budget, wave)?;
    let rtl_seconds = started.elapsed().as_secs_f64();
    let mismatches = compare::mismatches(&golden, &rtl);
    Ok(Checked {
        golden,
        rtl,
        rtl_seconds,
        mismatches,
    })
}
