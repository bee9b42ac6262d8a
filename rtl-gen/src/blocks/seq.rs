//! The sequencer (instruction memory, issue-delay countdown, cycle counter, `CTL`) and the
//! instruction decoder, whose fields come from the op table in [`isa::ops`] through
//! [`isa::Layout::field_positions`].

use isa::encoding::{space_bits, DELAY_BITS, OPCODE_BITS};
use isa::ops::{CtlFunc, FieldKind, Opcode};

use super::bus::{retire_bundle, sink, Bundle};
use crate::ast::*;
use crate::ctx::Ctx;

/// Where a decoded signal sits in the instruction word.
struct Field {
    name: String,
    lo: u32,
    width: u32,
}

/// The decoded signals of one op, from the layout: address fields split into `_space` (when
/// the field allows more than one space), `_bank` and `_row`.
fn fields(ctx: &Ctx, op: Opcode) -> Vec<Field> {
    let mn = op.spec().mnemonic;
    let mut out = Vec::new();
    for (spec, lo, width) in ctx.layout.field_positions(op) {
        let base = format!("{mn}_{}", spec.name);
        match spec.kind {
            FieldKind::Addr(spaces) => {
                let sb = space_bits(spaces);
                if sb > 0 {
                    out.push(Field {
                        name: format!("{base}_space"),
                        lo,
                        width: sb,
                    });
                }
                out.push(Field {
                    name: format!("{base}_bank"),
                    lo: lo + sb,
                    width: ctx.bank_bits,
                });
                out.push(Field {
                    name: format!("{base}_row"),
                    lo: lo + sb + ctx.bank_bits,
                    width: ctx.row_bits,
                });
            }
            _ => out.push(Field {
                name: base,
                lo,
                width,
            }),
        }
    }
    out
}

/// An op's issue strobe and decoded fields; the sequencer is the producer.
pub fn op_bundle(ctx: &Ctx, op: Opcode) -> Bundle {
    let mn = op.spec().mnemonic;
    let mut b = Bundle::default().fwd(format!("{mn}_issue"), 1);
    for f in fields(ctx, op) {
        b = b.fwd(f.name, f.width);
    }
    b
}

/// Every op except `CTL`, which the sequencer runs itself.
pub fn unit_ops() -> impl Iterator<Item = Opcode> {
    Opcode::ALL.into_iter().filter(|op| *op != Opcode::Ctl)
}

/// The PC of the issued instruction, shared by every unit.
pub fn issue_bundle(ctx: &Ctx) -> Bundle {
    Bundle::default().fwd("issue_pc", ctx.pc_bits)
}

/// `mtn_decode`: splits an instruction word into every op's fields and issue strobe.
pub fn decode(ctx: &Ctx) -> Module {
    let mut m = Module::new(
        "mtn_decode",
        &[
            "Instruction decoder, generated from the op table: every op's fields as wires, and",
            "an issue strobe for the op whose opcode the word carries.",
        ],
    );
    let word = m.input("word_i", ctx.word_bits);
    let issue = m.input("issue_i", 1);
    for op in Opcode::ALL {
        op_bundle(ctx, op).ports(&mut m, true);
    }
    let opcode = word.clone().bits(OPCODE_BITS - 1, 0);
    for op in Opcode::ALL {
        let mn = op.spec().mnemonic;
        m.assign(
            id(format!("{mn}_issue_o")),
            issue
                .clone()
                .land(opcode.clone().eq(lit(OPCODE_BITS, op.spec().opcode as u64))),
        );
        for f in fields(ctx, op) {
            m.assign(
                id(format!("{}_o", f.name)),
                word.clone().bits(f.lo + f.width - 1, f.lo),
            );
        }
    }
    let widest = Opcode::ALL
        .iter()
        .map(|op| ctx.layout.op_bits(*op))
        .max()
        .unwrap_or(0);
    let mut unused = vec![word.clone().bits(OPCODE_BITS + DELAY_BITS - 1, OPCODE_BITS)];
    if widest < ctx.word_bits {
        unused.push(word.bits(ctx.word_bits - 1, widest));
    }
    m.comment("The delay is the sequencer's; the padding is zero.");
    sink(&mut m, "word", unused);
    m
}

