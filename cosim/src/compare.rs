//! Comparison of an RTL run with the golden model: every memory word at the end, each chip's
//! cycle count, and the retirement trace op by op. Differences are typed [`Mismatch`]es; the
//! reports format them.

use std::fmt;

use golden::Run;
use isa::timing::{Mem, Word};
use isa::Unit;

use crate::RtlRun;

/// The instruction a difference belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpAt {
    pub chip: u32,
    pub index: usize,
    pub mnemonic: String,
    /// The unit that ran it.
    pub unit: Unit,
}

impl fmt::Display for OpAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chip {} instruction {} ({}, {})",
            self.chip, self.index, self.mnemonic, self.unit
        )
    }
}

/// Which moment of an instruction's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpEvent {
    Issue,
    Completion,
}

/// One difference between the RTL and the golden model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// An instruction issued or completed in another cycle than predicted, or never.
    Timing {
        at: OpAt,
        event: OpEvent,
        expected: u64,
        actual: Option<u64>,
    },
    /// A row an instruction wrote holds other values, or was not written in its cycle.
    Row {
        at: OpAt,
        word: Word,
        cycle: u64,
        expected: Vec<i32>,
        actual: Option<Vec<i32>>,
    },
    /// The program wrote another number of rows than the golden model did.
    RowCount { expected: usize, actual: usize },
    /// A lane of a memory word differs after the run.
    Memory {
        chip: u32,
        mem: Mem,
        bank: u32,
        row: u64,
        lane: usize,
        expected: i32,
        actual: i32,
    },
    /// The chips' cycle counts differ.
    Cycles {
        expected: Vec<u64>,
        actual: Vec<u64>,
    },
}

impl Mismatch {
    /// The instruction it belongs to, for differences in the trace.
    pub fn at(&self) -> Option<&OpAt> {
        match self {
            Mismatch::Timing { at, .. } | Mismatch::Row { at, .. } => Some(at),
            Mismatch::RowCount { .. } | Mismatch::Memory { .. } | Mismatch::Cycles { .. } => None,
        }
    }

    /// Whether it is a difference in the final memories or cycle counts (else in the trace).
    pub fn in_final_state(&self) -> bool {
        matches!(self, Mismatch::Memory { .. } | Mismatch::Cycles { .. })
    }

    /// What differs, the golden model's value and the RTL's, as text.
    pub fn parts(&self) -> (String, String, String) {
        let cycle = |c: &Option<u64>| c.map_or("nothing".to_string(), |c| format!("cycle {c}"));
        match self {
            Mismatch::Timing {
                event,
                expected,
                actual,
                ..
            } => {
                let what = match event {
                    OpEvent::Issue => "issue",
                    OpEvent::Completion => "completion",
                };
                (what.into(), format!("cycle {expected}"), cycle(actual))
            }
            Mismatch::Row {
                word,
                expected,
                actual,
                ..
            } => (
                word.to_string(),
                format!("{expected:?}"),
                actual
                    .as_ref()
                    .map_or("no write".to_string(), |l| format!("{l:?}")),
            ),
            Mismatch::RowCount { expected, actual } => (
                "rows written".into(),
                expected.to_string(),
                actual.to_string(),
            ),
            Mismatch::Memory {
                chip,
                mem,
                bank,
                row,
                lane,
                expected,
                actual,
            } => {
                let mem = match mem {
                    Mem::Sram => "sram",
                    Mem::Acc => "acc",
                    Mem::Shadow => "shadow",
                };
                (
                    format!("chip {chip} {mem}{bank}[{row}] lane {lane}"),
                    expected.to_string(),
                    actual.to_string(),
                )
            }
            Mismatch::Cycles { expected, actual } => (
                "cycles per chip".into(),
                format!("{expected:?}"),
                format!("{actual:?}"),
            ),
        }
    }

    /// The cycle it happened in, where it has one.
    pub fn cycle(&self) -> Option<u64> {
        match self {
            Mismatch::Timing { expected, .. } => Some(*expected),
            Mismatch::Row { cycle, .. } => Some(*cycle),
            Mismatch::RowCount { .. } | Mismatch::Memory { .. } | Mismatch::Cycles { .. } => None,
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, expected, actual) = self.parts();
        match (self.at(), self.cycle()) {
            (Some(at), Some(cycle)) => write!(
                f,
                "{at} cycle {cycle}: {what}: expected {expected}, got {actual}"
            ),
            _ if self.in_final_state() => {
                write!(f, "{what}: golden {expected}, rtl {actual}")
            }
            _ => write!(f, "{what}: expected {expected}, got {actual}"),
        }
    }
}

/// Every difference between the golden run and the RTL's: SRAM, accumulators, cycle counts,
/// then the trace op by op ([`crate::trace::compare`]).
pub fn mismatches(golden: &Run, rtl: &RtlRun) -> Vec<Mismatch> {
    let mut out = state_mismatches(golden, rtl);
    out.extend(crate::trace::compare(golden, &rtl.trace));
    out
}

/// The differences in the final memories and the cycle counts.
pub fn state_mismatches(golden: &Run, rtl: &RtlRun) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (c, (g, r)) in golden.state.chips.iter().zip(&rtl.state.chips).enumerate() {
        let chip = c as u32;
        let sram = g.sram.indexed_iter().zip(r.sram.iter());
        let sram = sram.map(|((i, w), r)| (Mem::Sram, i, *w as i32, *r as i32));
        let acc = g.acc.indexed_iter().zip(r.acc.iter());
        let acc = acc.map(|((i, w), r)| (Mem::Acc, i, *w, *r));
        for (mem, (bank, row, lane), expected, actual) in sram.chain(acc) {
            if expected != actual {
                out.push(Mismatch::Memory {
                    chip,
                    mem,
                    bank: bank as u32,
                    row: row as u64,
                    lane,
                    expected,
                    actual,
                });
            }
        }
    }
    let halts: Vec<u64> = (0..golden.timeline.chips.len())
        .map(|c| golden.timeline.chip_cycles(c))
        .collect();
    if halts != rtl.cycles {
        out.push(Mismatch::Cycles {
            expected: halts,
            actual: rtl.cycles.clone(),
        });
    }
    out
}
