//! The sequencer (instruction memory, issue-delay countdown, cycle counter, `CTL`) and the
//! instruction decoder, whose fields come from the op table in [`isa::ops`] through
//! [`isa::Layout::field_positions`].

use isa::encoding::{DELAY_BITS, OPCODE_BITS};
use isa::ops::{CtlFunc, FieldKind, Opcode, Space, Unit};

use super::bus::{retire, retire_bundle, retire_pc, sink, Bundle};
use crate::ast::*;
use crate::ctx::Ctx;
use crate::packed::Enum;

/// A decoded signal: a slice of the instruction word, or a flag that the slice holds a code.
struct Field {
    name: String,
    lo: u32,
    width: u32,
    /// The flag is set when the slice equals this code.
    is: Option<u64>,
}

impl Field {
    fn bits(&self) -> u32 {
        if self.is.is_some() {
            1
        } else {
            self.width
        }
    }
}

/// The decoded signals of one op, from the layout: an address field gives `_bank` and
/// `_row`, and for each space it may name besides SRAM a flag (`_acc`, `_imm`).
fn fields(ctx: &Ctx, op: Opcode) -> Vec<Field> {
    let mn = op.spec().mnemonic;
    let mut out = Vec::new();
    for (spec, lo, width) in ctx.layout.field_positions(op) {
        let base = format!("{mn}_{}", spec.name);
        match spec.kind {
            FieldKind::Addr(spaces) => {
                let [(space_at, sb), (bank_at, bank_bits), (row_at, row_bits)] =
                    ctx.layout.addr_parts(spaces);
                // The space index is the space's place in the field's list.
                for (code, space) in spaces.iter().enumerate().filter(|_| sb > 0) {
                    if *space != Space::Sram {
                        out.push(Field {
                            name: format!("{base}_{}", space.name()),
                            lo: lo + space_at,
                            width: sb,
                            is: Some(code as u64),
                        });
                    }
                }
                out.push(Field {
                    name: format!("{base}_bank"),
                    lo: lo + bank_at,
                    width: bank_bits,
                    is: None,
                });
                out.push(Field {
                    name: format!("{base}_row"),
                    lo: lo + row_at,
                    width: row_bits,
                    is: None,
                });
            }
            _ => out.push(Field {
                name: base,
                lo,
                width,
                is: None,
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
        let bits = f.bits();
        b = b.fwd(f.name, bits);
    }
    b
}

/// The input port of a unit that carries decoded signal `signal` of `op` (a field name, or
/// `<address field>_bank`, `_row`, `_acc`, `_imm`); a name the op does not decode is a
/// generator bug.
pub fn decoded(ctx: &Ctx, op: Opcode, signal: &str) -> Expr {
    let name = format!("{}_{signal}", op.spec().mnemonic);
    assert!(
        fields(ctx, op).iter().any(|f| f.name == name),
        "{} decodes no `{signal}`",
        op.spec().mnemonic
    );
    id(format!("{name}_i"))
}

/// The issue strobe of `op`, at a unit's input.
pub fn issued(op: Opcode) -> Expr {
    id(format!("{}_issue_i", op.spec().mnemonic))
}

/// Decoded address operand `field` of `op`: whether it names the accumulators (a constant
/// when the field allows one memory), its bank and its first row, and its step.
pub struct Operand {
    pub acc: Expr,
    pub bank: Expr,
    pub row: Expr,
    pub step: Expr,
}

pub fn operand(ctx: &Ctx, op: Opcode, field: &str) -> Operand {
    let spec = op
        .spec()
        .fields
        .iter()
        .find(|f| f.name == field)
        .unwrap_or_else(|| panic!("{} has no field `{field}`", op.spec().mnemonic));
    let FieldKind::Addr(spaces) = spec.kind else {
        panic!("{}.{field} is not an address", op.spec().mnemonic)
    };
    let acc = match spaces {
        [only] => lit(1, u64::from(*only == Space::Acc)),
        _ => decoded(ctx, op, &format!("{field}_acc")),
    };
    Operand {
        acc,
        bank: decoded(ctx, op, &format!("{field}_bank")),
        row: decoded(ctx, op, &format!("{field}_row")),
        step: decoded(ctx, op, &format!("{field}_step")),
    }
}

/// The ops a block runs: those of its units in the ISA's table.
pub fn ops_of<'a>(ctx: &'a Ctx, units: &'a [Unit]) -> impl Iterator<Item = Opcode> + 'a {
    present_ops(ctx).filter(|op| units.contains(&op.spec().unit))
}

/// The ops the chip has hardware for ([`Ctx::has`]), in opcode order.
pub fn present_ops(ctx: &Ctx) -> impl Iterator<Item = Opcode> + '_ {
    Opcode::ALL.into_iter().filter(|op| ctx.has(*op))
}

/// The opcodes, as the decoder compares them.
pub fn opcodes() -> Enum<Opcode> {
    Enum::new(
        "OP",
        OPCODE_BITS,
        Opcode::ALL
            .iter()
            .map(|op| (*op, op.spec().mnemonic, op.spec().opcode as u64)),
    )
}

/// An op's sub-functions as its decoded field encodes them (`VOP_ADD`, `CTL_HALT`, ...),
/// `width` bits wide (a pipeline may carry a narrower field widened).
pub fn funcs<F: Copy + PartialEq + std::fmt::Debug>(
    op: Opcode,
    width: u32,
    all: &[F],
    names: &'static [&'static str],
) -> Enum<F> {
    Enum::new(
        op.spec().mnemonic.to_ascii_uppercase(),
        width,
        all.iter()
            .zip(names)
            .enumerate()
            .map(|(code, (f, name))| (*f, *name, code as u64)),
    )
}

/// Every op the sequencer hands to a unit (it runs `CTL` itself).
pub fn unit_ops(ctx: &Ctx) -> impl Iterator<Item = Opcode> + '_ {
    present_ops(ctx).filter(|op| op.spec().unit != Unit::Sequencer)
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
    for op in present_ops(ctx) {
        op_bundle(ctx, op).ports(&mut m, true);
    }
    let opcode = word.clone().bits(OPCODE_BITS - 1, 0);
    let codes = opcodes();
    for op in present_ops(ctx) {
        let mn = op.spec().mnemonic;
        m.assign(
            id(format!("{mn}_issue_o")),
            issue.clone().land(opcode.clone().eq(codes.of(op))),
        );
        for f in fields(ctx, op) {
            let slice = word.clone().bits(f.lo + f.width - 1, f.lo);
            let value = match f.is {
                Some(code) => slice.eq(lit(f.width, code)),
                None => slice,
            };
            m.assign(id(format!("{}_o", f.name)), value);
        }
    }
    codes.declare(&mut m, "Opcodes.");
    let widest = present_ops(ctx)
        .map(|op| ctx.layout.op_bits(op))
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

/// What a `CTL` function does to the sequencer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CtlEffect {
    /// Nothing: it completes as it issues.
    None,
    /// Stops issue: the program has ended.
    Stop,
    /// Holds the sequencer for the barrier (`isa::timing::sync_cycles`).
    Hold,
}

