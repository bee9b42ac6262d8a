//! The vector unit: `RQ`, `VOP`, `LUT` and `RED` in one pipeline, one row a cycle, or, when
//! the config has it compute fewer lanes than a row has, one group of lanes a cycle.
//!
//! Stage `s` of row `i` is cycle `t + i + s`: stage 0 reads, stage 1 has the data, four
//! arithmetic steps compute (requantization needs them all: bias and left shift, with the
//! table reads, VOP's functions and RED's lower tree levels; the rounding doubling high
//! multiply, from four 16 x 16 partial products, which with `b` as the multiplier are VOP
//! mul's product too, and RED's upper tree levels (shared with the multiply's sum when a
//! stage parts it from the products); the rounding right shift and zero point; the clamp), and stage `V` writes, `V`
//! being the config's vector latency ([`Datapath::Vector`]). At the minimum `V` of 4 the steps take stages 1, 2 and 3 (steps 3
//! and 4 share a stage). A deeper pipeline spends its first extra stage on registering the
//! operands as read (the steps move one stage on; RQ's bias is added before the register),
//! its second on a register between steps 3 and 4, its third on one between RQ's partial
//! products and their sum, its fourth on one between the clamp's comparisons and its choice,
//! its fifth on one between the rounding right shift and the zero point's add; further
//! stages only carry the row before the write. The fields of RQ's parameter entry that
//! steps 3 and 4 use are read from memories of their own at the stage before (see
//! [`ParamMemory`]), registered where a stage of slack allows.
//!
//! With `R` groups of lanes a row (the config's vector interval), the streams read a row
//! every `R` cycles and the arithmetic is `n / R` lanes wide: the row's first group enters
//! it as read, the rest from a register holding the row, one a cycle; at the end a register
//! collects the groups and the row is written with its last, `R - 1` cycles after the
//! first would have been.

use isa::config::{
    FULL_SLACK_VECTOR_LATENCY, MIN_VECTOR_LATENCY, REGISTERED_PRODUCTS_VECTOR_LATENCY,
};
use isa::encoding::{bits_for, COUNT_BITS};
use isa::ops::{FieldKind, Opcode, RedFunc, Unit, VopFunc};
use isa::timing::Datapath;

use super::bus::{drive_read, retire, retire_bundle, retire_pc, sink, Bundle, MemPort, Reach};
use super::mxu::sext;
use super::prims::{add_paced_stream, Stream, StreamSpec};
use super::seq::{decoded, funcs, issue_bundle, issued, op_bundle, operand, ops_of, Operand};
use crate::ast::*;
use crate::cells::Cell;
use crate::ctx::{Ctx, ParamMemory};
use crate::host_map::ParamField;
use crate::packed::{fields, Enum, Packed};
use crate::pipeline::{await_read, Pipeline};

/// The shallowest vector pipeline whose stage after RQ's rounding right shift registers it,
/// before the zero point's add (its fifth and last stage of timing slack).
const ROUNDING_PARTED_VECTOR_LATENCY: u32 = FULL_SLACK_VECTOR_LATENCY;

/// The shallowest vector pipeline whose stage after the clamp's comparisons registers them
/// (its fourth stage of timing slack).
const CLAMP_PARTED_VECTOR_LATENCY: u32 = ROUNDING_PARTED_VECTOR_LATENCY - 1;

/// Bits of a shift's amount either way: parameter shifts are `-31..=30`.
const SHIFT_AMOUNT_BITS: u32 = 5;

pub const VEC_A_READ: MemPort = MemPort::read("vec_a", Reach::Any, 32);
pub const VEC_B_READ: MemPort = MemPort::read("vec_b", Reach::Any, 32);
pub const VEC_WRITE: MemPort = MemPort::write("vec", Reach::Any, 32);

/// The bank ports: `b` only for `VOP`.
pub fn mem_ports(ctx: &Ctx) -> Vec<MemPort> {
    let b = ctx.has(Opcode::Vop).then_some(VEC_B_READ);
    [Some(VEC_A_READ), b, Some(VEC_WRITE)]
        .into_iter()
        .flatten()
        .collect()
}

/// The vector unit's reads of the parameter memory and of the lookup tables, when the chip
/// has them (the tables module is the producer).
pub fn tables_bundle(ctx: &Ctx) -> Bundle {
    let params = ParamMemory::ALL.iter().fold(Bundle::default(), |b, mem| {
        let port = mem.port();
        b.back(format!("{port}_rd_en"), 1)
            .back(format!("{port}_rd_addr"), ctx.param_addr_bits)
            .fwd(format!("{port}_rd_data"), mem.layout(ctx.n).bits())
    });
    if !ctx.has(Opcode::Lut) {
        return params;
    }
    params
        .back("lut_rd_en", 1)
        .back("lut_rd_addr", ctx.vector_lanes * ctx.lut_addr_bits)
        .fwd("lut_rd_data", 32 * ctx.vector_lanes)
}

fields! {
    /// What every stage of the pipeline carries for its row.
    enum Ctl {
        Valid = "valid",
        Last = "last",
        Kind = "kind",
        Acc = "acc",
        Bank = "bank",
        Row = "row",
        Pc = "pc",
        /// Which group of the row's lanes the stage holds.
        Group = "group",
        /// `RQ`'s parameter entry, for the reads of its later fields.
        Param = "param",
    }
}

fields! {
    /// What the destination stream holds for the whole op: its kind, the fields the
    /// arithmetic needs, and where and for which instruction it writes.
    enum Tag {
        Kind = "kind",
        Func = "func",
        BFrom = "b_from",
        Imm = "imm",
        Table = "table",
        Acc = "acc",
        Bank = "bank",
        Pc = "pc",
        Param = "param",
    }
}

fields! {
    /// The op's fields stage 1 computes with.
    enum Args {
        Func = "func",
        BFrom = "b_from",
        Imm = "imm",
        Table = "table",
    }
}

/// Where `VOP`'s `b` operand comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BFrom {
    /// Its own read port.
    Read,
    /// The same stream as `a` (read once).
    A,
    /// The immediate.
    Imm,
}

/// The address operands of a vector op, reads first: `(reads, destination)` field names.
fn operand_fields(op: Opcode) -> (Vec<&'static str>, &'static str) {
    let mut addrs: Vec<&'static str> = op
        .spec()
        .fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::Addr(_)))
        .map(|f| f.name)
        .collect();
    let dst = addrs.pop().expect("a vector op writes a destination");
    (addrs, dst)
}

/// The width the pipeline carries every op's sub-function at (the widest).
fn func_bits(ctx: &Ctx, ops: &[Opcode]) -> u32 {
    ops.iter()
        .filter(|op| has_func(**op))
        .map(|op| ctx.func_bits(*op))
        .max()
        .unwrap_or(0)
}

fn has_func(op: Opcode) -> bool {
    op.spec()
        .fields
        .iter()
        .any(|f| matches!(f.kind, FieldKind::Func(_)))
}

/// One lane of `VOP func` (step 1): `a` and `b` are the lane's operands, `imm` the op's.
/// `mul` passes `a` on: RQ's multipliers compute its product in step 2, with `b` as their
/// multiplier ([`Vector::multiplier`]).
fn vop_lane(func: VopFunc, lane: &mut Items, a: &Expr, b: &Expr, imm: &Expr, fault: bool) -> Expr {
    match func {
        VopFunc::Add => {
            let sum = a.clone() + b.clone();
            if fault {
                // The planted bug: bit 0 of lane 1 flipped.
                sum ^ cat(vec![zero(31), id("l").eq(int(1))])
            } else {
                sum
            }
        }
        VopFunc::Sub => a.clone() - b.clone(),
        VopFunc::Mul => a.clone(),
        VopFunc::Max => mux(id("a_lt_b"), b.clone(), a.clone()),
        VopFunc::Min => mux(id("a_lt_b"), a.clone(), b.clone()),
        VopFunc::Sel => mux(id("b_nonzero"), a.clone(), imm.clone()),
        VopFunc::Shl => a.clone().shl(b.clone().bits(4, 0)),
        VopFunc::Sra => lane.wire("sra", 32, a.clone().signed().ashr(b.clone().bits(4, 0))),
        VopFunc::Clz => leading_zeros(lane, a),
    }
}

/// The leading zero bits of the 32-bit `a`: the first byte from the top that is not zero, and
/// the leading zeros within it, found for the four bytes side by side (8 LUT levels on an ECP5
/// where five halving steps, one after the other, took 14).
fn leading_zeros(lane: &mut Items, a: &Expr) -> Expr {
    // From the top byte down: whether it is not zero, and its own leading zeros.
    let bytes: Vec<(Expr, Expr)> = (0..4)
        .rev()
        .map(|k| {
            let byte = a.clone().bits(8 * k + 7, 8 * k);
            let nonzero = lane.wire(&format!("clz_byte{k}_nonzero"), 1, byte.ne(lit(8, 0)));
            let zeros = (1..8).fold(lit(3, 7), |rest, b| {
                mux(a.clone().bit(8 * k + b), lit(3, 7 - b as u64), rest)
            });
            let zeros = lane.wire(&format!("clz_byte{k}_zeros"), 3, zeros);
            (nonzero, zeros)
        })
        .collect();
    let first = |of: &dyn Fn(usize, &(Expr, Expr)) -> Expr, none: Expr| {
        bytes
            .iter()
            .enumerate()
            .rev()
            .fold(none, |rest, (i, b)| mux(b.0.clone(), of(i, b), rest))
    };
    let byte_index = first(&|i, _| lit(2, i as u64), lit(2, 3));
    let within = first(&|_, b| b.1.clone(), lit(3, 7));
    let all_zero = lane.wire(
        "clz_all_zero",
        1,
        cat(bytes.iter().map(|b| b.0.clone()).collect()).eq(lit(4, 0)),
    );
    mux(
        all_zero,
        lit(32, 32),
        cat(vec![zero(27), byte_index, within]),
    )
}

