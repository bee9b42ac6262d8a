//! The Metronome RTL generator: a typed Verilog syntax tree and one generator function per
//! block (matrix unit, SRAM banks, vector unit, permute unit, router, sequencer, host port).
//!
//! Not built yet: this crate holds the workspace's place for the RTL generator issue. The
//! timing every block must meet is already fixed in [`isa::timing`].
