//! The permute unit (`PERM`) and the memory unit (`MOV`).
//!
//! Rotate and shift read row `i` at `t + i` and write it at `t + i + 2`, like `MOV`.
//! Transpose reads tile `c` row `k` at `t + cN + k` into one of two tile buffers (tiles
//! alternate, so tile `c + 1` fills while tile `c` drains) and writes the tile's column `j`
//! as row `j` at `t + cN + N + 1 + j`.

use isa::encoding::{bits_for, COUNT_BITS};
use isa::ops::{Opcode, PermFunc, Unit};
use isa::timing::Datapath;

use super::bus::{drive_read, retire, retire_bundle, retire_pc, sink, MemPort, Reach};
use super::prims::{add_stream, StreamSpec};
use super::seq::{decoded, funcs, issue_bundle, issued, op_bundle, operand, ops_of};
use crate::ast::*;
use crate::ctx::Ctx;
use crate::packed::{fields, Enum, Packed};
use crate::pipeline::{await_read, Pipeline};

pub const PERM_READ: MemPort = MemPort::read("perm", Reach::Sram, 8);
pub const PERM_WRITE: MemPort = MemPort::write("perm", Reach::Sram, 8);
pub const MOV_READ: MemPort = MemPort::read("mov", Reach::Any, 32);
pub const MOV_WRITE: MemPort = MemPort::write("mov", Reach::Any, 32);

pub fn perm_ports() -> [MemPort; 2] {
    [PERM_READ, PERM_WRITE]
}

pub fn move_ports() -> [MemPort; 2] {
    [MOV_READ, MOV_WRITE]
}

fields! {
    /// What the destination stream holds for the whole op.
    enum Tag {
        Transpose = "transpose",
        Func = "func",
        Amount = "amount",
        Bank = "bank",
        Pc = "pc",
    }
}

fields! {
    /// What a row's write needs: whether and where, and which instruction it completes.
    enum Write {
        Valid = "valid",
        Last = "last",
        Bank = "bank",
        Row = "row",
        Pc = "pc",
    }
}

fields! {
    /// Rotate and shift, stage 1: the write, and how to move the lanes.
    enum Lanes {
        Write = "write",
        Func = "func",
        Amount = "amount",
    }
}

fields! {
    /// Where a row read for a transpose goes: its tile buffer and its row `k` there.
    enum Fill {
        Valid = "valid",
        Buffer = "buffer",
        K = "k",
    }
}

fields! {
    /// A transposed row's write: the write, and the tile buffer and column it comes from.
    enum Column {
        Write = "write",
        Buffer = "buffer",
        J = "j",
    }
}

/// A row of `data` (`N` int8 lanes) moved by `func` by `shift` bits (the lane amount times
/// 8), or `None` for the transpose, which moves tiles, not lanes.
fn lanes_moved(func: PermFunc, data: &Expr, shift: &Expr, n: u32, lb: u32) -> Option<Expr> {
    match func {
        PermFunc::Transpose => None,
        PermFunc::Rotate => Some(
            data.clone().shr(shift.clone())
                | data
                    .clone()
                    .shl(lit(lb + 4, 8 * n as u64) - cat(vec![lit(1, 0), shift.clone()])),
        ),
        PermFunc::ShiftDown => Some(data.clone().shr(shift.clone())),
        PermFunc::ShiftUp => Some(data.clone().shl(shift.clone())),
    }
}