/// What every part of the vector unit shares: the ops it runs, and the layouts and codes of
/// its pipeline.
struct Vector<'a> {
    ctx: &'a Ctx,
    /// Lanes computed each cycle, and the cycles a row takes (`n / lanes`).
    lanes: u32,
    interval: u32,
    ops: Vec<Opcode>,
    kinds: Enum<Opcode>,
    b_from: Enum<BFrom>,
    vop_funcs: Enum<VopFunc>,
    red_funcs: Enum<RedFunc>,
    /// The destination stream's tag.
    tag: Packed<Tag>,
    /// Every stage's control.
    ctl: Packed<Ctl>,
    /// Stage 1's op fields.
    args: Packed<Args>,
    /// The fields of a parameter entry read as `RQ` issues ([`ParamMemory::Issue`]) as they
    /// arrive; a group of lanes' part of them, when a row takes more than a cycle; what step
    /// 2 and its second half still need of them. (Steps 3 and 4 read their fields from
    /// memories of their own.)
    entry: Packed<ParamField>,
    group_entry: Packed<ParamField>,
    rq2: Packed<ParamField>,
    rq2b: Packed<ParamField>,
    /// The words of the zero point's and the clamp bounds' memories.
    zp_word: Packed<ParamField>,
    clamp_word: Packed<ParamField>,
    /// Whether the operands are registered as read (the first stage of slack): RQ's bias is
    /// then added, and VOP's `b` chosen, ahead of that register.
    operands_registered: bool,
    /// `RED`'s tree levels computed by each step that computes some: step 1, step 2 and,
    /// when a stage parts them, step 2's second half ([`red_split`]).
    red_split: Vec<u32>,
}

/// What arithmetic step 1 computes from: the rows as read (operand `a`, and `b` when read)
/// and RQ's parameter entry, or one group of their lanes.
struct Operands {
    a: Expr,
    b: Expr,
    entry: Expr,
    /// VOP's comparisons of each lane's operands, when made ahead of the operand register
    /// ([`Vector::compared_ahead`]): two bits a lane, `b != 0` above `a < b`.
    compared: Option<Expr>,
    /// RED's first tree level's comparisons, when made ahead of the operand register: bit
    /// `j` is lane `2j` < lane `2j + 1` of `a`.
    red_compared: Option<Expr>,
}

/// The control, op fields and operands of a row, or of one group of its lanes, as step 1
/// takes them.
struct Step1Input {
    ctl: Expr,
    args: Expr,
    operands: Operands,
}

/// The low `bits` of partial product `k` (0 to 3: `lo * lo`, `lo * hi`, `hi * lo`, `hi * hi`
/// of the operands' 16-bit halves) of lane `l` in `pp`, four 32-bit products a lane.
fn partial_product(pp: &Expr, k: i64, bits: u32) -> Expr {
    pp.clone().part(id("l").mul(int(128)) + int(32 * k), bits)
}

/// Lane `l` (the generate loop's genvar) of a row of 32-bit lanes.
fn lane32(row: Expr) -> Expr {
    row.lane(id("l"), 32)
}

impl<'a> Vector<'a> {
    fn new(ctx: &'a Ctx) -> Self {
        let ops: Vec<Opcode> = ops_of(ctx, &[Unit::Vector]).collect();
        // The fields only a left-out op would use are absent (0 bits).
        let fb = func_bits(ctx, &ops);
        let if_has = |op: Opcode, bits: u32| if ctx.has(op) { bits } else { 0 };
        let code_bits = |op: Opcode| fb.max(ctx.func_bits(op));
        let kinds = Enum::new(
            "KIND",
            bits_for(ops.len() as u32),
            ops.iter()
                .enumerate()
                .map(|(i, op)| (*op, op.spec().mnemonic, i as u64)),
        );
        let b_from = Enum::new(
            "B_FROM",
            2,
            [
                (BFrom::Read, "read", 0),
                (BFrom::A, "a", 1),
                (BFrom::Imm, "imm", 2),
            ],
        );
        let (n, bb, pcb) = (ctx.n, ctx.bank_bits, ctx.pc_bits);
        let lanes = ctx.vector_lanes;
        let interval = ctx.cfg.chip.vector_interval();
        let tb = ctx.layout.table_bits;
        let kind_bits = kinds.width();
        Vector {
            ctx,
            lanes,
            interval,
            // (An op the chip lacks keeps its codes, at its own width, unused.)
            vop_funcs: funcs(
                Opcode::Vop,
                code_bits(Opcode::Vop),
                VopFunc::ALL,
                VopFunc::NAMES,
            ),
            red_funcs: funcs(
                Opcode::Red,
                code_bits(Opcode::Red),
                RedFunc::ALL,
                RedFunc::NAMES,
            ),
            tag: Packed::new("Tag", |f| match f {
                Tag::Kind => kind_bits,
                Tag::Func => fb,
                Tag::BFrom => if_has(Opcode::Vop, 2),
                Tag::Imm => if_has(Opcode::Vop, 32),
                Tag::Table => if_has(Opcode::Lut, tb),
                Tag::Acc => 1,
                Tag::Bank => bb,
                Tag::Pc => pcb,
                Tag::Param => ctx.param_addr_bits,
            }),
            ctl: Packed::new("Ctl", |f| match f {
                Ctl::Valid | Ctl::Last | Ctl::Acc => 1,
                Ctl::Kind => kind_bits,
                Ctl::Bank => bb,
                Ctl::Row => ctx.row_bits,
                Ctl::Pc => pcb,
                Ctl::Group => interval.trailing_zeros(),
                Ctl::Param => ctx.param_addr_bits,
            }),
            args: Packed::new("Args", |f| match f {
                Args::Func => fb,
                Args::BFrom => if_has(Opcode::Vop, 2),
                Args::Imm => if_has(Opcode::Vop, 32),
                Args::Table => if_has(Opcode::Lut, tb),
            }),
            entry: ParamMemory::Issue.layout(n),
            group_entry: Packed::new("GroupParam", |f: ParamField| {
                ParamMemory::Issue.layout(lanes).width(f)
            }),
            // Step 1 adds the bias; step 2 multiplies, and turns the shift into step 3's
            // per-lane rounding terms.
            rq2: Packed::new("RqS2", |f| match f {
                ParamField::Multiplier | ParamField::Shift => f.bits(lanes),
                _ => 0,
            }),
            // The second half of step 2 when registered apart: the multiply is done.
            rq2b: Packed::new("RqS2b", |f| match f {
                ParamField::Shift => f.bits(lanes),
                _ => 0,
            }),
            zp_word: ParamMemory::ZeroPoint.layout(n),
            clamp_word: ParamMemory::Clamp.layout(n),
            operands_registered: ctx.cfg.chip.vector_latency > MIN_VECTOR_LATENCY,
            red_split: red_split(
                lanes,
                ctx.cfg.chip.vector_latency >= REGISTERED_PRODUCTS_VECTOR_LATENCY,
            ),
            ops,
            kinds,
            b_from,
        }
    }

    /// The layout of the entry the arithmetic computes with: the whole entry, or a group's.
    fn computed_entry(&self) -> &Packed<ParamField> {
        if self.interval > 1 {
            &self.group_entry
        } else {
            &self.entry
        }
    }

    /// `value` of the op that issued (the issue strobes are one-hot).
    fn pick(&self, value: &dyn Fn(Opcode) -> Expr) -> Expr {
        let (last, rest) = self.ops.split_last().expect("the vector unit runs ops");
        rest.iter().rev().fold(value(*last), |other, op| {
            mux(issued(*op), value(*op), other)
        })
    }

    /// Whether the row in control word `ctl` belongs to an `op`.
    fn kind_is(&self, ctl: &Expr, op: Opcode) -> Expr {
        self.ctl.get(ctl, Ctl::Kind).eq(self.kinds.of(op))
    }

    /// Read operand `k` (`a` or `src`, then `b`) or the destination of `op`.
    fn read(&self, op: Opcode, k: usize) -> Operand {
        operand(self.ctx, op, operand_fields(op).0[k])
    }

    fn dest(&self, op: Opcode) -> Operand {
        operand(self.ctx, op, operand_fields(op).1)
    }

    fn count(&self, op: Opcode) -> Expr {
        decoded(self.ctx, op, "count")
    }

    /// `op`'s sub-function at the pipeline's width (zero for ops without one).
    fn func(&self, op: Opcode) -> Expr {
        let fb = self.tag.width(Tag::Func);
        if !has_func(op) {
            return zero(fb);
        }
        let f = decoded(self.ctx, op, "func");
        match self.ctx.func_bits(op) {
            w if w < fb => cat(vec![zero(fb - w), f]),
            _ => f,
        }
    }

