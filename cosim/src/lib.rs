//! Metronome co-simulation: runs the generated RTL and compares it with the golden model.
//!
//! What exists so far: the host-port protocol ([`host`]); the Icarus Verilog runner
//! ([`icarus`]), which loads a program and memory image through the host port, runs to
//! `HALT` within a cycle budget and reads every memory and each chip's cycle count back;
//! the end-state comparison with the golden model ([`compare`]); and seeded random programs
//! the golden verifier accepts ([`random`]).
//! The Verilator build (build script, `cxx`, content-hash cache) and the lock-step,
//! op-by-op comparison are still to come (the co-simulation issue).

pub mod compare;
mod error;
pub mod host;
pub mod icarus;
pub mod random;
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
}
