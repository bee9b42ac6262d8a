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

/// The sequencer's registers and strobes its instruction fetch works with.
struct FetchRegs {
    /// A start this cycle (`start_i` while idle).
    start: Expr,
    /// A host write of the instruction memory this cycle.
    host_write: Expr,
    run: Expr,
    /// The waiting instruction issues this cycle.
    issue: Expr,
    pc: Expr,
    /// The waiting instruction, next cycle's and this cycle's.
    word_d: Expr,
    word_q: Expr,
}

/// What the instruction fetch tells the rest of the sequencer.
struct Fetch {
    /// The cycle before the program's cycle 0: the first instruction's wait starts.
    go: Expr,
    /// Whether the sequencer, running, is still fetching the first instructions (no issue,
    /// no cycle counted), next cycle's and this cycle's; `None` when it never is.
    warm: Option<(Expr, Expr)>,
}

/// The instruction memory: its RAM module and shape.
struct ImemShape {
    module: &'static str,
    width: u32,
    depth: u32,
    addr_bits: u32,
}

impl ImemShape {
    /// `u_imem`, enabled by `en`: the host's writes while idle, else reads of `read_addr`
    /// into `fetched`.
    fn instantiate(
        &self,
        m: &mut Module,
        r: &FetchRegs,
        en: Expr,
        read_addr: Expr,
        fetched: &Expr,
    ) {
        m.instance(
            Instance::new(self.module, "u_imem")
                .param("Width", int(self.width as i64))
                .param("Depth", int(self.depth as i64))
                .param("AddrBits", int(self.addr_bits as i64))
                .conn("clk_i", id("clk_i"))
                .conn("en_i", en)
                .conn("we_i", r.host_write.clone())
                .conn(
                    "addr_i",
                    mux(r.host_write.clone(), id("imem_addr_i"), read_addr),
                )
                .conn("wdata_i", id("imem_wdata_i"))
                .conn("rdata_o", fetched.clone()),
        );
    }
}

/// The instruction memory with a whole instruction a line: it reads one instruction ahead;
/// while idle it reads instruction 0 (and `word_q` follows the host's writes of it), so a
/// start issues instruction 0 in the cycle after.
fn fetch_words(m: &mut Module, ctx: &Ctx, r: &FetchRegs) -> Fetch {
    let (pcb, wb) = (ctx.pc_bits, ctx.word_bits);
    let (read0_d, read0_q) = m.flop("read0", 1, true);
    let fetched = m.wire("fetched", wb);
    m.comment("Instruction memory: the host writes it while idle. Idle, it reads instruction 0;");
    m.comment("running, the instruction after the waiting one, read as the waiting one issues.");
    let idle_read = r.run.clone().lnot().land(r.host_write.clone().lnot());
    let read_addr = mux(
        r.start.clone(),
        lit(pcb, 1),
        mux(r.run.clone(), r.pc.clone() + lit(pcb, 2), zero(pcb)),
    );
    let memory = ImemShape {
        module: "mtn_ram_sp",
        width: wb,
        depth: ctx.cfg.chip.imem_depth,
        addr_bits: pcb,
    };
    memory.instantiate(
        m,
        r,
        r.run.clone().lnot() | r.issue.clone(),
        read_addr,
        &fetched,
    );
    // The read register holds instruction 0 after an idle read; a host write of it since
    // reaches word_q directly.
    m.assign(read0_d, idle_read.land(r.start.clone().lnot()));
    let word0 = mux(read0_q, fetched.clone(), r.word_q.clone());
    let written0 = r.host_write.clone().land(id("imem_addr_i").eq(zero(pcb)));
    m.assign(
        r.word_d.clone(),
        mux(
            r.run.clone(),
            mux(r.issue.clone(), fetched, r.word_q.clone()),
            mux(written0, id("imem_wdata_i"), word0),
        ),
    );
    Fetch {
        go: r.start.clone(),
        warm: None,
    }
}