    /// Stage 0: the operand streams read their rows; the destination stream, returned,
    /// carries the op's fields down the pipeline.
    fn streams(&self, m: &mut Module) -> Stream {
        let (rb, bb) = (self.ctx.row_bits, self.ctx.bank_bits);
        let any = m.wire("any_issue", 1);
        m.assign(
            any.clone(),
            self.ops
                .iter()
                .map(|op| issued(*op))
                .reduce(|a, b| a | b)
                .expect("the vector unit runs ops"),
        );
        let advance = self.pace(m, &any);
        m.comment("Stage 0: operand a (RQ, LUT, RED: src) and, for VOP, operand b.");
        let a = add_paced_stream(
            m,
            "a",
            rb,
            StreamSpec {
                start: any.clone(),
                base: self.pick(&|op| self.read(op, 0).row),
                step: self.pick(&|op| self.read(op, 0).step),
                count: self.pick(&|op| self.count(op)),
                count_bits: COUNT_BITS,
                tag: cat(vec![
                    self.pick(&|op| self.read(op, 0).acc),
                    self.pick(&|op| self.read(op, 0).bank),
                ]),
                tag_bits: 1 + bb,
            },
            advance.clone(),
        );
        let a_last = drive_read(m, &VEC_A_READ, a);
        let b = self
            .ctx
            .has(Opcode::Vop)
            .then(|| self.b_stream(m, advance.clone()));

        m.comment("Stage 0: the destination stream carries the op's fields down the pipeline.");
        let dst = add_paced_stream(
            m,
            "d",
            rb,
            StreamSpec {
                start: any,
                base: self.pick(&|op| self.dest(op).row),
                step: self.pick(&|op| self.dest(op).step),
                count: self.pick(&|op| self.count(op)),
                count_bits: COUNT_BITS,
                tag: self.tag.pack(|f| match f {
                    Tag::Kind => self.pick(&|op| self.kinds.of(op)),
                    Tag::Func => self.pick(&|op| self.func(op)),
                    Tag::BFrom => b.clone().expect("b_from is carried with VOP").0,
                    Tag::Imm => decoded(self.ctx, Opcode::Vop, "imm"),
                    Tag::Table => decoded(self.ctx, Opcode::Lut, "table"),
                    Tag::Acc => self.pick(&|op| self.dest(op).acc),
                    Tag::Bank => self.pick(&|op| self.dest(op).bank),
                    Tag::Pc => id("issue_pc_i"),
                    Tag::Param => decoded(self.ctx, Opcode::Rq, "param"),
                }),
                tag_bits: self.tag.bits(),
            },
            advance,
        );
        let lasts = [Some(a_last), b.map(|(_, last)| last)];
        sink(m, "stream_last", lasts.into_iter().flatten().collect());
        dst
    }

    /// When the streams move on: every cycle, or, when a row takes `R` cycles, every `R`th
    /// from the issue (a counter the issue restarts).
    fn pace(&self, m: &mut Module, issue: &Expr) -> Expr {
        let bits = self.group_bits();
        if bits == 0 {
            return lit(1, 1);
        }
        m.comment(&format!("A row every {} cycles.", self.interval));
        let (d, q) = m.flop("pace", bits, true);
        // R is a power of two: the counter wraps by itself.
        m.assign(
            d,
            mux(issue.clone(), lit(bits, 1), q.clone() + lit(bits, 1)),
        );
        q.eq(lit(bits, 0))
    }

    /// Stage 0 of `VOP`'s `b` operand: where it comes from (returned, with the stream's
    /// last-row flag) and, when from its own port, its read.
    fn b_stream(&self, m: &mut Module, advance: Expr) -> (Expr, Expr) {
        let (rb, bb) = (self.ctx.row_bits, self.ctx.bank_bits);
        let (va, vb) = (self.read(Opcode::Vop, 0), self.read(Opcode::Vop, 1));
        let same = m.wire("b_is_a", 1);
        m.assign(
            same.clone(),
            vb.acc
                .clone()
                .eq(va.acc)
                .land(vb.bank.clone().eq(va.bank))
                .land(vb.row.clone().eq(va.row))
                .land(vb.step.clone().eq(va.step)),
        );
        let from = &self.b_from;
        let b_from = m.wire("b_from", 2);
        m.assign(
            b_from.clone(),
            mux(
                decoded(self.ctx, Opcode::Vop, "b_imm"),
                from.of(BFrom::Imm),
                mux(same, from.of(BFrom::A), from.of(BFrom::Read)),
            ),
        );
        let b = add_paced_stream(
            m,
            "b",
            rb,
            StreamSpec {
                start: issued(Opcode::Vop).land(b_from.clone().eq(from.of(BFrom::Read))),
                base: vb.row,
                step: vb.step,
                count: self.count(Opcode::Vop),
                count_bits: COUNT_BITS,
                tag: cat(vec![vb.acc, vb.bank]),
                tag_bits: 1 + bb,
            },
            advance,
        );
        (b_from, drive_read(m, &VEC_B_READ, b))
    }

