//! The vector unit: `RQ`, `VOP`, `LUT` and `RED` in one pipeline, one row a cycle.
//!
//! Stage `s` of row `i` is cycle `t + i + s`: stage 0 reads, stage 1 has the data (and reads
//! the lookup tables), stages 1-3 compute (requantization needs all three: bias and left
//! shift; the rounding doubling high multiply; the rounding right shift, zero point and
//! clamp), stage 4 writes, as [`isa::timing::VECTOR_LATENCY`] says.

use isa::ops::{Opcode, RedFunc, VopFunc};
use isa::timing::VECTOR_LATENCY;

use super::bus::{drive_read, retire_bundle, sink, Bundle, MemPort, Reach};
use super::mxu::sext;
use super::prims::{add_stream, StreamSpec};
use super::seq::{issue_bundle, op_bundle};
use crate::ast::*;
use crate::ctx::{param_entry_bits, Ctx, PARAM_SHIFT_BITS};

pub const VEC_A_READ: MemPort = MemPort::read("vec_a", Reach::Any, 32);
pub const VEC_B_READ: MemPort = MemPort::read("vec_b", Reach::Any, 32);
pub const VEC_WRITE: MemPort = MemPort::write("vec", Reach::Any, 32);

pub fn mem_ports() -> [MemPort; 3] {
    [VEC_A_READ, VEC_B_READ, VEC_WRITE]
}

/// The vector unit's reads of the parameter memory and the lookup tables (the tables module
/// is the producer).
pub fn tables_bundle(ctx: &Ctx) -> Bundle {
    Bundle::default()
        .back("param_rd_en", 1)
        .back("param_rd_addr", ctx.param_addr_bits)
        .fwd("param_rd_data", param_entry_bits(ctx.n))
        .back("lut_rd_en", 1)
        .back("lut_rd_addr", ctx.n * ctx.lut_addr_bits)
        .fwd("lut_rd_data", 32 * ctx.n)
}

const KIND_RQ: u64 = 0;
const KIND_VOP: u64 = 1;
const KIND_LUT: u64 = 2;
const KIND_RED: u64 = 3;

/// How `VOP`'s `b` operand is found: read on its own port, the same stream as `a`, or the
/// immediate.
const B_READ: u64 = 0;
const B_SAME: u64 = 1;
const B_IMM: u64 = 2;

/// `VOP b` space index of the immediate (`[sram, acc, imm]`).
const SPACE_IMM: u64 = 2;

/// Control every stage carries: valid, last, kind (2), acc, bank, row, pc.
struct Ctl {
    bits: u32,
    bb: u32,
    rb: u32,
    pcb: u32,
}

impl Ctl {
    fn new(ctx: &Ctx) -> Self {
        Ctl {
            bits: 5 + ctx.bank_bits + ctx.row_bits + ctx.pc_bits,
            bb: ctx.bank_bits,
            rb: ctx.row_bits,
            pcb: ctx.pc_bits,
        }
    }
    fn valid(&self, c: &Expr) -> Expr {
        c.clone().bit(self.bits - 1)
    }
    fn last(&self, c: &Expr) -> Expr {
        c.clone().bit(self.bits - 2)
    }
    fn kind(&self, c: &Expr) -> Expr {
        c.clone().bits(self.bits - 3, self.bits - 4)
    }
    fn acc(&self, c: &Expr) -> Expr {
        c.clone().bit(self.bits - 5)
    }
    fn bank(&self, c: &Expr) -> Expr {
        let lo = self.rb + self.pcb;
        c.clone().bits(lo + self.bb - 1, lo)
    }
    fn row(&self, c: &Expr) -> Expr {
        let lo = self.pcb;
        c.clone().bits(lo + self.rb - 1, lo)
    }
    fn pc(&self, c: &Expr) -> Expr {
        c.clone().bits(self.pcb - 1, 0)
    }
}

