//! Metronome co-simulation: builds the generated Verilog with Verilator, binds it through `cxx`
//! and compares every retired instruction against the golden model.
//!
//! Not built yet: this crate holds the workspace's place for the co-simulation issue. The
//! golden side of the comparison exists: `golden::run` returns every retired instruction with
//! its issue and completion cycle and the rows it wrote.