    /// The control and op fields of stage 1, from the destination stream.
    fn control(&self, dst: &Stream) -> [(&'static str, u32, Expr); 2] {
        let (ctl, args, tag) = (&self.ctl, &self.args, &self.tag);
        [
            (
                "ctl",
                ctl.bits(),
                ctl.pack(|f| match f {
                    Ctl::Valid => dst.valid.clone(),
                    Ctl::Last => dst.last.clone(),
                    Ctl::Kind => tag.get(&dst.tag, Tag::Kind),
                    Ctl::Acc => tag.get(&dst.tag, Tag::Acc),
                    Ctl::Bank => tag.get(&dst.tag, Tag::Bank),
                    Ctl::Row => dst.row.clone(),
                    Ctl::Pc => tag.get(&dst.tag, Tag::Pc),
                    Ctl::Group => zero(ctl.width(Ctl::Group)),
                    Ctl::Param => tag.get(&dst.tag, Tag::Param),
                }),
            ),
            (
                "args",
                args.bits(),
                args.pack(|f| match f {
                    Args::Func => tag.get(&dst.tag, Tag::Func),
                    Args::BFrom => tag.get(&dst.tag, Tag::BFrom),
                    Args::Imm => tag.get(&dst.tag, Tag::Imm),
                    Args::Table => tag.get(&dst.tag, Tag::Table),
                }),
            ),
        ]
    }

    /// Arithmetic step 1: the `b` operand, the lane functions, RED's lower tree levels, RQ's
    /// bias and left shift, and the table reads (each only when the chip has its op); the row
    /// is `step1_out_all`.
    fn step1(&self, m: &mut Module, ctl: &Expr, args: &Expr, operands: &Operands) {
        let (ctx, n) = (self.ctx, self.lanes);
        let (has_vop, has_red) = (ctx.has(Opcode::Vop), ctx.has(Opcode::Red));
        let fb = self.args.width(Args::Func);
        let func = (fb > 0).then(|| {
            let func = m.wire("step1_func", fb);
            m.assign(func.clone(), self.args.get(args, Args::Func));
            func
        });

        m.comment("Step 1: the lane functions, RED's lower levels, RQ's bias, the table reads.");
        let a = operands.a.clone();
        // RED's lower tree levels: their results in the row's first lanes, the rest as read.
        let red = has_red.then(|| {
            let func = func.as_ref().expect("RED has a function");
            let compared = operands.red_compared.as_ref();
            self.red_step_compared(m, "red1", &a, 0, func, compared)
        });

        let mut lane = Items::default();
        let la = lane.wire("la", 32, lane32(a.clone()));
        let vop = has_vop.then(|| {
            let func = func.clone().expect("VOP has a function");
            let is_mul = func.clone().eq(self.vop_funcs.of(VopFunc::Mul));
            let mul = m.wire("step1_vop_mul", 1);
            m.assign(mul, self.kind_is(ctl, Opcode::Vop).land(is_mul));
            self.vop_lanes(m, &mut lane, args, &la, func, operands)
        });
        // RQ: the bias (unless added ahead), then the left shift (a positive shift).
        let p = operands.entry.clone();
        let biased = if self.operands_registered {
            la.clone()
        } else {
            let bias = self
                .operand_entry()
                .element(&p, ParamField::Bias, id("l"), 32);
            lane.wire("biased", 32, la.clone() + bias)
        };
        let left = self.left_amount(&mut lane, &p);
        let rq1 = lane.wire("rq1", 32, biased.shl(left));
        // Rows of other ops (LUT's, whose results arrive in step 2) pass as read.
        let mut out = vop.unwrap_or_else(|| la.clone());
        if let Some(red) = red {
            out = mux(self.kind_is(ctl, Opcode::Red), lane32(red), out);
        }
        out = mux(self.kind_is(ctl, Opcode::Rq), rq1, out);
        lane.wire("step1_out", 32, out);
        if ctx.has(Opcode::Lut) {
            // The table entry index: the int8 input plus 128.
            lane.wire(
                "lut_index",
                ctx.lut_addr_bits,
                cat(vec![
                    self.args.get(args, Args::Table),
                    la.clone().bit(7).lnot(),
                    la.bits(6, 0),
                ]),
            );
            lane.push(Item::Assign(
                id("lut_rd_addr_o").lane(id("l"), ctx.lut_addr_bits),
                id("lut_index"),
            ));
            m.assign(
                id("lut_rd_en_o"),
                self.ctl
                    .get(ctl, Ctl::Valid)
                    .land(self.kind_is(ctl, Opcode::Lut)),
            );
        }
        lane.push(Item::Assign(lane32(id("step1_out_all")), id("step1_out")));
        m.wire("step1_out_all", 32 * n);
        m.items.push(lane.generate("l", n, "g_step1"));
    }

    /// The multipliers of RQ's multiply, a lane each: the parameter entry's, or, on a `VOP
    /// mul` row, the row's `b`, so that `VOP mul`'s product is RQ's multiply's low half
    /// ([`Vector::vop_product`]) and needs no multipliers of its own.
    fn multiplier(&self, m: &mut Module, operands: &Operands) -> Expr {
        let entry = self
            .operand_entry()
            .get(&operands.entry, ParamField::Multiplier);
        if !self.ctx.has(Opcode::Vop) {
            return entry;
        }
        // Chosen ahead ([`Vector::compared_ahead`]), or in step 1 ([`Vector::vop_lanes`]).
        let b = if self.operands_registered {
            operands.b.clone()
        } else {
            id("b")
        };
        let multiplier = mux(id("step1_vop_mul"), b, entry);
        m.wire_of("step1_multiplier_all", 32 * self.lanes, multiplier)
    }

    /// `VOP mul`'s product, the low 32 bits of `a * b`, from RQ's unsigned partial products
    /// of the lanes' `a` and `b` (`pp`, as [`Vector::step2_products`] lays them out): the
    /// operands' signs do not reach the low half, `lo * lo + ((lo * hi + hi * lo) << 16)`.
    fn vop_product(&self, m: &mut Module, pp: &Expr) -> Expr {
        let mut lane = Items::default();
        // Of the cross products, the low halves: the rest is above bit 31.
        let ll = lane.wire("vop_pp0", 32, partial_product(pp, 0, 32));
        let cross = lane.wire(
            "vop_cross",
            16,
            partial_product(pp, 1, 16) + partial_product(pp, 2, 16),
        );
        lane.push(Item::Assign(
            lane32(id("vop_product_all")),
            ll + cat(vec![cross, zero(16)]),
        ));
        m.wire("vop_product_all", 32 * self.lanes);
        m.items
            .push(lane.generate("l", self.lanes, "g_vop_product"));
        id("vop_product_all")
    }

    /// `RED`'s row after the tree levels of step `step` (an index into `red_split`), from the
    /// nodes the steps before left in the first lanes of `row`: the nodes this step leaves in
    /// the first lanes and the rest of `row` as it was, or, after the tree's last level, the
    /// result in every lane. The wire `<name>_all`.
    fn red_step(&self, m: &mut Module, name: &str, row: &Expr, step: usize, func: &Expr) -> Expr {
        self.red_step_compared(m, name, row, step, func, None)
    }

    /// [`Vector::red_step`], with the first level's compares made ahead (`first_lt`).
    fn red_step_compared(
        &self,
        m: &mut Module,
        name: &str,
        row: &Expr,
        step: usize,
        func: &Expr,
        first_lt: Option<&Expr>,
    ) -> Expr {
        let n = self.lanes;
        let done: u32 = self.red_split[..step].iter().sum();
        let lanes = lanes_of(row, n);
        let levels = self.red_split[step];
        let nodes = &lanes[..(n >> done) as usize];
        let tree = Tree {
            name,
            func,
            funcs: &self.red_funcs,
            first_lt,
        };
        let mut row = tree.reduce(m, nodes, levels);
        if step + 1 == self.red_split.len() {
            let red = m.wire_of(name, 32, row[0].clone());
            row = vec![red; n as usize];
        } else {
            row.extend_from_slice(&lanes[row.len()..]);
        }
        row.reverse();
        m.wire_of(&format!("{name}_all"), 32 * n, cat(row))
    }

    /// RQ's left shift amount of lane `l` of `entry` (step 1's): a positive shift's, 0 for
    /// a negative one.
    fn left_amount(&self, lane: &mut Items, entry: &Expr) -> Expr {
        let shift_bits = ParamField::Shift.value_bits();
        let shift = lane.wire(
            "shift",
            shift_bits,
            self.operand_entry()
                .element(entry, ParamField::Shift, id("l"), shift_bits),
        );
        let amount = SHIFT_AMOUNT_BITS;
        lane.wire(
            "left",
            amount,
            mux(
                shift.clone().bit(shift_bits - 1),
                zero(amount),
                shift.bits(amount - 1, 0),
            ),
        )
    }

    /// The layout of the entry step 1 computes with: the computed entry, less the bias when
    /// it was added ahead ([`Vector::biased_ahead`]), which leaves what step 2 needs.
    fn operand_entry(&self) -> &Packed<ParamField> {
        if self.operands_registered {
            &self.rq2
        } else {
            self.computed_entry()
        }
    }

    /// VOP's `b` operand: its read, `a`'s or the immediate, as `args` says.
    fn choose_b(&self, args: &Expr, operands: &Operands) -> Expr {
        let from = self.args.get(args, Args::BFrom);
        mux(
            from.clone().eq(self.b_from.of(BFrom::Imm)),
            repeat(self.lanes, self.args.get(args, Args::Imm)),
            mux(
                from.eq(self.b_from.of(BFrom::A)),
                operands.a.clone(),
                operands.b.clone(),
            ),
        )
    }

    /// VOP's `b` operand chosen, and the compares of VOP's lanes and of RED's first tree
    /// level made, ahead of the operand register, so that step 1's functions start from a
    /// register and the maximums and `sel` only choose: returns the operands with them.
    fn compared_ahead(&self, m: &mut Module, args: &Expr, read: Operands) -> Operands {
        let read = self.red_compared_ahead(m, read);
        if !self.ctx.has(Opcode::Vop) {
            return read;
        }
        m.comment("VOP's b operand, chosen ahead of the operand register, and its compares.");
        let n = self.lanes;
        let b = m.wire_of("b_ahead", 32 * n, self.choose_b(args, &read));
        let mut lane = Items::default();
        let la = lane.wire("a", 32, lane32(read.a.clone()));
        let lb = lane.wire("b", 32, lane32(b.clone()));
        lane.push(Item::Assign(
            id("compared_ahead_all").lane(id("l"), 2),
            cat(vec![lb.clone().ne(lit(32, 0)), signed_lt(la, lb, 32)]),
        ));
        m.wire("compared_ahead_all", 2 * n);
        m.items.push(lane.generate("l", n, "g_compare_ahead"));
        Operands {
            b,
            compared: Some(id("compared_ahead_all")),
            ..read
        }
    }

    /// RED's first tree level's compares, ahead of the operand register (when step 1
    /// computes that level).
    fn red_compared_ahead(&self, m: &mut Module, read: Operands) -> Operands {
        if !self.ctx.has(Opcode::Red) || self.red_split[0] == 0 {
            return read;
        }
        let lanes = lanes_of(&read.a, self.lanes);
        let compares = lanes
            .chunks_exact(2)
            .rev()
            .map(|pair| signed_lt(pair[0].clone(), pair[1].clone(), 32))
            .collect();
        let compared = m.wire_of("red_compared_ahead", self.lanes / 2, cat(compares));
        Operands {
            red_compared: Some(compared),
            ..read
        }
    }

    /// RQ's bias, added ahead of the operand register: the add starts from the banks' read
    /// and step 1 is left with the shift. Returns the operands with `RQ` rows' `a` biased
    /// and the entry without its bias.
    fn biased_ahead(&self, m: &mut Module, ctl: &Expr, read: Operands) -> Operands {
        m.comment("RQ's bias, ahead of the operand register: step 1 only shifts.");
        let entry = self.computed_entry();
        let mut lane = Items::default();
        let a = lane.wire("a", 32, lane32(read.a));
        let bias = entry.element(&read.entry, ParamField::Bias, id("l"), 32);
        lane.push(Item::Assign(
            lane32(id("ahead_a_all")),
            mux(self.kind_is(ctl, Opcode::Rq), a.clone() + bias, a),
        ));
        m.wire("ahead_a_all", 32 * self.lanes);
        m.items.push(lane.generate("l", self.lanes, "g_bias_ahead"));
        let rest = self.rq2.pack(|f| entry.get(&read.entry, f));
        Operands {
            a: id("ahead_a_all"),
            b: read.b,
            entry: m.wire_of("ahead_entry", self.rq2.bits(), rest),
            ..read
        }
    }

    /// `VOP` in step 1: the `b` operand (its read, `a`'s or the immediate) and every lane
    /// function, picked by `func`; returns the lane's result.
    fn vop_lanes(
        &self,
        m: &mut Module,
        lane: &mut Items,
        args: &Expr,
        la: &Expr,
        func: Expr,
        operands: &Operands,
    ) -> Expr {
        let n = self.lanes;
        let imm = m.wire("step1_imm", 32);
        m.assign(imm.clone(), self.args.get(args, Args::Imm));
        let b = if self.operands_registered {
            // Chosen ahead ([`Vector::b_chosen_ahead`]): where it came from is spent.
            sink(m, "b_from", vec![self.args.get(args, Args::BFrom)]);
            operands.b.clone()
        } else {
            m.wire_of("b", 32 * n, self.choose_b(args, operands))
        };
        let lb = lane.wire("lb", 32, lane32(b));
        let (lt, nonzero) = match &operands.compared {
            Some(compared) => {
                let bit = |k: i64| compared.clone().part(id("l").mul(int(2)) + int(k), 1);
                (bit(0), bit(1))
            }
            None => (
                signed_lt(la.clone(), lb.clone(), 32),
                lb.clone().ne(lit(32, 0)),
            ),
        };
        lane.wire("a_lt_b", 1, lt);
        lane.wire("b_nonzero", 1, nonzero);
        let fault = self.ctx.fault == Some(crate::Fault::VopAddBitFlip);
        let arms: Vec<(Vec<Expr>, Vec<Stmt>)> = VopFunc::ALL
            .iter()
            .map(|f| {
                let value = vop_lane(*f, lane, la, &lb, &imm, fault);
                (vec![self.vop_funcs.of(*f)], vec![set(id("vop"), value)])
            })
            .collect();
        lane.push(Item::Decl {
            kind: NetKind::Reg,
            name: "vop".into(),
            width: int(32),
            depth: None,
        });
        lane.push(Item::AlwaysComb(vec![Stmt::Case(
            func,
            arms,
            vec![set(id("vop"), lit(32, 0))],
        )]));
        id("vop")
    }

    /// Arithmetic step 2, first half: RQ's multiply as four unsigned 16 x 16 partial products
    /// (`step2_pp_all`, four 32-bit products a lane: `lo * lo`, `lo * hi`, `hi * lo`,
    /// `hi * hi` of the row's and the multiplier's halves), and the sign correction the
    /// signed product needs, negated, with the flag of the one overflowing case
    /// (`step2_fix_all`); and what other ops' rows become: LUT results arrive, VOP mul's partial products are
    /// summed, RED's tree goes on (`step2_other_all`). With registered products (`ahead`: the row and the
    /// multipliers a stage before `row` and `param`), `mtn_mul16x16` cells compute the
    /// partial products from those, so they arrive a stage later, with the next stage.
    fn step2_products(
        &self,
        m: &mut Module,
        ctl: &Expr,
        row: Expr,
        param: &Expr,
        red_func: Option<&Expr>,
        ahead: Option<[Expr; 2]>,
    ) {
        m.comment(
            "Step 2: RQ's multiply as partial products; LUT results arrive; RED's tree goes on.",
        );
        // RED's next tree levels, from the nodes step 1 left in the row's first lanes.
        let red = red_func.map(|func| self.red_step(m, "red2", &row, 1, func));
        let mut lane = Items::default();
        let x = lane.wire("x", 32, lane32(row));
        let passed = match red {
            Some(red) => mux(self.kind_is(ctl, Opcode::Red), lane32(red), x.clone()),
            None => x.clone(),
        };
        let other = if self.ctx.has(Opcode::Lut) {
            mux(
                self.kind_is(ctl, Opcode::Lut),
                lane32(id("lut_rd_data_i")),
                passed,
            )
        } else {
            passed
        };
        lane.push(Item::Assign(lane32(id("step2_other_all")), other));
        let mult = self.rq2.element(param, ParamField::Multiplier, id("l"), 32);
        let mult = lane.wire("mult", 32, mult);
        let half = |v: &Expr, hi: bool| {
            if hi {
                v.clone().bits(31, 16)
            } else {
                v.clone().bits(15, 0)
            }
        };
        // x * m = X * M - 2^32 * ((x < 0 ? M : 0) + (m < 0 ? X : 0)) mod 2^64, X and M the
        // unsigned readings of x and m; X * M from unsigned 16 x 16 products, one a DSP.
        let ahead = ahead.map(|[row, mult]| {
            [
                lane.wire("x_ahead", 32, lane32(row)),
                lane.wire("mult_ahead", 32, lane32(mult)),
            ]
        });
        for (k, (xh, mh)) in [(false, false), (false, true), (true, false), (true, true)]
            .into_iter()
            .enumerate()
        {
            let product = partial_product(&id("step2_pp_all"), k as i64, 32);
            lane.push(match &ahead {
                Some([x, mult]) => Item::Instance(
                    Instance::new(Cell::Mul16x16.name(), &format!("u_pp{k}"))
                        .clocked()
                        .conn("a_i", half(x, xh))
                        .conn("b_i", half(mult, mh))
                        .conn("p_o", product),
                ),
                None => Item::Assign(product, half(&x, xh).mul(half(&mult, mh))),
            });
        }
        // The correction, negated, counts modulo 2^32 (it is shifted up by 32); above it, the
        // flag of the one product that overflows.
        let when_negative = |v: &Expr, value: Expr| mux(v.clone().bit(31), value, lit(32, 0));
        lane.push(Item::Assign(
            id("step2_fix_all").lane(id("l"), 33),
            cat(vec![
                x.clone()
                    .eq(lit(32, 1 << 31))
                    .land(mult.clone().eq(lit(32, 1 << 31))),
                lit(32, 0) - (when_negative(&x, mult.clone()) + when_negative(&mult, x.clone())),
            ]),
        ));
        let n = self.lanes;
        m.wire("step2_other_all", 32 * n);
        m.wire("step2_pp_all", 128 * n);
        m.wire("step2_fix_all", 33 * n);
        m.items.push(lane.generate("l", n, "g_step2_products"));
    }

    /// Arithmetic step 2, second half: the rounding doubling high multiply from the partial
    /// products (`products`: the products, and the sign corrections with the overflow flags) and,
    /// beside it, step 3's rounding terms; the row is `step2_out_all`. `param` has the
    /// layout `layout`.
    fn step2_sum(
        &self,
        m: &mut Module,
        ctl: &Expr,
        other: Expr,
        param: &Expr,
        layout: &Packed<ParamField>,
        products: [&Expr; 2],
    ) {
        m.comment("Step 2: the rounding doubling high multiply, summed from its partial products.");
        let [pp, fix] = products;
        let mut lane = Items::default();
        let product = |k: i64| partial_product(pp, k, 32);
        let [ll, lh, hl, hh] = [0, 1, 2, 3].map(|k| lane.wire(&format!("pp{k}"), 32, product(k)));
        let middle = lane.wire(
            "middle",
            33,
            cat(vec![lit(1, 0), lh]) + cat(vec![lit(1, 0), hl]),
        );
        let fix = lane.wire("fix", 33, fix.clone().lane(id("l"), 33));
        let overflow = fix.clone().bit(32);
        // X * M less the correction, plus the rounding half (2^30), modulo 2^64, is
        // `ll[15:0]` below bit 16 (nothing else reaches down there) and above it the 48-bit
        // sum of `{hh, ll[31:16]}`, the middle products and the negated correction with the
        // half's 2^14 below it: two carry chains side by side, then one.
        let upper = lane.wire(
            "upper",
            48,
            cat(vec![hh, ll.clone().bits(31, 16)])
                + cat(vec![fix.clone().bits(31, 0), lit(16, 1 << 14)]),
        );
        let rounded = lane.wire("rounded", 48, upper + cat(vec![zero(15), middle]));
        lane.wire(
            "unused_rounded",
            1,
            cat(vec![
                rounded.clone().bit(47),
                rounded.clone().bits(14, 0),
                ll.bits(15, 0),
            ])
            .reduce_xor(),
        );
        let high = lane.wire(
            "rq2",
            32,
            mux(overflow, lit(32, 0x7fff_ffff), rounded.bits(46, 15)),
        );
        lane.wire(
            "step2_out",
            32,
            mux(self.kind_is(ctl, Opcode::Rq), high, lane32(other)),
        );
        lane.push(Item::Assign(lane32(id("step2_out_all")), id("step2_out")));
        // Step 3's rounding terms depend on the shift alone, so they are computed here,
        // beside the multiply, and step 3 starts from registers.
        let shift_bits = ParamField::Shift.value_bits();
        let shift = lane.wire(
            "shift",
            shift_bits,
            layout.element(param, ParamField::Shift, id("l"), shift_bits),
        );
        // A negative shift's amount, -shift, is below 32: its low bits negated.
        let amount = SHIFT_AMOUNT_BITS;
        let negated = lane.wire("negated", amount, shift.clone().bits(amount - 1, 0).neg());
        let right = lane.wire(
            "right",
            amount,
            mux(shift.bit(shift_bits - 1), negated, zero(amount)),
        );
        // The bits a divide by 2^right drops: the highest (half the divisor) and those below
        // it. Decoded from `right` alone, with no carry chain.
        let mask = lane.wire("mask", 32, !(!lit(32, 0)).shl(right.clone()));
        let half = lit(32, 1).shl(right.clone()).shr(lit(32, 1));
        lane.push(Item::Assign(
            id("step2_right_all").lane(id("l"), amount),
            right,
        ));
        lane.push(Item::Assign(lane32(id("step2_half_all")), half));
        lane.push(Item::Assign(
            lane32(id("step2_low_all")),
            mask.shr(lit(32, 1)),
        ));
        let n = self.lanes;
        m.wire("step2_out_all", 32 * n);
        m.wire("step2_right_all", SHIFT_AMOUNT_BITS * n);
        m.wire("step2_half_all", 32 * n);
        m.wire("step2_low_all", 32 * n);
        m.items.push(lane.generate("l", n, "g_step2"));
    }

    /// Arithmetic step 3, first part: RQ's rounding divide by a power of two (the rounding
    /// terms `round` come from step 2: the right shift, the bit of half the divisor and the
    /// mask of the bits below it). The shifted rows, each with its round-up bit above it, are
    /// `step3_shifted_all` (33 bits a lane).
    fn step3_shift(&self, m: &mut Module, row: Expr, round: [&Expr; 3]) {
        m.comment("Step 3: rounding divide by a power of two.");
        let mut lane = Items::default();
        let x = lane.wire("x", 32, lane32(row));
        let [right, half, low] = round;
        let amount = SHIFT_AMOUNT_BITS;
        let right = lane.wire("right", amount, right.clone().lane(id("l"), amount));
        // TFLite's RoundingDivideByPOT rounds up when the remainder exceeds half the divisor
        // less one, or, for a negative value, half the divisor: the half bit set, and for a
        // negative value a bit below it too. No comparator needed.
        let at_half = lane.wire("at_half", 1, (x.clone() & lane32(half.clone())).reduce_or());
        let past_half = lane.wire(
            "past_half",
            1,
            (x.clone() & lane32(low.clone())).reduce_or(),
        );
        let round_up = at_half.land(x.clone().bit(31).lnot().lor(past_half));
        lane.push(Item::Assign(
            id("step3_shifted_all").lane(id("l"), 33),
            cat(vec![round_up, x.signed().ashr(right)]),
        ));
        m.wire("step3_shifted_all", 33 * self.lanes);
        m.items
            .push(lane.generate("l", self.lanes, "g_step3_shift"));
    }

    /// Arithmetic step 3, second part: the zero point (`zp_word`, the zero point memory's
    /// word) added to the shifted rows (`shifted`, as `step3_shift` packs them), rounded up
    /// where they round up. The 33-bit sums are `step3_sum_all`.
    fn step3_sum(&self, m: &mut Module, shifted: &Expr, zp_word: &Expr) {
        let zp = m.wire("zero_point", 32);
        m.assign(zp.clone(), self.zp_word.get(zp_word, ParamField::ZeroPoint));
        m.comment("Step 3: the zero point.");
        let mut lane = Items::default();
        let shifted = lane.wire("shifted", 33, shifted.clone().lane(id("l"), 33));
        // shifted + zero point + round_up in one adder: the rounding bit is its carry in.
        let sum = lane.wire(
            "sum",
            34,
            cat(vec![sext(shifted.clone().bits(31, 0), 32, 33), lit(1, 1)])
                + cat(vec![sext(zp, 32, 33), shifted.bit(32)]),
        );
        lane.wire("unused_sum", 1, sum.clone().bit(0));
        lane.push(Item::Assign(
            id("step3_sum_all").lane(id("l"), 33),
            sum.bits(33, 1),
        ));
        m.wire("step3_sum_all", 33 * self.lanes);
        m.items.push(lane.generate("l", self.lanes, "g_step3"));
    }

    /// Arithmetic step 4, first part: the clamp's comparisons of RQ's sums with the bounds
    /// (`bounds`, the clamp memory's word): `step4_flags_all`, two bits a lane, above (high)
    /// and below.
    fn step4_compare(&self, m: &mut Module, sums: &Expr, bounds: &Expr) {
        let (lo, hi) = self.bounds(m, "compare", bounds);
        m.comment("Step 4: the clamp's comparisons.");
        let mut lane = Items::default();
        let with_zp = lane.wire("with_zp", 33, sums.clone().lane(id("l"), 33));
        let below = signed_lt(with_zp.clone(), sext(lo, 32, 33), 33);
        let above = signed_lt(sext(hi, 32, 33), with_zp, 33);
        lane.push(Item::Assign(
            id("step4_flags_all").lane(id("l"), 2),
            cat(vec![above, below]),
        ));
        m.wire("step4_flags_all", 2 * self.lanes);
        m.items
            .push(lane.generate("l", self.lanes, "g_step4_compare"));
    }

    /// Arithmetic step 4, second part: RQ's clamp of the sums (`flags`: the comparisons',
    /// as `step4_compare` packs them); other ops' rows pass as they left step 2. The row is
    /// `step4_out_all`.
    fn step4_choose(
        &self,
        m: &mut Module,
        ctl: &Expr,
        row: Expr,
        sums: Expr,
        bounds: &Expr,
        flags: Expr,
    ) {
        let (lo, hi) = self.bounds(m, "choose", bounds);
        m.comment("Step 4: the clamp's choice.");
        let mut lane = Items::default();
        let flags = lane.wire("flags", 2, flags.lane(id("l"), 2));
        let x = lane.wire("x", 32, lane32(row));
        let with_zp = lane.wire("with_zp", 33, sums.lane(id("l"), 33));
        let clamped = lane.wire(
            "rq4",
            32,
            mux(
                flags.clone().bit(0),
                lo,
                mux(flags.bit(1), hi, with_zp.clone().bits(31, 0)),
            ),
        );
        lane.wire(
            "step4_out",
            32,
            mux(self.kind_is(ctl, Opcode::Rq), clamped, x),
        );
        lane.wire("unused_with_zp", 1, with_zp.bit(32));
        lane.push(Item::Assign(lane32(id("step4_out_all")), id("step4_out")));
        m.wire("step4_out_all", 32 * self.lanes);
        m.items.push(lane.generate("l", self.lanes, "g_step4"));
    }

    /// The clamp bounds in `bounds` (the clamp memory's word), as wires named for `part`.
    fn bounds(&self, m: &mut Module, part: &str, bounds: &Expr) -> (Expr, Expr) {
        let lo = self.clamp_word.get(bounds, ParamField::ActMin);
        let hi = self.clamp_word.get(bounds, ParamField::ActMax);
        (
            m.wire_of(&format!("{part}_act_min"), 32, lo),
            m.wire_of(&format!("{part}_act_max"), 32, hi),
        )
    }

    /// Bits of a group's number (the `group` field of the control).
    fn group_bits(&self) -> u32 {
        self.ctl.width(Ctl::Group)
    }

    /// `part(g)` of group `g`, the group counter `group` picks.
    fn pick_group(&self, group: &Expr, part: impl Fn(u32) -> Expr) -> Expr {
        let bits = self.group_bits();
        (0..self.interval - 1)
            .rev()
            .fold(part(self.interval - 1), |other, g| {
                mux(group.clone().eq(lit(bits, g as u64)), part(g), other)
            })
    }

    /// When a row takes more than a cycle: its groups of lanes, one a cycle, from the row as
    /// read (`ctl`, `args`, `read`) in the first and from registers holding it after. The
    /// parameter entry needs no register: the memory holds it until the next `RQ` issues,
    /// which is after this one's last group.
    fn groups(&self, m: &mut Module, ctl: Expr, args: Expr, read: Operands) -> Step1Input {
        let (n, lanes) = (self.ctx.n, self.lanes);
        let bits = self.group_bits();
        m.comment(&format!(
            "Groups of {lanes} lane(s): the first as read, the other {} from the row held.",
            self.interval - 1
        ));
        let valid = self.ctl.get(&ctl, Ctl::Valid);
        let (group_d, group) = m.flop("group", bits, true);
        let next = mux(
            group.clone().reduce_or(),
            group.clone() + lit(bits, 1),
            zero(bits),
        );
        m.assign(group_d, mux(valid.clone(), lit(bits, 1), next));
        let first = group.clone().eq(zero(bits));
        let held = |m: &mut Module, name: &str, width: u32, value: Expr| {
            let (d, q) = m.flop(&format!("held_{name}"), width, true);
            m.assign(d, mux(valid.clone(), value, q.clone()));
            q
        };
        let held_ctl = held(m, "ctl", self.ctl.bits(), ctl.clone());
        let group_ctl = self.ctl.pack(|f| match f {
            Ctl::Group => group.clone(),
            f => self.ctl.get(&held_ctl, f),
        });
        let args = if self.args.bits() > 0 {
            let held_args = held(m, "args", self.args.bits(), args.clone());
            mux(first.clone(), args, held_args)
        } else {
            args
        };
        // Lanes from `lanes` up wait in a register; group 0 comes from the read.
        let row = |m: &mut Module, name: &str, live: Expr| {
            let rest = held(
                m,
                name,
                32 * (n - lanes),
                live.clone().bits(32 * n - 1, 32 * lanes),
            );
            let row = m.wire_of(
                &format!("row_{name}"),
                32 * n,
                cat(vec![rest, live.bits(32 * lanes - 1, 0)]),
            );
            self.pick_group(&group, |g| {
                row.clone().part(int((32 * lanes * g) as i64), 32 * lanes)
            })
        };
        let a = row(m, "a", read.a);
        let a = m.wire_of("group_a", 32 * lanes, a);
        let b = if self.ctx.has(Opcode::Vop) {
            let b = row(m, "b", read.b);
            m.wire_of("group_b", 32 * lanes, b)
        } else {
            read.b
        };
        let entry = self.group_entry.pack(|f| {
            let bits = f.value_bits();
            if !f.per_lane() {
                return self.entry.get(&read.entry, f);
            }
            self.pick_group(&group, |g| {
                cat((0..lanes)
                    .rev()
                    .map(|l| {
                        self.entry
                            .element(&read.entry, f, int((g * lanes + l) as i64), bits)
                    })
                    .collect())
            })
        });
        let entry = m.wire_of("group_entry", self.group_entry.bits(), entry);
        let ctl = m.wire_of("group_ctl", self.ctl.bits(), mux(first, ctl, group_ctl));
        let args = match self.args.bits() {
            0 => args,
            bits => m.wire_of("group_args", bits, args),
        };
        Step1Input {
            ctl,
            args,
            operands: Operands {
                a,
                b,
                entry,
                compared: None,
                red_compared: None,
            },
        }
    }

    /// At the write stage, when a row takes more than a cycle: the groups before the last,
    /// collected as they come (`ctl`, `data`); returns whether to write, and the row.
    fn collect(&self, m: &mut Module, ctl: &Expr, data: Expr) -> (Expr, Expr) {
        let valid = self.ctl.get(ctl, Ctl::Valid);
        if self.interval == 1 {
            return (valid, data);
        }
        let (lanes, r) = (self.lanes, self.interval);
        m.comment("The row's groups before the last, collected for the write with the last.");
        let (d, q) = m.flop("collected", 32 * lanes * (r - 1), true);
        let shifted = if r == 2 {
            data.clone()
        } else {
            cat(vec![
                data.clone(),
                q.clone().bits(32 * lanes * (r - 1) - 1, 32 * lanes),
            ])
        };
        m.assign(d, mux(valid.clone(), shifted, q.clone()));
        let bits = self.group_bits();
        let last_group = self.ctl.get(ctl, Ctl::Group).eq(lit(bits, (r - 1) as u64));
        (valid.land(last_group), cat(vec![data, q]))
    }

    /// The read of `mem`'s fields of the entry of the row whose control is `ctl`, so that
    /// they arrive with the row in the next stage.
    fn read_param(&self, m: &mut Module, mem: ParamMemory, ctl: &Expr) {
        let port = mem.port();
        m.assign(id(format!("{port}_rd_en_o")), self.ctl.get(ctl, Ctl::Valid));
        m.assign(
            id(format!("{port}_rd_addr_o")),
            self.ctl.get(ctl, Ctl::Param),
        );
    }

    /// The word `mem` reads out ([`Vector::read_param`]).
    fn param_data(&self, mem: ParamMemory) -> Expr {
        id(format!("{}_rd_data_i", mem.port()))
    }

    /// Declares the layouts' positions and the codes the module used.
    fn declare(&self, m: &mut Module) {
        self.kinds.declare(m, "The op each row belongs to.");
        self.b_from.declare(m, "Where VOP's b operand comes from.");
        self.vop_funcs.declare(m, "VOP functions.");
        self.red_funcs
            .declare(m, "RED functions, at the pipeline's function width.");
        self.tag.declare(m, "The destination stream's tag");
        self.ctl.declare(m, "Every stage's control");
        self.args.declare(m, "Stage 1's op fields");
        self.entry.declare(m, "A parameter entry");
        if self.interval > 1 {
            self.group_entry
                .declare(m, "A group of lanes' part of a parameter entry");
        }
        self.rq2.declare(m, "Step 2's parameters");
        self.rq2b.declare(m, "Step 2's second half's parameters");
        self.zp_word.declare(m, "The zero point memory's word");
        self.clamp_word.declare(m, "The clamp memory's word");
    }
}

/// `mtn_vector`.
pub fn vector(ctx: &Ctx) -> Module {
    // The lanes the arithmetic computes a cycle.
    let lanes = ctx.vector_lanes;
    let interval = ctx.cfg.chip.vector_interval();
    let latency = Datapath::Vector.latency(&ctx.cfg);
    let ops: Vec<String> = ops_of(ctx, &[Unit::Vector])
        .map(|op| op.spec().mnemonic.to_uppercase())
        .collect();
    let (pace, read_at) = match interval {
        1 => ("one row a cycle".to_string(), "t + i".to_string()),
        r => (
            format!("{lanes} lane(s) a cycle, a row every {r} cycles"),
            format!("t + {r}*i"),
        ),
    };
    let mut m = Module::clocked(
        "mtn_vector",
        &[
            &format!("Vector unit: {}, {pace};", ops.join(", ")),
            &format!("row i is read at {read_at} and written {latency} cycles later."),
        ],
    );
    issue_bundle(ctx).ports(&mut m, false);
    for op in ops_of(ctx, &[Unit::Vector]) {
        op_bundle(ctx, op).ports(&mut m, false);
    }
    for port in mem_ports(ctx) {
        port.bundle(ctx).ports(&mut m, true);
    }
    tables_bundle(ctx).ports(&mut m, false);
    retire_bundle(Unit::Vector, ctx).ports(&mut m, true);

    let v = Vector::new(ctx);
    let dst = v.streams(&mut m);
    m.comment("RQ reads its parameter entry as it issues; the entry arrives with row 0.");
    let (cfg, param_bits) = (&ctx.cfg, ctx.param_addr_bits);
    let en = await_read(&mut m, cfg, "param_read_en", 1, issued(Opcode::Rq));
    let param = decoded(ctx, Opcode::Rq, "param");
    let addr = await_read(&mut m, cfg, "param_read_addr", param_bits, param);
    m.assign(id("param_rd_en_o"), en);
    m.assign(id("param_rd_addr_o"), addr);

    let ctl_bits = v.ctl.bits();
    let mut pipe = Pipeline::new(Datapath::Vector);
    let s1 = pipe.stage(&mut m, v.control(&dst).into());
    let s1 = pipe.await_read(
        &mut m,
        &ctx.cfg,
        vec![
            ("read_ctl", ctl_bits, s1[0].clone()),
            ("read_args", v.args.bits(), s1[1].clone()),
        ],
    );
    let read = Operands {
        a: VEC_A_READ.data(),
        b: VEC_B_READ.data(),
        entry: id("param_rd_data_i"),
        compared: None,
        red_compared: None,
    };
    let (ctl, args, read) = if interval > 1 {
        let groups = v.groups(&mut m, s1[0].clone(), s1[1].clone(), read);
        // The last group leaves the pipeline R - 1 cycles after the first.
        pipe.parts_follow(u64::from(interval - 1));
        (groups.ctl, groups.args, groups.operands)
    } else {
        (s1[0].clone(), s1[1].clone(), read)
    };
    let b_bits = if ctx.has(Opcode::Vop) { 32 * lanes } else { 0 };
    // Timing slack goes first to a register between the banks and the arithmetic: a
    // block RAM's output is slow, and step 1 is deep.
    // The pipeline's depth for a row's first group, the stages the config asks for.
    let stages = ctx.cfg.chip.vector_latency;
    let (ctl, args, operands) = if stages > MIN_VECTOR_LATENCY {
        let read = v.compared_ahead(&mut m, &args, read);
        let read = v.biased_ahead(&mut m, &ctl, read);
        m.comment("The operands as read: the first stage of timing slack.");
        let mut signals = vec![
            ("ctl", ctl_bits, ctl),
            ("args", v.args.bits(), args),
            ("a", 32 * lanes, read.a),
            ("b", b_bits, read.b),
            ("entry", v.operand_entry().bits(), read.entry),
        ];
        let mut registered = |name, bits, value: Option<Expr>| {
            value.map(|v| {
                signals.push((name, bits, v));
                signals.len() - 1
            })
        };
        let compared = registered("compared", 2 * lanes, read.compared);
        let red_compared = registered("red_compared", lanes / 2, read.red_compared);
        let s = pipe.stage(&mut m, signals);
        let operands = Operands {
            a: s[2].clone(),
            b: s[3].clone(),
            entry: s[4].clone(),
            compared: compared.map(|k| s[k].clone()),
            red_compared: red_compared.map(|k| s[k].clone()),
        };
        (s[0].clone(), s[1].clone(), operands)
    } else {
        (ctl, args, read)
    };
    v.step1(&mut m, &ctl, &args, &operands);
    let entry = v.operand_entry();

    let multiplier = v.multiplier(&mut m, &operands);
    let mut stage2 = vec![
        ("ctl", ctl_bits, ctl),
        ("data", 32 * lanes, id("step1_out_all")),
        (
            "param",
            v.rq2.bits(),
            v.rq2.pack(|f| match f {
                ParamField::Multiplier => multiplier.clone(),
                _ => entry.get(&operands.entry, f),
            }),
        ),
    ];
    if ctx.has(Opcode::Vop) {
        stage2.push(("vop_mul", 1, id("step1_vop_mul")));
    }
    if ctx.has(Opcode::Red) {
        stage2.push(("red_func", v.args.width(Args::Func), id("step1_func")));
    }
    // Registered products: RQ's multiplier cells take the row and the multipliers as stage 2
    // registers them, so their operand registers are that stage's and their product
    // registers the next's.
    let registered = ctx.cfg.chip.registered_products;
    let ahead = registered.then(|| {
        [
            id("step1_out_all"),
            m.wire_of("rq_mult_all", 32 * lanes, multiplier),
        ]
    });
    let s2 = pipe.stage(&mut m, stage2);
    let vop_mul = ctx.has(Opcode::Vop).then(|| &s2[3]);
    let red_func = ctx
        .has(Opcode::Red)
        .then(|| s2.last().expect("RED's function"));
    v.step2_products(&mut m, &s2[0], s2[1].clone(), &s2[2], red_func, ahead);

    // The zero point is read two stages before step 3's sum and registered the stage before
    // it (a block RAM's output is slow, and the sum is long), or, in the shallowest
    // pipelines, read the stage before the sum.
    let products_parted = stages >= REGISTERED_PRODUCTS_VECTOR_LATENCY;
    let rounding_parted = stages >= ROUNDING_PARTED_VECTOR_LATENCY;
    let zp_word = v.param_data(ParamMemory::ZeroPoint);
    if !rounding_parted {
        v.read_param(&mut m, ParamMemory::ZeroPoint, &s2[0]);
    }

    // The third stage of timing slack registers the multiply's partial products. (With a
    // reset, like every register: Yosys's ice40_dsp pass folds reset-less ones into the DSPs
    // and loses partial products doing it; see docs/fpga.md.)
    // (Registered products need this stage: the config asks for it with them.)
    let (ctl, other, param, layout, products, vop_mul) = if products_parted {
        m.comment("The partial products: the third stage of timing slack.");
        let mut signals = vec![
            ("ctl", ctl_bits, s2[0].clone()),
            ("other", 32 * lanes, id("step2_other_all")),
            (
                "param",
                v.rq2b.bits(),
                v.rq2b.pack(|f| v.rq2.get(&s2[2], f)),
            ),
        ];
        // Registered products have their register in the cells.
        if !registered {
            signals.push(("pp", 128 * lanes, id("step2_pp_all")));
        }
        signals.push(("fix", 33 * lanes, id("step2_fix_all")));
        let vop_mul = vop_mul.map(|flag| {
            signals.push(("vop_mul", 1, flag.clone()));
            signals.len() - 1
        });
        if let Some(func) = red_func {
            signals.push(("red_func", v.args.width(Args::Func), func.clone()));
        }
        let s = pipe.stage(&mut m, signals);
        let vop_mul = vop_mul.map(|k| s[k].clone());
        let products = if registered {
            [id("step2_pp_all"), s[3].clone()]
        } else {
            [s[3].clone(), s[4].clone()]
        };
        // RED's last tree levels, beside the multiply's sum.
        let other = match red_func {
            Some(_) => {
                let func = s.last().expect("RED's function");
                let red = v.red_step(&mut m, "red3", &s[1], 2, func);
                let other = mux(v.kind_is(&s[0], Opcode::Red), red, s[1].clone());
                m.wire_of("step2b_other_all", 32 * lanes, other)
            }
            None => s[1].clone(),
        };
        (
            s[0].clone(),
            other,
            s[2].clone(),
            &v.rq2b,
            products,
            vop_mul,
        )
    } else {
        let products = [id("step2_pp_all"), id("step2_fix_all")];
        (
            s2[0].clone(),
            id("step2_other_all"),
            s2[2].clone(),
            &v.rq2,
            products,
            vop_mul.cloned(),
        )
    };
    let other = match vop_mul {
        Some(flag) => {
            let product = v.vop_product(&mut m, &products[0]);
            m.wire_of("step2_vop_all", 32 * lanes, mux(flag, product, other))
        }
        None => other,
    };
    v.step2_sum(
        &mut m,
        &ctl,
        other,
        &param,
        layout,
        [&products[0], &products[1]],
    );

    // The clamp bounds are read the stage before step 3's sum: they arrive with step 4 or,
    // when a stage of slack parts steps 3 and 4, with that stage, which registers them.
    let parted = stages >= MIN_VECTOR_LATENCY + 2;
    let clamp_word = v.param_data(ParamMemory::Clamp);
    if rounding_parted {
        v.read_param(&mut m, ParamMemory::ZeroPoint, &ctl);
    } else {
        v.read_param(&mut m, ParamMemory::Clamp, &ctl);
    }
    let mut signals = vec![
        ("ctl", ctl_bits, ctl),
        ("data", 32 * lanes, id("step2_out_all")),
        ("right", SHIFT_AMOUNT_BITS * lanes, id("step2_right_all")),
        ("half", 32 * lanes, id("step2_half_all")),
        ("low", 32 * lanes, id("step2_low_all")),
    ];
    let zp_in_s3 = products_parted && !rounding_parted;
    if zp_in_s3 {
        signals.push(("zp", v.zp_word.bits(), zp_word.clone()));
    }
    let s3 = pipe.stage(&mut m, signals);
    v.step3_shift(&mut m, s3[1].clone(), [&s3[2], &s3[3], &s3[4]]);
    let (s3, shifted, zp) = if rounding_parted {
        m.comment("The shifted rows: the fifth stage of timing slack.");
        v.read_param(&mut m, ParamMemory::Clamp, &s3[0]);
        let s = pipe.stage(
            &mut m,
            vec![
                ("ctl", ctl_bits, s3[0].clone()),
                ("data", 32 * lanes, s3[1].clone()),
                ("shifted", 33 * lanes, id("step3_shifted_all")),
                ("zp", v.zp_word.bits(), zp_word),
            ],
        );
        (s[..2].to_vec(), s[2].clone(), s[3].clone())
    } else {
        let zp = if zp_in_s3 { s3[5].clone() } else { zp_word };
        (s3, id("step3_shifted_all"), zp)
    };
    v.step3_sum(&mut m, &shifted, &zp);

    // The second stage of timing slack goes between the rounding and the clamp: two carry
    // chains in a row set the clock otherwise.
    let (ctl, row, sums, bounds) = if parted {
        m.comment("The rounded sums: the second stage of timing slack.");
        let s = pipe.stage(
            &mut m,
            vec![
                ("ctl", ctl_bits, s3[0].clone()),
                ("data", 32 * lanes, s3[1].clone()),
                ("sum", 33 * lanes, id("step3_sum_all")),
                ("bounds", v.clamp_word.bits(), clamp_word),
            ],
        );
        (s[0].clone(), s[1].clone(), s[2].clone(), s[3].clone())
    } else {
        (
            s3[0].clone(),
            s3[1].clone(),
            id("step3_sum_all"),
            clamp_word,
        )
    };
    v.step4_compare(&mut m, &sums, &bounds);
    let flags = id("step4_flags_all");
    let (ctl, row, sums, bounds, flags) = if stages >= CLAMP_PARTED_VECTOR_LATENCY {
        m.comment("The clamp's comparisons: the fourth stage of timing slack.");
        let s = pipe.stage(
            &mut m,
            vec![
                ("ctl", ctl_bits, ctl),
                ("data", 32 * lanes, row),
                ("sum", 33 * lanes, sums),
                ("bounds", v.clamp_word.bits(), bounds),
                ("flags", 2 * lanes, flags),
            ],
        );
        (
            s[0].clone(),
            s[1].clone(),
            s[2].clone(),
            s[3].clone(),
            s[4].clone(),
        )
    } else {
        (ctl, row, sums, bounds, flags)
    };
    v.step4_choose(&mut m, &ctl, row, sums, &bounds, flags);

    // Stages past the arithmetic, when the config asks for a deeper pipeline, then the
    // write stage.
    // (A latency below the arithmetic's is refused by the config; were it not, the check
    // would name the unit.)
    let pad = latency.saturating_sub(pipe.depth() + 1);
    if pad > 0 {
        m.comment(&format!(
            "{pad} stage(s) of timing slack: the config's vector latency is {latency}."
        ));
    }
    let padded = pipe.delay(
        &mut m,
        pad,
        vec![
            ("pad_ctl", ctl_bits, ctl),
            ("pad_data", 32 * lanes, id("step4_out_all")),
        ],
    );
    let write = if ctx.fault == Some(crate::Fault::ShortVectorPipeline) {
        padded
    } else {
        pipe.stage(
            &mut m,
            vec![
                ("ctl", ctl_bits, padded[0].clone()),
                ("data", 32 * lanes, padded[1].clone()),
            ],
        )
    };
    pipe.finish(&mut m);
    m.comment(&format!(
        "Stage {latency}: write the row; the instruction completes with its last row."
    ));
    let (ctl, c) = (&v.ctl, &write[0]);
    let (valid, row) = v.collect(&mut m, c, write[1].clone());
    m.assign(id("vec_wr_en_o"), valid.clone());
    m.assign(id("vec_wr_acc_o"), ctl.get(c, Ctl::Acc));
    m.assign(id("vec_wr_bank_o"), ctl.get(c, Ctl::Bank));
    m.assign(id("vec_wr_row_o"), ctl.get(c, Ctl::Row));
    m.assign(id("vec_wr_data_o"), row);
    m.assign(retire(Unit::Vector), valid.land(ctl.get(c, Ctl::Last)));
    m.assign(retire_pc(Unit::Vector), ctl.get(c, Ctl::Pc));
    sink(&mut m, "write_kind", vec![ctl.get(c, Ctl::Kind)]);
    v.declare(&mut m);
    m
}

/// How `RED`'s tree levels over `n` lanes (a power of two) are shared by step 1, step 2 and,
/// when a stage parts the products from their sum (`halves_parted`), step 2's second half:
/// evenly, later steps taking the extra levels, each beside other ops' arithmetic, so no
/// step holds the whole tree's chain of carries (log2(N) adds or compares in a row).
fn red_split(n: u32, halves_parted: bool) -> Vec<u32> {
    let levels = n.trailing_zeros();
    let steps = if halves_parted { 3 } else { 2 };
    let done_after = |step: u32| levels * step / steps;
    (1..=steps)
        .map(|step| done_after(step) - done_after(step - 1))
        .collect()
}

/// `RED`'s tree over nodes, every function's, picked by `func`; each node a wire named by
/// its function, `name`, level and index.
struct Tree<'t> {
    name: &'t str,
    func: &'t Expr,
    funcs: &'t Enum<RedFunc>,
    /// The first level's compares, when made ahead: bit `j` is node `2j` < node `2j + 1`.
    first_lt: Option<&'t Expr>,
}