/// `mtn_permute`.
pub fn permute(ctx: &Ctx) -> Module {
    let n = ctx.n;
    let (rb, bb, pcb) = (ctx.row_bits, ctx.bank_bits, ctx.pc_bits);
    let lb = bits_for(n);
    let lanes_latency = Datapath::PermuteLanes.latency(&ctx.cfg);
    let mut m = Module::clocked(
        "mtn_permute",
        &[
            &format!(
                "Permute unit: lane rotate and shifts (row i read at t + i, written at t + i + {lanes_latency})"
            ),
            "and N x N tile transpose through two alternating tile buffers (tile c row k read",
            "at t + cN + k; its column j written as row j at t + cN + N + 1 + j).",
        ],
    );
    issue_bundle(ctx).ports(&mut m, false);
    for op in ops_of(ctx, &[Unit::Permute]) {
        op_bundle(ctx, op).ports(&mut m, false);
    }
    for port in perm_ports() {
        port.bundle(ctx).ports(&mut m, true);
    }
    retire_bundle(Unit::Permute, ctx).ports(&mut m, true);

    let fb = ctx.func_bits(Opcode::Perm);
    let perm_funcs = funcs(Opcode::Perm, fb, PermFunc::ALL, PermFunc::NAMES);
    let f = |name: &str| decoded(ctx, Opcode::Perm, name);
    let transposing = f("func").eq(perm_funcs.of(PermFunc::Transpose));
    // A transpose streams count * N rows; N is a power of two.
    let cb = COUNT_BITS + lb;
    let rows = m.wire("rows", cb);
    m.assign(
        rows.clone(),
        mux(
            transposing.clone(),
            cat(vec![f("count"), zero(lb)]),
            cat(vec![zero(lb), f("count")]),
        ),
    );
    let src = add_stream(
        &mut m,
        "src",
        rb,
        StreamSpec {
            count: rows.clone(),
            count_bits: cb,
            ..StreamSpec::operand(ctx, Opcode::Perm, "src", f("src_bank"), bb)
        },
    );
    let src_last = drive_read(&mut m, &PERM_READ, src);
    let tag = Packed::new("Tag", |f| match f {
        Tag::Transpose => 1,
        Tag::Func => fb,
        Tag::Amount => lb,
        Tag::Bank => bb,
        Tag::Pc => pcb,
    });
    let dst = add_stream(
        &mut m,
        "dst",
        rb,
        StreamSpec {
            count: rows,
            count_bits: cb,
            ..StreamSpec::operand(
                ctx,
                Opcode::Perm,
                "dst",
                tag.pack(|t| match t {
                    Tag::Transpose => transposing.clone(),
                    Tag::Func => f("func"),
                    Tag::Amount => f("amount"),
                    Tag::Bank => f("dst_bank"),
                    Tag::Pc => id("issue_pc_i"),
                }),
                tag.bits(),
            )
        },
    );
    sink(&mut m, "src_last", vec![src_last]);
    let is_transpose = m.wire("is_transpose", 1);
    m.assign(is_transpose.clone(), tag.get(&dst.tag, Tag::Transpose));
    let write = Packed::new("Write", |f| match f {
        Write::Valid | Write::Last => 1,
        Write::Bank => bb,
        Write::Row => rb,
        Write::Pc => pcb,
    });
    // The row's write, if `valid` says this path takes it.
    let write_of = |valid: Expr| {
        write.pack(|w| match w {
            Write::Valid => valid.clone(),
            Write::Last => dst.last.clone(),
            Write::Bank => tag.get(&dst.tag, Tag::Bank),
            Write::Row => dst.row.clone(),
            Write::Pc => tag.get(&dst.tag, Tag::Pc),
        })
    };

    // Row m of a transpose is row k = m mod N of tile m / N, which fills buffer (m / N) mod 2.
    m.comment("Transpose: the row's place {buffer, k} counts rows modulo 2N.");
    let (md, mq) = m.flop("tile_pos", lb + 1, true);
    let pos = m.wire("pos", lb + 1);
    m.assign(
        pos.clone(),
        mux(issued(Opcode::Perm), zero(lb + 1), mq.clone()),
    );
    m.assign(md, mux(dst.valid.clone(), pos.clone() + lit(lb + 1, 1), mq));

    let (lanes_write, lanes_data) = move_lanes(
        &mut m,
        ctx,
        &perm_funcs,
        &write,
        write_of(dst.valid.clone().land(is_transpose.clone().lnot())),
        [tag.get(&dst.tag, Tag::Func), tag.get(&dst.tag, Tag::Amount)],
    );
    let (tw_write, column) = transpose(
        &mut m,
        ctx,
        &write,
        dst.valid.clone().land(is_transpose.clone()),
        write_of(dst.valid.clone().land(is_transpose)),
        &pos,
    );

    m.comment("One write port: rotated and shifted rows, or transposed ones.");
    let lanes_valid = write.get(&lanes_write, Write::Valid);
    let out = m.wire("write", write.bits());
    m.assign(
        out.clone(),
        mux(lanes_valid.clone(), lanes_write.clone(), tw_write),
    );
    m.assign(id("perm_wr_en_o"), write.get(&out, Write::Valid));
    m.assign(id("perm_wr_data_o"), mux(lanes_valid, lanes_data, column));
    m.assign(id("perm_wr_bank_o"), write.get(&out, Write::Bank));
    m.assign(id("perm_wr_row_o"), write.get(&out, Write::Row));
    m.assign(retire_pc(Unit::Permute), write.get(&out, Write::Pc));
    m.assign(
        retire(Unit::Permute),
        write
            .get(&out, Write::Valid)
            .land(write.get(&out, Write::Last)),
    );
    perm_funcs.declare(&mut m, "PERM functions.");
    tag.declare(&mut m, "The destination stream's tag");
    write.declare(&mut m, "A row's write");
    m
}

