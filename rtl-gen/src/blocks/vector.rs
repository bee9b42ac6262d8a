//! The vector unit: `RQ`, `VOP`, `LUT` and `RED` in one pipeline, one row a cycle.
//!
//! Stage `s` of row `i` is cycle `t + i + s`: stage 0 reads, stage 1 has the data (and reads
//! the lookup tables), stages 1-3 compute (requantization needs all three: bias and left
//! shift; the rounding doubling high multiply; the rounding right shift, zero point and
//! clamp), and stage `V` writes, `V` being the config's vector latency
//! ([`Datapath::Vector`]); stages 4 to `V - 1`, if any, only carry the row.

use isa::encoding::bits_for;
use isa::ops::{FieldKind, Opcode, RedFunc, Unit, VopFunc};
use isa::timing::Datapath;

use super::bus::{drive_read, retire, retire_bundle, retire_pc, sink, Bundle, MemPort, Reach};
use super::mxu::sext;
use super::prims::{add_stream, StreamSpec};
use super::seq::{decoded, funcs, issue_bundle, issued, op_bundle, operand, ops_of};
use crate::ast::*;
use crate::ctx::{param_entry_bits, param_layout, Ctx};
use crate::host_map::ParamField;
use crate::packed::{fields, Enum, Packed};
use crate::pipeline::Pipeline;

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
        .unwrap_or(1)
}

fn has_func(op: Opcode) -> bool {
    op.spec()
        .fields
        .iter()
        .any(|f| matches!(f.kind, FieldKind::Func(_)))
}

/// One lane of `VOP func` (stage 1): `a` and `b` are the lane's operands, `imm` the op's.
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
        VopFunc::Mul => a.clone().mul(b.clone()),
        VopFunc::Max => mux(id("a_lt_b"), b.clone(), a.clone()),
        VopFunc::Min => mux(id("a_lt_b"), a.clone(), b.clone()),
        VopFunc::Sel => mux(b.clone().ne(lit(32, 0)), a.clone(), imm.clone()),
        VopFunc::Shl => a.clone().shl(b.clone().bits(4, 0)),
        VopFunc::Sra => lane.wire("sra", 32, a.clone().signed().ashr(b.clone().bits(4, 0))),
    }
}

