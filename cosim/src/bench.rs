//! Workloads for simulation benchmarks.

use isa::{assemble, HwConfig, Program};

/// A program that keeps the matrix, vector and memory units busy for about `rows` cycles
/// (each streams one row a cycle, re-reading and re-writing one row so any `rows` fits).
pub fn busy_program(cfg: &HwConfig, rows: u32) -> Program {
    let n = cfg.chip.n;
    let halt = rows + isa::timing::Datapath::Mma.latency(cfg) as u32 + 4;
    let text = format!(
        "+0 ldw src=sram0[0]
         +{n} mma src=sram1[0] src_step=0 dst=acc0[1] dst_step=0 count={rows} swap
         +1 vop.add a=acc0[0] a_step=0 b=imm imm=1 dst=acc1[0] dst_step=0 count={rows}
         +1 mov src=sram2[0] src_step=0 dst=sram3[0] dst_step=0 count={rows}
         +{halt} ctl.halt"
    );
    assemble(&text).expect("the benchmark program assembles")
}