/// Rotate and shift: stage 1 moves the lanes of the row read, stage 2 holds it for the
/// write. `first_write` is the row's write (valid for these functions only), `func_amount`
/// the op's function and lane amount. Returns the write stage's control and row.
fn move_lanes(
    m: &mut Module,
    ctx: &Ctx,
    perm_funcs: &Enum<PermFunc>,
    write: &Packed<Write>,
    first_write: Expr,
    func_amount: [Expr; 2],
) -> (Expr, Expr) {
    let n = ctx.n;
    let lb = bits_for(n);
    let fb = perm_funcs.width();
    m.comment("Rotate/shift: stage 1 moves the lanes; stage 2 holds the row for the write.");
    let lanes = Packed::new("Lanes", |f| match f {
        Lanes::Write => write.bits(),
        Lanes::Func => fb,
        Lanes::Amount => lb,
    });
    let [func, amount] = func_amount;
    let mut pipe = Pipeline::new(Datapath::PermuteLanes);
    let s1 = pipe.stage(
        m,
        vec![(
            "lanes",
            lanes.bits(),
            lanes.pack(|l| match l {
                Lanes::Write => first_write.clone(),
                Lanes::Func => func.clone(),
                Lanes::Amount => amount.clone(),
            }),
        )],
    );
    let s1 = pipe.await_read(
        m,
        &ctx.cfg,
        vec![("lanes_read", lanes.bits(), s1[0].clone())],
    );
    let s1 = &s1[0];
    let data = PERM_READ.data();
    let sh = m.wire("lane_shift", lb + 3);
    m.assign(
        sh.clone(),
        cat(vec![lanes.get(s1, Lanes::Amount), lit(3, 0)]),
    );
    let s1_func = m.wire("s1_func", fb);
    m.assign(s1_func.clone(), lanes.get(s1, Lanes::Func));
    let moved: Vec<(PermFunc, Expr)> = PermFunc::ALL
        .iter()
        .filter_map(|func| lanes_moved(*func, &data, &sh, n, lb).map(|e| (*func, e)))
        .collect();
    let (last, rest) = moved.split_last().expect("PERM moves lanes");
    let permuted = m.wire("permuted", 8 * n);
    m.assign(
        permuted.clone(),
        rest.iter()
            .rev()
            .fold(last.1.clone(), |other, (func, value)| {
                mux(
                    s1_func.clone().eq(perm_funcs.of(*func)),
                    value.clone(),
                    other,
                )
            }),
    );
    let s2 = pipe.stage(
        m,
        vec![
            ("write", write.bits(), lanes.get(s1, Lanes::Write)),
            ("data", 8 * n, permuted),
        ],
    );
    pipe.finish(m);
    lanes.declare(m, "Rotate and shift, stage 1");
    (s2[0].clone(), s2[1].clone())
}