/// `mtn_vector`.
pub fn vector(ctx: &Ctx) -> Module {
    let n = ctx.n;
    let (rb, bb, pcb) = (ctx.row_bits, ctx.bank_bits, ctx.pc_bits);
    let latency = Datapath::Vector.latency(&ctx.cfg);
    let mut m = Module::clocked(
        "mtn_vector",
        &[
            "Vector unit: RQ, VOP, LUT and RED, one row a cycle; row i is read at t + i and",
            &format!("written at t + i + {latency}."),
        ],
    );
    issue_bundle(ctx).ports(&mut m, false);
    let ops: Vec<Opcode> = ops_of(&[Unit::Vector]).collect();
    for op in &ops {
        op_bundle(ctx, *op).ports(&mut m, false);
    }
    for port in mem_ports() {
        port.bundle(ctx).ports(&mut m, true);
    }
    tables_bundle(ctx).ports(&mut m, false);
    retire_bundle(Unit::Vector, ctx).ports(&mut m, true);

    let fb = func_bits(ctx, &ops);
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
    let vop_funcs = funcs(Opcode::Vop, fb, VopFunc::ALL, VopFunc::NAMES);
    let red_funcs = funcs(Opcode::Red, fb, RedFunc::ALL, RedFunc::NAMES);

    let any = m.wire("any_issue", 1);
    m.assign(
        any.clone(),
        ops.iter()
            .map(|op| issued(*op))
            .reduce(|a, b| a | b)
            .expect("the vector unit runs ops"),
    );
    // One-hot issue strobes pick the value of the op that issued.
    let pick = |value: &dyn Fn(Opcode) -> Expr| -> Expr {
        let (last, rest) = ops.split_last().expect("the vector unit runs ops");
        rest.iter().rev().fold(value(*last), |other, op| {
            mux(issued(*op), value(*op), other)
        })
    };
    let read = |op: Opcode, k: usize| operand(ctx, op, operand_fields(op).0[k]);
    let dest = |op: Opcode| operand(ctx, op, operand_fields(op).1);
    let count = |op: Opcode| decoded(ctx, op, "count");

    m.comment("Stage 0: operand a (RQ, LUT, RED: src) and, for VOP, operand b.");
    let a = add_stream(
        &mut m,
        "a",
        rb,
        StreamSpec {
            start: any.clone(),
            base: pick(&|op| read(op, 0).row),
            step: pick(&|op| read(op, 0).step),
            count: pick(&count),
            count_bits: 16,
            tag: cat(vec![
                pick(&|op| read(op, 0).acc),
                pick(&|op| read(op, 0).bank),
            ]),
            tag_bits: 1 + bb,
        },
    );
    let a_last = drive_read(&mut m, &VEC_A_READ, a);

    let (va, vb) = (read(Opcode::Vop, 0), read(Opcode::Vop, 1));
    let b_imm = decoded(ctx, Opcode::Vop, "b_imm");
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
    let b_source = m.wire("b_from", 2);
    m.assign(
        b_source.clone(),
        mux(
            b_imm,
            b_from.of(BFrom::Imm),
            mux(same, b_from.of(BFrom::A), b_from.of(BFrom::Read)),
        ),
    );
    let b = add_stream(
        &mut m,
        "b",
        rb,
        StreamSpec {
            start: issued(Opcode::Vop).land(b_source.clone().eq(b_from.of(BFrom::Read))),
            base: vb.row,
            step: vb.step,
            count: count(Opcode::Vop),
            count_bits: 16,
            tag: cat(vec![vb.acc, vb.bank]),
            tag_bits: 1 + bb,
        },
    );
    let b_last = drive_read(&mut m, &VEC_B_READ, b);

    m.comment("Stage 0: the destination stream carries the op's fields down the pipeline.");
    let tb = ctx.layout.table_bits;
    let tag = Packed::new("Tag", |f| match f {
        Tag::Kind => kinds.width(),
        Tag::Func => fb,
        Tag::BFrom => 2,
        Tag::Imm => 32,
        Tag::Table => tb,
        Tag::Acc => 1,
        Tag::Bank => bb,
        Tag::Pc => pcb,
    });
    let func_of = |op: Opcode| {
        if has_func(op) {
            let f = decoded(ctx, op, "func");
            let w = ctx.func_bits(op);
            if w < fb {
                cat(vec![zero(fb - w), f])
            } else {
                f
            }
        } else {
            zero(fb)
        }
    };
    let dst = add_stream(
        &mut m,
        "d",
        rb,
        StreamSpec {
            start: any,
            base: pick(&|op| dest(op).row),
            step: pick(&|op| dest(op).step),
            count: pick(&count),
            count_bits: 16,
            tag: tag.pack(|f| match f {
                Tag::Kind => pick(&|op| kinds.of(op)),
                Tag::Func => pick(&func_of),
                Tag::BFrom => b_source.clone(),
                Tag::Imm => decoded(ctx, Opcode::Vop, "imm"),
                Tag::Table => decoded(ctx, Opcode::Lut, "table"),
                Tag::Acc => pick(&|op| dest(op).acc),
                Tag::Bank => pick(&|op| dest(op).bank),
                Tag::Pc => id("issue_pc_i"),
            }),
            tag_bits: tag.bits(),
        },
    );
    sink(&mut m, "stream_last", vec![a_last, b_last]);

    m.comment("RQ reads its parameter entry as it issues; the entry arrives with row 0.");
    m.assign(id("param_rd_en_o"), issued(Opcode::Rq));
    m.assign(id("param_rd_addr_o"), decoded(ctx, Opcode::Rq, "param"));

    let ctl = Packed::new("Ctl", |f| match f {
        Ctl::Valid | Ctl::Last | Ctl::Acc => 1,
        Ctl::Kind => kinds.width(),
        Ctl::Bank => bb,
        Ctl::Row => rb,
        Ctl::Pc => pcb,
    });
    let args = Packed::new("Args", |f| match f {
        Args::Func => fb,
        Args::BFrom => 2,
        Args::Imm => 32,
        Args::Table => tb,
    });
    let mut pipe = Pipeline::new(Datapath::Vector);
    let d_tag = dst.tag;
    let s1 = pipe.stage(
        &mut m,
        vec![
            (
                "ctl",
                ctl.bits(),
                ctl.pack(|f| match f {
                    Ctl::Valid => dst.valid.clone(),
                    Ctl::Last => dst.last.clone(),
                    Ctl::Kind => tag.get(&d_tag, Tag::Kind),
                    Ctl::Acc => tag.get(&d_tag, Tag::Acc),
                    Ctl::Bank => tag.get(&d_tag, Tag::Bank),
                    Ctl::Row => dst.row.clone(),
                    Ctl::Pc => tag.get(&d_tag, Tag::Pc),
                }),
            ),
            (
                "args",
                args.bits(),
                args.pack(|f| match f {
                    Args::Func => tag.get(&d_tag, Tag::Func),
                    Args::BFrom => tag.get(&d_tag, Tag::BFrom),
                    Args::Imm => tag.get(&d_tag, Tag::Imm),
                    Args::Table => tag.get(&d_tag, Tag::Table),
                }),
            ),
        ],
    );
    let (s1c, s1a) = (s1[0].clone(), s1[1].clone());
    let kind_is = |c: &Expr, op: Opcode| ctl.get(c, Ctl::Kind).eq(kinds.of(op));
    let s1_func = m.wire("s1_func", fb);
    m.assign(s1_func.clone(), args.get(&s1a, Args::Func));
    let s1_imm = m.wire("s1_imm", 32);
    m.assign(s1_imm.clone(), args.get(&s1a, Args::Imm));

    m.comment("Stage 1: operands, the lane functions, the reduction and the table reads.");
    let a = VEC_A_READ.data();
    let b = m.wire("b", 32 * n);
    let s1_from = args.get(&s1a, Args::BFrom);
    m.assign(
        b.clone(),
        mux(
            s1_from.clone().eq(b_from.of(BFrom::Imm)),
            repeat(n, s1_imm.clone()),
            mux(
                s1_from.eq(b_from.of(BFrom::A)),
                a.clone(),
                VEC_B_READ.data(),
            ),
        ),
    );
    let entry = param_layout(n);
    let p = id("param_rd_data_i");

    let red = m.wire("red", 32);
    reduction(&mut m, ctx, &red, &s1_func, &red_funcs);

    // Per-lane stage 1.
    let l = || id("l");
    let lane32 = |e: Expr| e.lane(l(), 32);
    let mut lane = Items::default();
    let la = lane.wire("la", 32, lane32(a.clone()));
    let lb = lane.wire("lb", 32, lane32(b.clone()));
    lane.wire("a_lt_b", 1, la.clone().signed().lt(lb.clone().signed()));
    let fault = ctx.fault == Some(crate::Fault::VopAddBitFlip);
    let arms: Vec<(Vec<Expr>, Vec<Stmt>)> = VopFunc::ALL
        .iter()
        .map(|func| {
            let value = vop_lane(*func, &mut lane, &la, &lb, &s1_imm, fault);
            (vec![vop_funcs.of(*func)], vec![set(id("vop"), value)])
        })
        .collect();
    lane.push(Item::Decl {
        kind: NetKind::Reg,
        name: "vop".into(),
        width: int(32),
        depth: None,
    });
    lane.push(Item::AlwaysComb(vec![Stmt::Case(
        s1_func.clone(),
        arms,
        vec![set(id("vop"), lit(32, 0))],
    )]));
    // RQ stage 1: bias, then the left shift (a positive shift).
    let shift_bits = ParamField::Shift.value_bits();
    let biased = lane.wire(
        "biased",
        32,
        la.clone() + entry.element(&p, ParamField::Bias, l(), 32),
    );
    let shift = lane.wire(
        "shift",
        shift_bits,
        entry.element(&p, ParamField::Shift, l(), shift_bits),
    );
    let left = lane.wire(
        "left",
        5,
        mux(
            shift.clone().bit(shift_bits - 1),
            lit(5, 0),
            shift.bits(4, 0),
        ),
    );
    let rq1 = lane.wire("rq1", 32, biased.shl(left));
    lane.wire(
        "s1_out",
        32,
        mux(
            kind_is(&s1c, Opcode::Rq),
            rq1,
            mux(kind_is(&s1c, Opcode::Red), red.clone(), id("vop")),
        ),
    );
    // The table entry index: the int8 input plus 128.
    lane.wire(
        "lut_index",
        ctx.lut_addr_bits,
        cat(vec![
            args.get(&s1a, Args::Table),
            la.clone().bit(7).lnot(),
            la.bits(6, 0),
        ]),
    );
    lane.push(Item::Assign(
        id("lut_rd_addr_o").lane(l(), ctx.lut_addr_bits),
        id("lut_index"),
    ));
    lane.push(Item::Assign(lane32(id("s1_out_all")), id("s1_out")));
    m.wire("s1_out_all", 32 * n);
    m.items.push(lane.generate("l", n, "g_s1"));
    m.assign(
        id("lut_rd_en_o"),
        ctl.get(&s1c, Ctl::Valid).land(kind_is(&s1c, Opcode::Lut)),
    );

    // Stage 2: RQ's parameters without the bias, which stage 1 added.
    let rq2 = Packed::new("RqS2", |f| match f {
        ParamField::Bias => 0,
        f => f.bits(n),
    });
    let s2 = pipe.stage(
        &mut m,
        vec![
            ("ctl", ctl.bits(), s1c.clone()),
            ("data", 32 * n, id("s1_out_all")),
            ("param", rq2.bits(), rq2.pack(|f| entry.get(&p, f))),
        ],
    );
    let (s2c, s2x, s2p) = (s2[0].clone(), s2[1].clone(), s2[2].clone());

    m.comment("Stage 2: the rounding doubling high multiply; LUT results arrive.");
    let mut items2 = Items::default();
    let x2 = items2.wire("x", 32, lane32(s2x));
    let m2 = items2.wire(
        "mult",
        32,
        rq2.element(&s2p, ParamField::Multiplier, l(), 32),
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
    let rq2_out = items2.wire(
        "rq2",
        32,
        mux(overflow, lit(32, 0x7fff_ffff), rounded.clone().bits(62, 31)),
    );
    items2.wire(
        "s2_out",
        32,
        mux(
            kind_is(&s2c, Opcode::Rq),
            rq2_out,
            mux(kind_is(&s2c, Opcode::Lut), lane32(id("lut_rd_data_i")), x2),
        ),
    );
    items2.push(Item::Assign(lane32(id("s2_out_all")), id("s2_out")));
    m.wire("s2_out_all", 32 * n);
    m.items.push(items2.generate("l", n, "g_s2"));

    // Stage 3: the shift and the shared fields are still needed.
    let rq3 = Packed::new("RqS3", |f| match f {
        ParamField::Bias | ParamField::Multiplier => 0,
        f => f.bits(n),
    });
    let s3 = pipe.stage(
        &mut m,
        vec![
            ("ctl", ctl.bits(), s2c.clone()),
            ("data", 32 * n, id("s2_out_all")),
            ("param", rq3.bits(), rq3.pack(|f| rq2.get(&s2p, f))),
        ],
    );
    let (s3c, s3x, s3p) = (s3[0].clone(), s3[1].clone(), s3[2].clone());
    let zp = m.wire("zero_point", 32);
    m.assign(zp.clone(), rq3.get(&s3p, ParamField::ZeroPoint));
    let lo = m.wire("act_min", 32);
    m.assign(lo.clone(), rq3.get(&s3p, ParamField::ActMin));
    let hi = m.wire("act_max", 32);
    m.assign(hi.clone(), rq3.get(&s3p, ParamField::ActMax));

    m.comment("Stage 3: rounding divide by a power of two, zero point, clamp.");
    let mut items3 = Items::default();
    let x3 = items3.wire("x", 32, lane32(s3x));
    let shift3 = items3.wire(
        "shift",
        shift_bits,
        rq3.element(&s3p, ParamField::Shift, l(), shift_bits),
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
    let with_zp = items3.wire("with_zp", 33, sext(divided, 32, 33) + sext(zp, 32, 33));
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
    let rq3_out = items3.wire(
        "rq3",
        32,
        mux(below, lo, mux(above, hi, with_zp.bits(31, 0))),
    );
    items3.wire("s3_out", 32, mux(kind_is(&s3c, Opcode::Rq), rq3_out, x3));
    items3.push(Item::Assign(lane32(id("s3_out_all")), id("s3_out")));
    m.wire("s3_out_all", 32 * n);
    m.items.push(items3.generate("l", n, "g_s3"));

    // Stages past the arithmetic, when the config asks for a deeper pipeline, then the
    // write stage.
    let pad = latency - pipe.depth() - 1;
    if pad > 0 {
        m.comment(&format!(
            "{pad} stage(s) of timing slack: the config's vector latency is {latency}."
        ));
    }
    let padded = pipe.delay(
        &mut m,
        pad,
        vec![
            ("pad_ctl", ctl.bits(), s3c),
            ("pad_data", 32 * n, id("s3_out_all")),
        ],
    );
    let (padded_ctl, padded_data) = (padded[0].clone(), padded[1].clone());
    let (wc, wx) = if ctx.fault == Some(crate::Fault::ShortVectorPipeline) {
        (padded_ctl, padded_data)
    } else {
        let w = pipe.stage(
            &mut m,
            vec![
                ("ctl", ctl.bits(), padded_ctl),
                ("data", 32 * n, padded_data),
            ],
        );
        (w[0].clone(), w[1].clone())
    };
    m.comment(&format!(
        "Stage {latency}: write the row; the instruction completes with its last row."
    ));
    let valid = ctl.get(&wc, Ctl::Valid);
    m.assign(id("vec_wr_en_o"), valid.clone());
    m.assign(id("vec_wr_acc_o"), ctl.get(&wc, Ctl::Acc));
    m.assign(id("vec_wr_bank_o"), ctl.get(&wc, Ctl::Bank));
    m.assign(id("vec_wr_row_o"), ctl.get(&wc, Ctl::Row));
    m.assign(id("vec_wr_data_o"), wx);
    m.assign(retire(Unit::Vector), valid.land(ctl.get(&wc, Ctl::Last)));
    m.assign(retire_pc(Unit::Vector), ctl.get(&wc, Ctl::Pc));
    sink(&mut m, "write_kind", vec![ctl.get(&wc, Ctl::Kind)]);
    pipe.finish(&mut m);

    red_funcs.declare(&mut m, "RED functions, at the pipeline's function width.");
    vop_funcs.declare(&mut m, "VOP functions.");
    b_from.declare(&mut m, "Where VOP's b operand comes from.");
    kinds.declare(&mut m, "The op each row belongs to.");
    rq3.declare(&mut m, "Stage 3's parameters");
    rq2.declare(&mut m, "Stage 2's parameters");
    entry.declare(&mut m, "A parameter entry");
    args.declare(&mut m, "Stage 1's op fields");
    ctl.declare(&mut m, "Every stage's control");
    tag.declare(&mut m, "The destination stream's tag");
    m
}

/// `RED`: every function over stage 1's `a` lanes, picked by `func`.
fn reduction(m: &mut Module, ctx: &Ctx, out: &Expr, func: &Expr, funcs: &Enum<RedFunc>) {
    let n = ctx.n;
    let lane = |l: u32| VEC_A_READ.data().part(int((32 * l) as i64), 32);
    let value = |m: &mut Module, f: RedFunc| -> Expr {
        match f {
            RedFunc::Sum => {
                let sum = (1..n).fold(lane(0), |acc, l| acc + lane(l));
                let w = m.wire("red_sum", 32);
                m.assign(w.clone(), sum);
                w
            }
            RedFunc::Max => (1..n).fold(lane(0), |best, l| {
                let w = m.wire(&format!("red_max_{l}"), 32);
                m.assign(
                    w.clone(),
                    mux(best.clone().signed().lt(lane(l).signed()), lane(l), best),
                );
                w
            }),
        }
    };
    let arms: Vec<(RedFunc, Expr)> = RedFunc::ALL.iter().map(|f| (*f, value(m, *f))).collect();
    let (last, rest) = arms.split_last().expect("RED has functions");
    let picked = rest.iter().rev().fold(last.1.clone(), |other, (f, v)| {
        mux(func.clone().eq(funcs.of(*f)), v.clone(), other)
    });
    m.assign(out.clone(), picked);
}
