//! End-state comparison of an RTL run with the golden model: every memory word and each chip's
//! cycle count.

use golden::Run;

use crate::icarus::RtlRun;

/// Every difference between the golden run and the RTL's, SRAM first, then accumulators, then
/// cycle counts.
pub fn mismatches(golden: &Run, rtl: &RtlRun) -> Vec<String> {
    let mut out = Vec::new();
    for (c, (g, r)) in golden.state.chips.iter().zip(&rtl.state.chips).enumerate() {
        for ((idx, want), got) in g.sram.indexed_iter().zip(r.sram.iter()) {
            if want != got {
                let (bank, row, lane) = idx;
                out.push(format!(
                    "chip {c} sram{bank}[{row}] lane {lane}: golden {want}, rtl {got}"
                ));
            }
        }
        for ((idx, want), got) in g.acc.indexed_iter().zip(r.acc.iter()) {
            if want != got {
                let (bank, row, lane) = idx;
                out.push(format!(
                    "chip {c} acc{bank}[{row}] lane {lane}: golden {want}, rtl {got}"
                ));
            }
        }
    }
    // A chip stops counting in the cycle its halt issues.
    let halts: Vec<u64> = golden
        .timeline
        .chips
        .iter()
        .map(|t| t.last().map_or(0, |h| h.issue() + 1))
        .collect();
    if halts != rtl.cycles {
        out.push(format!(
            "cycles per chip: golden {halts:?}, rtl {:?}",
            rtl.cycles
        ));
    }
    out
}