/// Transpose: the row read at `pos` ({buffer, k}) fills row `k` of its tile buffer as it
/// arrives, a cycle later and the read registers' after that (when `fill_valid`); its write
/// (`row_write`) waits as long and N more cycles and takes column `j` of the buffer. Returns
/// the write control and the column.
fn transpose(
    m: &mut Module,
    ctx: &Ctx,
    write: &Packed<Write>,
    fill_valid: Expr,
    row_write: Expr,
    pos: &Expr,
) -> (Expr, Expr) {
    let n = ctx.n;
    let lb = bits_for(n);
    m.comment("Transpose: stage 1 stores the row in its tile buffer.");
    let fill = Packed::new("Fill", |f| match f {
        Fill::Valid | Fill::Buffer => 1,
        Fill::K => lb,
    });
    let (t1d, t1_read) = m.flop("tr_fill", fill.bits(), true);
    let t1 = await_read(m, &ctx.cfg, "tr_fill_read", fill.bits(), t1_read);
    m.assign(
        t1d,
        fill.pack(|f| match f {
            Fill::Valid => fill_valid.clone(),
            Fill::Buffer => pos.clone().bit(lb),
            Fill::K => pos.clone().bits(lb - 1, 0),
        }),
    );
    let t1_valid = fill.get(&t1, Fill::Valid);
    let t1_buf = fill.get(&t1, Fill::Buffer);
    let t1_k = m.wire("tr_k", lb);
    m.assign(t1_k.clone(), fill.get(&t1, Fill::K));
    let tile = 8 * n * n;
    for b in 0..2u32 {
        let (bd, bq) = m.flop(&format!("tile{b}"), tile, false);
        let load = t1_valid.clone().land(t1_buf.clone().eq(lit(1, b as u64)));
        // A row enable per row, not `tile[k * 8N +: 8N]`: Yosys builds a variable
        // part-select written into a register as a shifter across the whole tile (8N^2
        // bits wide), eleven thousand LUT4s on the ECP5 at N = 8.
        let rows = (0..n)
            .map(|k| {
                if_(
                    t1_k.clone().eq(lit(lb, k as u64)),
                    vec![set(
                        bd.clone().part(int((8 * n * k) as i64), 8 * n),
                        PERM_READ.data(),
                    )],
                )
            })
            .collect();
        m.comb(vec![set(bd.clone(), bq), if_(load, rows)]);
    }
    m.comment("Transpose: the write waits N + 1 cycles behind the read.");
    let column_ctl = Packed::new("Column", |f| match f {
        Column::Write => write.bits(),
        Column::Buffer => 1,
        Column::J => lb,
    });
    let mut transpose_pipe = Pipeline::new(Datapath::Transpose);
    let tw = transpose_pipe.delay(
        m,
        Datapath::Transpose.latency(&ctx.cfg),
        vec![(
            "tr_write",
            column_ctl.bits(),
            column_ctl.pack(|c| match c {
                Column::Write => row_write.clone(),
                Column::Buffer => pos.clone().bit(lb),
                Column::J => pos.clone().bits(lb - 1, 0),
            }),
        )],
    );
    transpose_pipe.finish(m);
    let tw = &tw[0];
    let tw_write = m.wire("tr_write_ctl", write.bits());
    m.assign(tw_write.clone(), column_ctl.get(tw, Column::Write));
    let tw_j = m.wire("tr_j", lb);
    m.assign(tw_j.clone(), column_ctl.get(tw, Column::J));
    let tsel = m.wire("tile_out", tile);
    m.assign(
        tsel.clone(),
        mux(
            column_ctl.get(tw, Column::Buffer),
            id("tile1_q"),
            id("tile0_q"),
        ),
    );
    let column = m.wire("column", 8 * n);
    m.items.push(Item::Generate {
        genvar: "k".into(),
        count: int(n as i64),
        label: "g_column".into(),
        items: vec![Item::Assign(
            column.clone().lane(id("k"), 8),
            tsel.part(
                id("k").mul(int(8 * n as i64)) + cat(vec![tw_j, lit(3, 0)]),
                8,
            ),
        )],
    });
    fill.declare(m, "A transposed row's place in the tile buffers");
    column_ctl.declare(m, "A transposed row's write");
    (tw_write, column)
}

fields! {
    /// What `MOV`'s destination stream holds for the whole op.
    enum MoveTag {
        Acc = "acc",
        Bank = "bank",
        Pc = "pc",
    }
}

fields! {
    /// What `MOV` carries for each row from the read to the write.
    enum MoveCtl {
        Valid = "valid",
        Last = "last",
        Acc = "acc",
        Bank = "bank",
        Row = "row",
        Pc = "pc",
    }
}