/// `mtn_vector`.
pub fn vector(ctx: &Ctx) -> Module {
    let n = ctx.n;
    let (rb, bb, pcb) = (ctx.row_bits, ctx.bank_bits, ctx.pc_bits);
    let tb = ctx.layout.table_bits;
    let mut m = Module::clocked(
        "mtn_vector",
        &[
            "Vector unit: RQ, VOP, LUT and RED, one row a cycle; row i is read at t + i and",
            "written at t + i + 4.",
        ],
    );
    issue_bundle(ctx).ports(&mut m, false);
    for op in [Opcode::Rq, Opcode::Vop, Opcode::Lut, Opcode::Red] {
        op_bundle(ctx, op).ports(&mut m, false);
    }
    for port in mem_ports() {
        port.bundle(ctx).ports(&mut m, true);
    }
    tables_bundle(ctx).ports(&mut m, false);
    retire_bundle("vec", ctx).ports(&mut m, true);

    let issue = |op: &str| id(format!("{op}_issue_i"));
    let any = m.wire("any_issue", 1);
    m.assign(
        any.clone(),
        issue("rq") | issue("vop") | issue("lut") | issue("red"),
    );
    // One-hot issue strobes pick the fields of the op that issued.
    let pick = |field: &dyn Fn(&str) -> Expr| -> Expr {
        mux(
            issue("rq"),
            field("rq"),
            mux(
                issue("vop"),
                field("vop"),
                mux(issue("lut"), field("lut"), field("red")),
            ),
        )
    };
    let f = |op: &str, name: &str| id(format!("{op}_{name}_i"));

    m.comment("Stage 0: operand a (RQ, LUT, RED: src) and, for VOP, operand b.");
    let a_field = |op: &str| match op {
        "vop" => "a",
        _ => "src",
    };
    let a_acc = pick(&|op| match op {
        "rq" => lit(1, 1),
        "lut" => lit(1, 0),
        _ => f(op, &format!("{}_space", a_field(op))),
    });
    let a = add_stream(
        &mut m,
        "a",
        rb,
        StreamSpec {
            start: any.clone(),
            base: pick(&|op| f(op, &format!("{}_row", a_field(op)))),
            step: pick(&|op| f(op, &format!("{}_step", a_field(op)))),
            count: pick(&|op| f(op, "count")),
            count_bits: 16,
            tag: cat(vec![
                a_acc,
                pick(&|op| f(op, &format!("{}_bank", a_field(op)))),
            ]),
            tag_bits: 1 + bb,
        },
    );
    let a_last = drive_read(&mut m, &VEC_A_READ, a);

    let same = m.wire("b_same", 1);
    m.assign(
        same.clone(),
        f("vop", "b_space")
            .eq(cat(vec![lit(1, 0), f("vop", "a_space")]))
            .land(f("vop", "b_bank").eq(f("vop", "a_bank")))
            .land(f("vop", "b_row").eq(f("vop", "a_row")))
            .land(f("vop", "b_step").eq(f("vop", "a_step"))),
    );
    let b_imm = f("vop", "b_space").eq(lit(2, SPACE_IMM));
    let b_mode = m.wire("b_mode", 2);
    m.assign(
        b_mode.clone(),
        mux(
            b_imm,
            lit(2, B_IMM),
            mux(same.clone(), lit(2, B_SAME), lit(2, B_READ)),
        ),
    );
    let b = add_stream(
        &mut m,
        "b",
        rb,
        StreamSpec {
            start: issue("vop").land(b_mode.clone().eq(lit(2, B_READ))),
            ..StreamSpec::operand(
                "vop",
                "b",
                cat(vec![f("vop", "b_space").bit(0), f("vop", "b_bank")]),
                1 + bb,
            )
        },
    );
    let b_last = drive_read(&mut m, &VEC_B_READ, b);

    m.comment("Stage 0: the destination stream carries the op's fields down the pipeline.");
    let kind = pick(&|op| {
        lit(
            2,
            match op {
                "rq" => KIND_RQ,
                "vop" => KIND_VOP,
                "lut" => KIND_LUT,
                _ => KIND_RED,
            },
        )
    });
    let fb = ctx.func_bits(Opcode::Vop);
    let func = mux(
        issue("vop"),
        f("vop", "func"),
        cat(vec![zero(fb - 1), f("red", "func")]),
    );
    let dst_acc = pick(&|op| match op {
        "rq" | "vop" | "lut" | "red" => f(op, "dst_space"),
        _ => unreachable!(),
    });
    // {kind, func, b_mode, imm, table, acc, bank, pc}
    let op_bits = 2 + fb + 2 + 32 + tb;
    let d_tag_bits = op_bits + 1 + bb + pcb;
    let dst = add_stream(
        &mut m,
        "d",
        rb,
        StreamSpec {
            start: any,
            base: pick(&|op| f(op, "dst_row")),
            step: pick(&|op| f(op, "dst_step")),
            count: pick(&|op| f(op, "count")),
            count_bits: 16,
            tag: cat(vec![
                kind,
                func,
                b_mode,
                f("vop", "imm"),
                f("lut", "table"),
                dst_acc,
                pick(&|op| f(op, "dst_bank")),
                id("issue_pc_i"),
            ]),
            tag_bits: d_tag_bits,
        },
    );
    let (d_valid, d_row, d_tag, d_last) = (dst.valid, dst.row, dst.tag, dst.last);
    sink(&mut m, "stream_last", vec![a_last, b_last]);

    m.comment("RQ reads its parameter entry as it issues; the entry arrives with row 0.");
    m.assign(id("param_rd_en_o"), issue("rq"));
    m.assign(id("param_rd_addr_o"), f("rq", "param"));

    // Stage 1 registers: control, and the op fields stages 1 needs.
    let c = Ctl::new(ctx);
    let d_op = d_tag.clone().bits(d_tag_bits - 1, d_tag_bits - op_bits);
    let d_low = 1 + bb + pcb;
    let ctl0 = cat(vec![
        d_valid,
        d_last,
        d_tag.clone().bits(d_tag_bits - 1, d_tag_bits - 2),
        d_tag.clone().bits(d_low - 1, pcb + bb).clone(),
        d_tag.clone().bits(pcb + bb - 1, pcb),
        d_row,
        d_tag.clone().bits(pcb - 1, 0),
    ]);
    let (s1c_d, s1c) = m.flop("s1_ctl", c.bits, true);
    m.assign(s1c_d, ctl0);
    let (s1op_d, s1op) = m.flop("s1_op", op_bits, true);
    m.assign(s1op_d, d_op);
    // {kind, func, b_mode, imm, table}
    let s1_func = s1op.clone().bits(op_bits - 3, op_bits - 2 - fb);
    let s1_bmode = s1op.clone().bits(op_bits - 3 - fb, op_bits - 4 - fb);
    let s1_imm = s1op.clone().bits(tb + 31, tb);
    let s1_table = s1op.clone().bits(tb - 1, 0);
    sink(&mut m, "s1_kind", vec![s1op.bits(op_bits - 1, op_bits - 2)]);
    let kind_is = |ctl: &Expr, k: u64| c.kind(ctl).eq(lit(2, k));

    m.comment("Stage 1: operands, the lane functions, the reduction and the table reads.");
    let a = id("vec_a_rd_data_i");
    let b = m.wire("b", 32 * n);
    m.assign(
        b.clone(),
        mux(
            s1_bmode.clone().eq(lit(2, B_IMM)),
            repeat(n, s1_imm.clone()),
            mux(
                s1_bmode.eq(lit(2, B_SAME)),
                a.clone(),
                id("vec_b_rd_data_i"),
            ),
        ),
    );
    let p = id("param_rd_data_i");
    let lane_param = |offset: u32, width: u32| {
        p.clone()
            .part(id("l").mul(int(width as i64)) + int(offset as i64), width)
    };
    let bias_at = 0;
    let mult_at = 32 * n;
    let shift_at = 64 * n;
    let common_at = (64 + PARAM_SHIFT_BITS) * n;
    let shift_bits = PARAM_SHIFT_BITS;

    let red = m.wire("red", 32);
    reduction(&mut m, ctx, &red, &s1_func);

    // Per-lane stage 1.
    let l = || id("l");
    let lane32 = |e: Expr| e.lane(l(), 32);
    let mut lane_items = Items::default();
    let la = lane_items.wire("la", 32, lane32(a.clone()));
    let lb = lane_items.wire("lb", 32, lane32(b.clone()));
    let sh = lane_items.wire("sh", 5, lb.clone().bits(4, 0));
    let signed_lt = lane_items.wire("lt", 1, la.clone().signed().lt(lb.clone().signed()));
    let sra = lane_items.wire("sra", 32, la.clone().signed().ashr(sh.clone()));
    let vop_arms = [
        (VopFunc::Add, {
            let sum = la.clone() + lb.clone();
            match ctx.fault {
                // The planted bug: bit 0 of lane 1 flipped.
                Some(crate::Fault::VopAddBitFlip) => sum ^ cat(vec![zero(31), id("l").eq(int(1))]),
                None => sum,
            }
        }),
        (VopFunc::Sub, la.clone() - lb.clone()),
        (VopFunc::Mul, la.clone().mul(lb.clone())),
        (VopFunc::Max, mux(signed_lt.clone(), lb.clone(), la.clone())),
        (VopFunc::Min, mux(signed_lt, la.clone(), lb.clone())),
        (
            VopFunc::Sel,
            mux(lb.clone().ne(lit(32, 0)), la.clone(), s1_imm.clone()),
        ),
        (VopFunc::Shl, la.clone().shl(sh)),
        (VopFunc::Sra, sra),
    ];
    lane_items.push(Item::Decl {
        kind: NetKind::Reg,
        name: "vop".into(),
        width: int(32),
        depth: None,
    });
    lane_items.push(Item::AlwaysComb(vec![Stmt::Case(
        s1_func.clone(),
        vop_arms
            .iter()
            .map(|(func, value)| {
                (
                    vec![lit(fb, *func as u64)],
                    vec![set(id("vop"), value.clone())],
                )
            })
            .collect(),
        vec![set(id("vop"), lit(32, 0))],
    )]));
    // RQ stage 1: bias, then the left shift (a positive shift).
    let biased = lane_items.wire("biased", 32, la.clone() + lane_param(bias_at, 32));
    let shift = lane_items.wire("shift", shift_bits, lane_param(shift_at, shift_bits));
    let left = lane_items.wire(
        "left",
        5,
        mux(
            shift.clone().bit(shift_bits - 1),
            lit(5, 0),
            shift.bits(4, 0),
        ),
    );
    let rq1 = lane_items.wire("rq1", 32, biased.shl(left));
    lane_items.wire(
        "s1_out",
        32,
        mux(
            kind_is(&s1c, KIND_RQ),
            rq1,
            mux(kind_is(&s1c, KIND_RED), red.clone(), id("vop")),
        ),
    );
    // The table entry index: the int8 input plus 128.
    lane_items.wire(
        "lut_index",
        ctx.lut_addr_bits,
        cat(vec![s1_table, la.clone().bit(7).lnot(), la.bits(6, 0)]),
    );
    lane_items.push(Item::Assign(
        id("lut_rd_addr_o").lane(l(), ctx.lut_addr_bits),
        id("lut_index"),
    ));
    lane_items.push(Item::Assign(lane32(id("s1_out_all")), id("s1_out")));
    m.wire("s1_out_all", 32 * n);
    m.items.push(lane_items.generate("l", n, "g_s1"));
    m.assign(
        id("lut_rd_en_o"),
        c.valid(&s1c).land(kind_is(&s1c, KIND_LUT)),
    );

    // Stage 2 registers.
    let pbits = param_entry_bits(n);
    let (s2c_d, s2c) = m.flop("s2_ctl", c.bits, true);
    m.assign(s2c_d, s1c.clone());
    let (s2x_d, s2x) = m.flop("s2_data", 32 * n, true);
    m.assign(s2x_d, id("s1_out_all"));
    let (s2p_d, s2p) = m.flop("s2_param", pbits - 32 * n, true);
    m.comment("RQ's per-lane multiplier and shift and the shared zero point and clamp.");
    m.assign(s2p_d, p.clone().bits(pbits - 1, 32 * n));
    // s2p holds the entry without the bias: mult at 0, shift at 32N, common at 38N.
    let s2_mult_at = mult_at - 32 * n;
    let s2_shift_at = shift_at - 32 * n;
    let s2_common_at = common_at - 32 * n;

    m.comment("Stage 2: the rounding doubling high multiply; LUT results arrive.");
    let mut items2 = Items::default();
    let x2 = items2.wire("x", 32, lane32(s2x.clone()));
    let m2 = items2.wire(
        "mult",
        32,
        s2p.clone()
            .part(l().mul(int(32)) + int(s2_mult_at as i64), 32),
    );
    // Signed operands are sign-extended to the 64-bit product's width.
    let prod = items2.wire("prod", 64, x2.clone().signed().mul(m2.clone().signed()));
    let rounded = items2.wire("rounded", 64, prod + lit(64, 1 << 30));
    let overflow = x2
        .clone()
        .eq(lit(32, 1 << 31))
        .land(m2.eq(lit(32, 1 << 31)));
    items2.wire(
        "unused_rounded",
        1,
        cat(vec![rounded.clone().bit(63), rounded.clone().bits(30, 0)]).reduce_xor(),
    );
    let rq2 = items2.wire(
        "rq2",
        32,
        mux(overflow, lit(32, 0x7fff_ffff), rounded.clone().bits(62, 31)),
    );
    items2.wire(
        "s2_out",
        32,
        mux(
            kind_is(&s2c, KIND_RQ),
            rq2,
            mux(kind_is(&s2c, KIND_LUT), lane32(id("lut_rd_data_i")), x2),
        ),
    );
    items2.push(Item::Assign(lane32(id("s2_out_all")), id("s2_out")));
    m.wire("s2_out_all", 32 * n);
    m.items.push(items2.generate("l", n, "g_s2"));

    // Stage 3 registers: the shift and the shared fields are still needed.
    let (s3c_d, s3c) = m.flop("s3_ctl", c.bits, true);
    m.assign(s3c_d, s2c.clone());
    let (s3x_d, s3x) = m.flop("s3_data", 32 * n, true);
    m.assign(s3x_d, id("s2_out_all"));
    let s3p_bits = pbits - 64 * n;
    let (s3p_d, s3p) = m.flop("s3_param", s3p_bits, true);
    m.assign(s3p_d, s2p.clone().bits(pbits - 32 * n - 1, s2_shift_at));
    let s3_common_at = s2_common_at - s2_shift_at;
    let zp = s3p.clone().bits(s3_common_at + 31, s3_common_at);
    let lo = s3p.clone().bits(s3_common_at + 63, s3_common_at + 32);
    let hi = s3p.clone().bits(s3_common_at + 95, s3_common_at + 64);

    m.comment("Stage 3: rounding divide by a power of two, zero point, clamp.");
    let mut items3 = Items::default();
    let x3 = items3.wire("x", 32, lane32(s3x.clone()));
    let shift3 = items3.wire(
        "shift",
        shift_bits,
        s3p.clone()
            .part(l().mul(int(shift_bits as i64)), shift_bits),
    );
    let negated = items3.wire("negated", shift_bits, shift3.clone().neg());
    let right = items3.wire(
        "right",
        shift_bits,
        mux(shift3.bit(shift_bits - 1), negated, zero(shift_bits)),
    );
    let mask = items3.wire("mask", 32, (lit(32, 1).shl(right.clone())) - lit(32, 1));
    let remainder = items3.wire("remainder", 32, x3.clone() & mask.clone());
    let threshold = items3.wire(
        "threshold",
        32,
        mask.shr(lit(32, 1)) + cat(vec![zero(31), x3.clone().bit(31)]),
    );
    let shifted = items3.wire("shifted", 32, x3.clone().signed().ashr(right));
    let divided = items3.wire(
        "divided",
        32,
        shifted + cat(vec![zero(31), remainder.gt(threshold)]),
    );
    let with_zp = items3.wire(
        "with_zp",
        33,
        sext(divided, 32, 33) + sext(zp.clone(), 32, 33),
    );
    let below = items3.wire(
        "below",
        1,
        with_zp
            .clone()
            .signed()
            .lt(sext(lo.clone(), 32, 33).signed()),
    );
    let above = items3.wire(
        "above",
        1,
        sext(hi.clone(), 32, 33)
            .signed()
            .lt(with_zp.clone().signed()),
    );
    let rq3 = items3.wire(
        "rq3",
        32,
        mux(below, lo, mux(above, hi, with_zp.bits(31, 0))),
    );
    items3.wire("s3_out", 32, mux(kind_is(&s3c, KIND_RQ), rq3, x3));
    items3.push(Item::Assign(lane32(id("s3_out_all")), id("s3_out")));
    m.wire("s3_out_all", 32 * n);
    m.items.push(items3.generate("l", n, "g_s3"));

    // Stage 4: the write.
    let (s4c_d, s4c) = m.flop("s4_ctl", c.bits, true);
    m.assign(s4c_d, s3c);
    let (s4x_d, s4x) = m.flop("s4_data", 32 * n, true);
    m.assign(s4x_d, id("s3_out_all"));
    m.comment(&format!(
        "Stage {VECTOR_LATENCY}: write the row; the instruction completes with its last row."
    ));
    m.assign(id("vec_wr_en_o"), c.valid(&s4c));
    m.assign(id("vec_wr_acc_o"), c.acc(&s4c));
    m.assign(id("vec_wr_bank_o"), c.bank(&s4c));
    m.assign(id("vec_wr_row_o"), c.row(&s4c));
    m.assign(id("vec_wr_data_o"), s4x);
    m.assign(id("vec_retire_o"), c.valid(&s4c).land(c.last(&s4c)));
    m.assign(id("vec_retire_pc_o"), c.pc(&s4c));
    sink(&mut m, "s4_kind", vec![c.kind(&s4c)]);
    m
}

/// `RED`: the wrapping sum or the signed maximum of stage 1's `a` lanes.
fn reduction(m: &mut Module, ctx: &Ctx, out: &Expr, func: &Expr) {
    let n = ctx.n;
    let lane = |l: u32| id("vec_a_rd_data_i").part(int((32 * l) as i64), 32);
    let mut sum = lane(0);
    for l in 1..n {
        sum = sum + lane(l);
    }
    let sum_w = m.wire("red_sum", 32);
    m.assign(sum_w.clone(), sum);
    let mut best = lane(0);
    for l in 1..n {
        let name = format!("red_max_{l}");
        let w = m.wire(&name, 32);
        m.assign(
            w.clone(),
            mux(best.clone().signed().lt(lane(l).signed()), lane(l), best),
        );
        best = w;
    }
    // The pipeline carries the function field at `VOP`'s width; `RED`'s is zero-extended.
    let is_max = func
        .clone()
        .eq(lit(ctx.func_bits(Opcode::Vop), RedFunc::Max as u64));
    m.assign(out.clone(), mux(is_max, best, sum_w));
}