/// Each function's effect; a new `CTL` function does not compile until it has one.
fn ctl_effect(f: CtlFunc) -> CtlEffect {
    match f {
        CtlFunc::Nop => CtlEffect::None,
        CtlFunc::Halt => CtlEffect::Stop,
        CtlFunc::Sync => CtlEffect::Hold,
    }
}

/// `mtn_seq`: instruction memory, issue, `CTL` and the cycle counter.
///
/// Started (`start_i` while idle), it counts cycles from 0. An instruction issues in the
/// cycle the cycles elapsed since the previous issue (since the start, for the first) equal
/// its delay. `ctl.halt` stops issue; the counter then holds `halt cycle + 1`, the program's
/// cycle count.
///
/// The decoder works from registers: the waiting instruction (`word_q`) and whether it issues
/// this cycle (`issue_q`, decided a cycle ahead), so the instruction memory's slow output
/// never starts the long path through the units to the banks. The memory reads one
/// instruction ahead; while idle it reads instruction 0 (and `word_q` follows the host's
/// writes of it), so a start issues instruction 0 as soon as before.
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
    retire_bundle(Unit::Sequencer, ctx).ports(&mut m, true);
    for op in unit_ops(ctx) {
        op_bundle(ctx, op).ports(&mut m, true);
    }

    let (run_d, run_q) = m.flop("run", 1, true);
    let (halted_d, halted_q) = m.flop("halted", 1, true);
    let (pc_d, pc_q) = m.flop("pc", pcb, true);
    let (elapsed_d, elapsed_q) = m.flop("elapsed", DELAY_BITS + 1, true);
    let (cycle_d, cycle_q) = m.flop("cycle", 64, true);
    let (word_d, word_q) = m.flop("word", wb, true);
    let (issue_d, issue) = m.flop("issue", 1, true);
    let (read0_d, read0_q) = m.flop("read0", 1, true);
    let fetched = m.wire("fetched", wb);
    let start = m.wire("start", 1);
    let ctl_issue = m.wire("ctl_issue", 1);
    let ctl_func = m.wire("ctl_func", ctx.func_bits(Opcode::Ctl));
    let ctl_funcs = funcs(
        Opcode::Ctl,
        ctx.func_bits(Opcode::Ctl),
        CtlFunc::ALL,
        CtlFunc::NAMES,
    );
    let halt = m.wire("halt", 1);

    m.comment("Instruction memory: the host writes it while idle. Idle, it reads instruction 0;");
    m.comment("running, the instruction after the waiting one, read as the waiting one issues.");
    let host_write = m.wire("host_write", 1);
    m.assign(
        host_write.clone(),
        id("imem_we_i").land(run_q.clone().lnot()),
    );
    let idle_read = run_q.clone().lnot().land(host_write.clone().lnot());
    m.instance(
        Instance::new("mtn_ram_sp", "u_imem")
            .param("Width", int(wb as i64))
            .param("Depth", int(ctx.cfg.chip.imem_depth as i64))
            .param("AddrBits", int(pcb as i64))
            .conn("clk_i", id("clk_i"))
            .conn("en_i", run_q.clone().lnot() | issue.clone())
            .conn("we_i", host_write.clone())
            .conn(
                "addr_i",
                mux(
                    host_write.clone(),
                    id("imem_addr_i"),
                    mux(
                        start.clone(),
                        lit(pcb, 1),
                        mux(run_q.clone(), pc_q.clone() + lit(pcb, 2), zero(pcb)),
                    ),
                ),
            )
            .conn("wdata_i", id("imem_wdata_i"))
            .conn("rdata_o", fetched.clone()),
    );
    // The read register holds instruction 0 after an idle read; a host write of it since
    // reaches word_q directly.
    m.assign(read0_d, idle_read.land(start.clone().lnot()));
    let word0 = mux(read0_q, fetched.clone(), word_q.clone());
    let written0 = host_write.clone().land(id("imem_addr_i").eq(zero(pcb)));
    m.assign(
        word_d.clone(),
        mux(
            run_q.clone(),
            mux(issue.clone(), fetched, word_q.clone()),
            mux(written0, id("imem_wdata_i"), word0),
        ),
    );

    m.comment("Issue when the cycles since the previous issue reach the word's delay,");
    m.comment("decided a cycle ahead from the word that will be waiting then.");
    m.assign(start.clone(), id("start_i").land(run_q.clone().lnot()));
    let delay_of = |w: Expr| {
        cat(vec![
            lit(1, 0),
            w.bits(OPCODE_BITS + DELAY_BITS - 1, OPCODE_BITS),
        ])
    };
    m.assign(
        issue_d,
        run_d.clone().land(elapsed_d.clone().eq(delay_of(word_d))),
    );
    let word = word_q;
    let doing = |effect: CtlEffect| -> Expr {
        CtlFunc::ALL
            .iter()
            .filter(|f| ctl_effect(**f) == effect)
            .map(|f| ctl_func.clone().eq(ctl_funcs.of(*f)))
            .reduce(|a, b| a.lor(b))
            .map_or(lit(1, 0), |is| ctl_issue.clone().land(is))
    };
    m.assign(halt.clone(), doing(CtlEffect::Stop));
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
    m.assign(
        pc_d,
        mux(
            start.clone(),
            zero(pcb),
            mux(issue.clone(), pc_q.clone() + lit(pcb, 1), pc_q.clone()),
        ),
    );
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
    for op in unit_ops(ctx) {
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
        m.assign(retire(Unit::Sequencer), ctl_issue);
        m.assign(retire_pc(Unit::Sequencer), pc_q);
        sink(&mut m, "ctl_func", vec![ctl_func]);
    } else {
        m.comment("ctl.sync completes after the barrier token has crossed the system.");
        let hb = isa::encoding::bits_for(hold as u32 + 1);
        let (left_d, left_q) = m.flop("sync_left", hb, true);
        let (spc_d, spc_q) = m.flop("sync_pc", pcb, true);
        let sync = doing(CtlEffect::Hold);
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
            retire(Unit::Sequencer),
            ctl_issue.land(sync.lnot()) | done.clone(),
        );
        m.assign(retire_pc(Unit::Sequencer), mux(done, spc_q, pc_q));
    }
    ctl_funcs.declare(&mut m, "CTL functions.");
    m
}