/// `mtn_move`: `MOV`, row `i` read at `t + i` and written at `t + i + 2`.
pub fn move_unit(ctx: &Ctx) -> Module {
    let n = ctx.n;
    let (rb, bb, pcb) = (ctx.row_bits, ctx.bank_bits, ctx.pc_bits);
    let latency = Datapath::Move.latency(&ctx.cfg);
    let mut m = Module::clocked(
        "mtn_move",
        &[&format!(
            "Memory unit: MOV copies row i (read at t + i) to its destination at t + i + {latency}."
        )],
    );
    issue_bundle(ctx).ports(&mut m, false);
    for op in ops_of(ctx, &[Unit::Memory]) {
        op_bundle(ctx, op).ports(&mut m, false);
    }
    for port in move_ports() {
        port.bundle(ctx).ports(&mut m, true);
    }
    retire_bundle(Unit::Memory, ctx).ports(&mut m, true);
    let (from, to) = (
        operand(ctx, Opcode::Mov, "src"),
        operand(ctx, Opcode::Mov, "dst"),
    );
    let src = add_stream(
        &mut m,
        "src",
        rb,
        StreamSpec::operand(
            ctx,
            Opcode::Mov,
            "src",
            cat(vec![from.acc, from.bank]),
            1 + bb,
        ),
    );
    let src_last = drive_read(&mut m, &MOV_READ, src);
    sink(&mut m, "src_last", vec![src_last]);
    let tag = Packed::new("Tag", |f| match f {
        MoveTag::Acc => 1,
        MoveTag::Bank => bb,
        MoveTag::Pc => pcb,
    });
    let dst = add_stream(
        &mut m,
        "dst",
        rb,
        StreamSpec::operand(
            ctx,
            Opcode::Mov,
            "dst",
            tag.pack(|f| match f {
                MoveTag::Acc => to.acc.clone(),
                MoveTag::Bank => to.bank.clone(),
                MoveTag::Pc => id("issue_pc_i"),
            }),
            tag.bits(),
        ),
    );
    let ctl = Packed::new("Ctl", |f| match f {
        MoveCtl::Valid | MoveCtl::Last | MoveCtl::Acc => 1,
        MoveCtl::Bank => bb,
        MoveCtl::Row => rb,
        MoveCtl::Pc => pcb,
    });
    let mut pipe = Pipeline::new(Datapath::Move);
    let s1 = pipe.stage(
        &mut m,
        vec![(
            "ctl",
            ctl.bits(),
            ctl.pack(|f| match f {
                MoveCtl::Valid => dst.valid.clone(),
                MoveCtl::Last => dst.last.clone(),
                MoveCtl::Acc => tag.get(&dst.tag, MoveTag::Acc),
                MoveCtl::Bank => tag.get(&dst.tag, MoveTag::Bank),
                MoveCtl::Row => dst.row.clone(),
                MoveCtl::Pc => tag.get(&dst.tag, MoveTag::Pc),
            }),
        )],
    );
    let s1 = pipe.await_read(
        &mut m,
        &ctx.cfg,
        vec![("read_ctl", ctl.bits(), s1[0].clone())],
    );
    let s2 = pipe.stage(
        &mut m,
        vec![
            ("ctl", ctl.bits(), s1[0].clone()),
            ("data", 32 * n, MOV_READ.data()),
        ],
    );
    pipe.finish(&mut m);
    let (c, data) = (&s2[0], s2[1].clone());
    let valid = ctl.get(c, MoveCtl::Valid);
    m.assign(id("mov_wr_en_o"), valid.clone());
    m.assign(id("mov_wr_acc_o"), ctl.get(c, MoveCtl::Acc));
    m.assign(id("mov_wr_bank_o"), ctl.get(c, MoveCtl::Bank));
    m.assign(id("mov_wr_row_o"), ctl.get(c, MoveCtl::Row));
    m.assign(id("mov_wr_data_o"), data);
    m.assign(retire(Unit::Memory), valid.land(ctl.get(c, MoveCtl::Last)));
    m.assign(retire_pc(Unit::Memory), ctl.get(c, MoveCtl::Pc));
    tag.declare(&mut m, "The destination stream's tag");
    ctl.declare(&mut m, "Every stage's control");
    m
}
