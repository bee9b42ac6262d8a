//! Comparison of an RTL run with the golden model: every memory word at the end, each chip's
//! cycle count, and the retirement trace op by op.

use golden::Run;

use crate::RtlRun;

/// Every difference between the golden run and the RTL's: SRAM, accumulators, cycle counts,
/// then the trace op by op ([`crate::trace::compare`]).
pub fn mismatches(golden: &Run, rtl: &RtlRun) -> Vec<String> {
    let mut out = state_mismatches(golden, rtl);
    out.extend(
        crate::trace::compare(golden, &rtl.trace)
            .iter()
            .map(|m| m.to_string()),
    );
    out
}

/// The differences in the final memories and the cycle counts.
pub fn state_mismatches(golden: &Run, rtl: &RtlRun) -> Vec<String> {
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
    let halts: Vec<u64> = (0..golden.timeline.chips.len())
        .map(|c| golden.timeline.chip_cycles(c))
        .collect();
    if halts != rtl.cycles {
        out.push(format!(
            "cycles per chip: golden {halts:?}, rtl {:?}",
            rtl.cycles
        ));
    }
    out
}