/// The instruction memory with an instruction over `F` lines, read a line a cycle from an
/// address that counts up. Started, the sequencer first reads instructions 0 and 1 (`2F`
/// cycles: [`crate::host_map::start_latency`]); then each issue reads the instruction after
/// the next, which the issue interval of `F` cycles leaves time for. The lines before the
/// last wait in registers; the last stays in the memory's read register until the next
/// read. Idle, the memory only takes the host's writes.
fn fetch_lines(m: &mut Module, ctx: &Ctx, r: &FetchRegs) -> Fetch {
    let f = ctx.cfg.chip.imem_fetch_cycles;
    let (lb, ab) = (ctx.line_bits, ctx.line_addr_bits);
    let kb = isa::encoding::bits_for(f);
    let (warm_d, warm_q) = m.flop("warm", 1, true);
    let (addr_d, addr_q) = m.flop("fetch_addr", ab, true);
    let (line_d, line_q) = m.flop("fetch_line", kb, true);
    let (lines_d, lines_q) = m.flop("lines", lb * (f - 1), true);
    let fetched = m.wire("fetched", lb);
    m.comment(&format!(
        "Instruction memory, {f} lines an instruction: the host writes it while idle; running,"
    ));
    m.comment("it reads a line a cycle while warming up and for F cycles from each issue.");
    let reading = m.wire_of(
        "reading",
        1,
        r.start.clone() | warm_q.clone() | r.issue.clone() | line_q.clone().ne(zero(kb)),
    );
    let memory = ImemShape {
        module: "mtn_ram_sp_undef",
        width: lb,
        depth: ctx.cfg.chip.imem_depth * f,
        addr_bits: ab,
    };
    memory.instantiate(
        m,
        r,
        r.host_write.clone() | reading.clone(),
        mux(r.start.clone(), zero(ab), addr_q.clone()),
        &fetched,
    );
    let next = |from: Expr, width: u32| {
        mux(
            r.start.clone(),
            lit(width, 1),
            mux(reading.clone(), from.clone() + lit(width, 1), from),
        )
    };
    m.assign(addr_d, next(addr_q.clone(), ab));
    // The line read this cycle, counted modulo F (a power of two).
    m.assign(line_d, next(line_q.clone(), kb));
    m.comment("A line before the last is kept the cycle after its read.");
    let mut kept = Vec::new();
    for k in 0..f - 1 {
        let slot = lines_q.clone().bits(lb * (k + 1) - 1, lb * k);
        let arrives = line_q.clone().eq(lit(kb, u64::from(k + 1)));
        kept.push(mux(arrives, fetched.clone(), slot));
    }
    m.assign(lines_d, cat(kept.into_iter().rev().collect()));
    let at = |line: u32| {
        warm_q
            .clone()
            .land(addr_q.clone().eq(lit(ab, u64::from(line))))
    };
    m.comment("Warming up: instruction 0 is whole after F reads, instruction 1 after 2F.");
    let go = m.wire_of("go", 1, at(2 * f - 1));
    m.assign(
        warm_d.clone(),
        r.start.clone() | warm_q.clone().land(go.clone().lnot()),
    );
    let whole = cat(vec![fetched, lines_q]);
    m.assign(
        r.word_d.clone(),
        mux(r.issue.clone() | at(f), whole, r.word_q.clone()),
    );
    Fetch {
        go,
        warm: Some((warm_d, warm_q)),
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
/// never starts the long path through the units to the banks. The memory holds the next
/// instruction while one waits ([`fetch_words`], [`fetch_lines`]).
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
    m.doc_port("host write of one instruction memory line (ignored while running)");
    m.input("imem_addr_i", ctx.line_addr_bits);
    m.input("imem_wdata_i", ctx.line_bits);
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
    m.assign(start.clone(), id("start_i").land(run_q.clone().lnot()));
    let host_write = m.wire("host_write", 1);
    m.assign(
        host_write.clone(),
        id("imem_we_i").land(run_q.clone().lnot()),
    );
    let regs = FetchRegs {
        start: start.clone(),
        host_write,
        run: run_q.clone(),
        issue: issue.clone(),
        pc: pc_q.clone(),
        word_d: word_d.clone(),
        word_q: word_q.clone(),
    };
    let fetch = if ctx.cfg.chip.imem_fetch_cycles == 1 {
        fetch_words(&mut m, ctx, &regs)
    } else {
        fetch_lines(&mut m, ctx, &regs)
    };

    m.comment("Issue when the cycles since the previous issue reach the word's delay,");
    m.comment("decided a cycle ahead from the word that will be waiting then.");
    let delay_of = |w: Expr| {
        cat(vec![
            lit(1, 0),
            w.bits(OPCODE_BITS + DELAY_BITS - 1, OPCODE_BITS),
        ])
    };
    let (may_issue, counting) = match &fetch.warm {
        Some((warm_d, warm_q)) => (
            run_d.clone().land(warm_d.clone().lnot()),
            run_q.clone().land(warm_q.clone().lnot()),
        ),
        None => (run_d.clone(), run_q.clone()),
    };
    let issues = if ctx.cfg.chip.imem_fetch_cycles == 1 {
        // The same, taken apart by what the counter and the word will be (see
        // `fetch_words`), so that the memory's slow output meets a constant, not the word's
        // multiplexer and then the counter: after an issue the fetched word waits with
        // the counter at 1.
        let count_bits = DELAY_BITS + 1;
        let waiting = (elapsed_q.clone() + lit(count_bits, 1)).eq(delay_of(word_q.clone()));
        let next = mux(
            issue.clone(),
            delay_of(id("fetched")).eq(lit(count_bits, 1)),
            waiting,
        );
        mux(
            start.clone(),
            delay_of(word_d).eq(zero(count_bits)),
            run_q.clone().land(halt.clone().lnot()).land(next),
        )
    } else {
        may_issue.land(elapsed_d.clone().eq(delay_of(word_d)))
    };
    m.assign(issue_d, issues);
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
            fetch.go.clone(),
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
            fetch.go,
            zero(64),
            mux(counting, cycle_q.clone() + lit(64, 1), cycle_q.clone()),
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
