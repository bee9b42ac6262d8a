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
//! ```no_run
//! use cosim::verilator::Verilated;
//! let cfg = isa::HwConfig::preset("tiny").unwrap();
//! let program = isa::assemble("+0 ctl.nop\n+1 ctl.halt\n").unwrap();
//! let image = isa::MemImage::default();
//! let golden = golden::run(&program, &cfg, golden::SystemState::new(&cfg), None).unwrap();
//! let rtl = Verilated::new(&cfg).unwrap().run(&program, &image, 1000).unwrap();
//! assert!(cosim::compare::mismatches(&golden, &rtl).is_empty());
//! ```

pub mod bench;
pub mod cache;
pub mod compare;
mod error;
pub mod host;
pub mod icarus;
mod model_src;
pub mod random;
pub mod runtime;
pub mod trace;
pub mod verilator;

pub use error::SimError;

use golden::SystemState;

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
