//! Pipelines counted as they are built: each stage a unit adds is one cycle of a
//! [`Datapath`]'s read-to-write latency, and the finished pipeline records how many it built,
//! so the structural check compares it with [`Datapath::latency`] before anything is emitted.
//!
//! Stage `k` (counted from the cycle the row is read) registers its signals as `s<k>_<name>`;
//! [`Pipeline::delay`] adds stages that only carry signals (an `mtn_delay` line), which is
//! how a config asks for a deeper pipeline than the arithmetic needs.

use isa::timing::{read_registers, Datapath};

use crate::ast::*;

pub struct Pipeline {
    datapath: Datapath,
    /// Register stages built since the read.
    depth: u64,
}

impl Pipeline {
    /// A pipeline whose stage 0 is the cycle its row is read.
    pub fn new(datapath: Datapath) -> Self {
        Pipeline { datapath, depth: 0 }
    }

    /// Stages built so far: the cycle, after the read, that the last stage's registers hold.
    pub fn depth(&self) -> u64 {
        self.depth
    }

    /// The next stage: registers each `(name, width, value)` as `s<k>_<name>` and returns
    /// the registers' outputs, in order. A signal of no bits (a layout whose every field
    /// the chip lacks) registers nothing, and its output is empty: nothing may read it.
    pub fn stage(&mut self, m: &mut Module, signals: Vec<(&str, u32, Expr)>) -> Vec<Expr> {
        self.depth += 1;
        signals
            .into_iter()
            .map(|(name, width, value)| {
                if width == 0 {
                    return cat(Vec::new());
                }
                let (d, q) = m.flop(&format!("s{}_{name}", self.depth), width, true);
                m.assign(d, value);
                q
            })
            .collect()
    }

    /// `cycles` stages that carry each `(name, width, value)` unchanged: the `mtn_delay`
    /// instance `u_<name>` drives the wire `<name>`; returns the wires, in order (the values
    /// themselves for no cycles).
    pub fn delay(
        &mut self,
        m: &mut Module,
        cycles: u64,
        signals: Vec<(&str, u32, Expr)>,
    ) -> Vec<Expr> {
        if cycles == 0 {
            return signals.into_iter().map(|(.., value)| value).collect();
        }
        self.depth += cycles;
        signals
            .into_iter()
            .map(|(name, width, value)| delay_line(m, name, width, value, cycles))
            .collect()
    }

    /// The stages a read's data spends in the memories' read registers
    /// ([`isa::ChipConfig::read_registers`]), counted here: `signals`, the control read
    /// with a row, wait as long (an `mtn_delay` line each, as [`Pipeline::delay`]) and meet
    /// the row when it arrives.
    pub fn await_read(
        &mut self,
        m: &mut Module,
        cfg: &isa::HwConfig,
        signals: Vec<(&str, u32, Expr)>,
    ) -> Vec<Expr> {
        self.delay(m, read_registers(cfg), signals)
    }

    /// Counts `stages` registers built by a structure of its own (the systolic array), as it
    /// built them.
    pub fn built_elsewhere(&mut self, stages: u64) {
        self.depth += stages;
    }

    /// Counts the cycles a row's last part follows its first, in a pipeline that computes a
    /// row in parts and writes it with its last.
    pub fn parts_follow(&mut self, cycles: u64) {
        self.depth += cycles;
    }

    /// Records the pipeline in `m` for the check, with the depth it was built to.
    pub fn finish(self, m: &mut Module) {
        m.pipelines.push((self.datapath, self.depth));
    }
}

/// `value` as it arrives with a read's data: `value` carried over the memories' read
/// registers by an `mtn_delay` line `<name>`, or `value` itself when there are none.
pub fn await_read(
    m: &mut Module,
    cfg: &isa::HwConfig,
    name: &str,
    width: u32,
    value: Expr,
) -> Expr {
    match read_registers(cfg) {
        0 => value,
        cycles => delay_line(m, name, width, value, cycles),
    }
}

/// The wire `<name>`, driven by the `mtn_delay` instance `u_<name>` that delays `value`
/// (`width` bits) by `cycles` (at least 1).
pub fn delay_line(m: &mut Module, name: &str, width: u32, value: Expr, cycles: u64) -> Expr {
    let out = m.wire(name, width);
    m.instance(
        Instance::new("mtn_delay", &format!("u_{name}"))
            .param("Width", int(width as i64))
            .param("Depth", int(cycles as i64))
            .clocked()
            .conn("d_i", value)
            .conn("q_o", out.clone()),
    );
    out
}