/// `mtn_seq`: instruction memory, issue, `CTL` and the cycle counter.
///
/// Started (`start_i` while idle), it reads instruction 0 and counts cycles from 0. An
/// instruction issues in the cycle the cycles elapsed since the previous issue (since the
/// start, for the first) equal its delay; the next word is read in the same cycle, so it is
/// there one cycle later. `ctl.halt` stops issue; the counter then holds `halt cycle + 1`,
/// the program's cycle count.
pub fn seq(ctx: &Ctx) -> Module {
    let mut m = Module::clocked(
        "mtn_seq",
        &[
            "Sequencer: instruction memory, issue at the scheduled cycle, CTL, cycle counter.",
            "After ctl.halt the counter holds the program's cycle count (halt cycle + 1).",
        ],
    );
    let pcb = ctx.pc_bits;
    let wb = ctx.word_bits;
    m.input("start_i", 1);
    m.doc_port("start the program at instruction 0 (ignored while running)");
    m.input("imem_we_i", 1);
    m.doc_port("host write of one instruction word (ignored while running)");
    m.input("imem_addr_i", pcb);
    m.input("imem_wdata_i", wb);
    m.output("running_o", 1);
    m.output("halted_o", 1);
    m.output("cycle_o", 64);
    m.doc_port("cycles since the start; after ctl.halt, the cycle count");
    m.output("issue_o", 1);
    issue_bundle(ctx).ports(&mut m, true);
    retire_bundle("ctl", ctx).ports(&mut m, true);
    for op in unit_ops() {
        op_bundle(ctx, op).ports(&mut m, true);
    }

    let (run_d, run_q) = m.flop("run", 1, true);
    let (halted_d, halted_q) = m.flop("halted", 1, true);
    let (pc_d, pc_q) = m.flop("pc", pcb, true);
    let (elapsed_d, elapsed_q) = m.flop("elapsed", DELAY_BITS + 1, true);
    let (cycle_d, cycle_q) = m.flop("cycle", 64, true);
    let word = m.wire("word", wb);
    let start = m.wire("start", 1);
    let issue = m.wire("issue", 1);
    let pc_next = m.wire("pc_next", pcb);
    let ctl_issue = m.wire("ctl_issue", 1);
    let ctl_func = m.wire("ctl_func", ctx.func_bits(Opcode::Ctl));
    let halt = m.wire("halt", 1);

    m.comment("Instruction memory: the host writes it while idle; running, it reads the next pc.");
    let host_write = id("imem_we_i").land(run_q.clone().lnot());
    m.instance(
        Instance::new("mtn_ram_sp", "u_imem")
            .param("Width", int(wb as i64))
            .param("Depth", int(ctx.cfg.chip.imem_depth as i64))
            .param("AddrBits", int(pcb as i64))
            .conn("clk_i", id("clk_i"))
            .conn("en_i", run_q.clone() | start.clone() | host_write.clone())
            .conn("we_i", host_write)
            .conn(
                "addr_i",
                mux(
                    run_q.clone() | start.clone(),
                    mux(start.clone(), zero(pcb), pc_next.clone()),
                    id("imem_addr_i"),
                ),
            )
            .conn("wdata_i", id("imem_wdata_i"))
            .conn("rdata_o", word.clone()),
    );

    m.comment("Issue when the cycles since the previous issue reach the word's delay.");
    m.assign(start.clone(), id("start_i").land(run_q.clone().lnot()));
    let delay = cat(vec![
        lit(1, 0),
        word.clone().bits(OPCODE_BITS + DELAY_BITS - 1, OPCODE_BITS),
    ]);
    m.assign(
        issue.clone(),
        run_q.clone().land(elapsed_q.clone().eq(delay)),
    );
    m.assign(
        pc_next.clone(),
        mux(issue.clone(), pc_q.clone() + lit(pcb, 1), pc_q.clone()),
    );
    m.assign(
        halt.clone(),
        ctl_issue.clone().land(
            ctl_func
                .clone()
                .eq(lit(ctx.func_bits(Opcode::Ctl), CtlFunc::Halt as u64)),
        ),
    );
    m.assign(
        run_d,
        mux(
            start.clone(),
            lit(1, 1),
            run_q.clone().land(halt.clone().lnot()),
        ),
    );
    m.assign(
        halted_d,
        mux(start.clone(), lit(1, 0), halted_q.clone() | halt),
    );
    m.assign(pc_d, mux(start.clone(), zero(pcb), pc_next));
    m.assign(
        elapsed_d,
        mux(
            start.clone(),
            zero(DELAY_BITS + 1),
            mux(
                issue.clone(),
                lit(DELAY_BITS + 1, 1),
                elapsed_q.clone() + lit(DELAY_BITS + 1, 1),
            ),
        ),
    );
    m.assign(
        cycle_d,
        mux(
            start,
            zero(64),
            mux(run_q.clone(), cycle_q.clone() + lit(64, 1), cycle_q.clone()),
        ),
    );
    m.assign(id("running_o"), run_q);
    m.assign(id("halted_o"), halted_q);
    m.assign(id("cycle_o"), cycle_q);
    m.assign(id("issue_o"), issue.clone());
    m.assign(id("issue_pc_o"), pc_q.clone());

    let mut dec = Instance::new("mtn_decode", "u_decode")
        .conn("word_i", word)
        .conn("issue_i", issue);
    for op in unit_ops() {
        for s in op_bundle(ctx, op).0 {
            let port = format!("{}_o", s.name);
            dec = dec.conn(&port, id(&port));
        }
    }
    m.instance(
        dec.conn("ctl_issue_o", ctl_issue.clone())
            .conn("ctl_func_o", ctl_func.clone()),
    );

    // ctl.sync holds the sequencer for 1 + diameter * link_latency cycles and completes in
    // the last of them; nop and halt complete as they issue.
    let hold = isa::timing::sync_cycles(&ctx.cfg) - 1;
    if hold == 0 {
        m.assign(id("ctl_retire_o"), ctl_issue);
        m.assign(id("ctl_retire_pc_o"), pc_q);
        sink(&mut m, "ctl_func", vec![ctl_func]);
    } else {
        m.comment("ctl.sync completes after the barrier token has crossed the system.");
        let hb = isa::encoding::bits_for(hold as u32 + 1);
        let (left_d, left_q) = m.flop("sync_left", hb, true);
        let (spc_d, spc_q) = m.flop("sync_pc", pcb, true);
        let sync = ctl_issue.clone().land(
            ctl_func
                .clone()
                .eq(lit(ctx.func_bits(Opcode::Ctl), CtlFunc::Sync as u64)),
        );
        let counting = left_q.clone().ne(zero(hb));
        m.assign(
            left_d,
            mux(
                sync.clone(),
                lit(hb, hold),
                mux(
                    counting.clone(),
                    left_q.clone() - lit(hb, 1),
                    left_q.clone(),
                ),
            ),
        );
        m.assign(spc_d, mux(sync.clone(), pc_q.clone(), spc_q.clone()));
        let done = left_q.eq(lit(hb, 1));
        m.assign(
            id("ctl_retire_o"),
            ctl_issue.land(sync.lnot()) | done.clone(),
        );
        m.assign(id("ctl_retire_pc_o"), mux(done, spc_q, pc_q));
    }
    m
}