impl Tree<'_> {
    /// `levels` of the tree over `nodes` (a power of two of them). A level combines
    /// neighbouring nodes (wrapping addition and the maximum are associative and
    /// commutative, so any balanced order gives the golden model's result).
    fn reduce(&self, m: &mut Module, nodes: &[Expr], levels: u32) -> Vec<Expr> {
        let name = self.name;
        let tree = |m: &mut Module, f: RedFunc| -> Vec<Expr> {
            let mut nodes = nodes.to_vec();
            for level in 1..=levels {
                nodes = nodes
                    .chunks_exact(2)
                    .enumerate()
                    .map(|(j, pair)| {
                        let (a, b) = (pair[0].clone(), pair[1].clone());
                        let value = match (f, self.first_lt) {
                            (RedFunc::Sum, _) => a + b,
                            (RedFunc::Max, Some(lt)) if level == 1 => {
                                mux(lt.clone().part(int(j as i64), 1), b, a)
                            }
                            (RedFunc::Max, _) => mux(signed_lt(a.clone(), b.clone(), 32), b, a),
                        };
                        m.wire_of(&format!("{name}_{}_{level}_{j}", f.name()), 32, value)
                    })
                    .collect();
            }
            nodes
        };
        let arms: Vec<(RedFunc, Vec<Expr>)> =
            RedFunc::ALL.iter().map(|f| (*f, tree(m, *f))).collect();
        let (last, rest) = arms.split_last().expect("RED has functions");
        (0..last.1.len())
            .map(|j| {
                rest.iter().rev().fold(last.1[j].clone(), |other, (f, v)| {
                    mux(self.func.clone().eq(self.funcs.of(*f)), v[j].clone(), other)
                })
            })
            .collect()
    }
}

/// `a < b` for two's complement values of `bits` bits, as an unsigned compare of the two
/// with their sign bits flipped: LUT mapping keeps it one carry chain whose carry out is the
/// answer, where a signed compare adds LUTs after the chain to correct for the signs (two
/// levels on the ECP5, on the vector unit's longest paths).
fn signed_lt(a: Expr, b: Expr, bits: u32) -> Expr {
    let sign = lit(bits, 1 << (bits - 1));
    (a ^ sign.clone()).lt(b ^ sign)
}

/// The 32-bit lanes of `row`, `count` of them from lane 0.
fn lanes_of(row: &Expr, count: u32) -> Vec<Expr> {
    (0..count)
        .map(|l| row.clone().part(int((32 * l) as i64), 32))
        .collect()
}
