//! Workloads for simulation benchmarks.

use isa::{assemble, HwConfig, Program};

/// Cycles [`busy_program`]'s halt waits after its last stream starts: its rows, then the
/// matrix unit's latency (its last write) and a little more.
fn halt_after(cfg: &HwConfig, rows: u64) -> u64 {
    rows + isa::timing::Datapath::Mma.latency(cfg) + 4
}

/// The most rows [`busy_program`] takes: its halt's delay must fit the delay field.
pub fn max_rows(cfg: &HwConfig) -> u64 {
    isa::ops::MAX_DELAY as u64 - halt_after(cfg, 0)
}

/// A program that keeps the matrix, vector and memory units busy for about `rows` cycles
/// (each streams one row a cycle, re-reading and re-writing one row so any `rows` fits), at
/// most [`max_rows`].
pub fn busy_program(cfg: &HwConfig, rows: u32) -> Program {
    let n = cfg.chip.n;
    let halt = halt_after(cfg, rows as u64);
    let text = format!(
        "+0 ldw src=sram0[0]
         +{n} mma src=sram1[0] src_step=0 dst=acc0[1] dst_step=0 count={rows} swap
         +1 vop.add a=acc0[0] a_step=0 b=imm imm=1 dst=acc1[0] dst_step=0 count={rows}
         +1 mov src=sram2[0] src_step=0 dst=sram3[0] dst_step=0 count={rows}
         +{halt} ctl.halt"
    );
    assemble(&text).expect("the benchmark program assembles")
}
