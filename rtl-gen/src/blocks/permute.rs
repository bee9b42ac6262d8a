//! The permute unit (`PERM`) and the memory unit (`MOV`).
//!
//! Rotate and shift read row `i` at `t + i` and write it at `t + i + 2`, like `MOV`.
//! Transpose reads tile `c` row `k` at `t + cN + k` into one of two tile buffers (tiles
//! alternate, so tile `c + 1` fills while tile `c` drains) and writes the tile's column `j`
//! as row `j` at `t + cN + N + 1 + j`.

use isa::encoding::bits_for;
use isa::ops::{Opcode, PermFunc};
use isa::timing::{transpose_latency, COPY_LATENCY};

use super::bus::{drive_read, retire_bundle, sink, MemPort, Reach};
use super::prims::{add_stream, StreamSpec};
use super::seq::{issue_bundle, op_bundle};
use crate::ast::*;
use crate::ctx::Ctx;

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

fn func_lit(ctx: &Ctx, f: PermFunc) -> Expr {
    lit(ctx.func_bits(Opcode::Perm), f as u64)
}

/// `mtn_permute`.
pub fn permute(ctx: &Ctx) -> Module {
    let n = ctx.n;
    let (rb, bb, pcb) = (ctx.row_bits, ctx.bank_bits, ctx.pc_bits);
    let lb = bits_for(n);
    let mut m = Module::clocked(
        "mtn_permute",
        &[
            "Permute unit: lane rotate and shifts (row i read at t + i, written at t + i + 2)",
            "and N x N tile transpose through two alternating tile buffers (tile c row k read",
            "at t + cN + k; its column j written as row j at t + cN + N + 1 + j).",
        ],
    );
    issue_bundle(ctx).ports(&mut m, false);
    op_bundle(ctx, Opcode::Perm).ports(&mut m, false);
    for port in perm_ports() {
        port.bundle(ctx).ports(&mut m, true);
    }
    retire_bundle("perm", ctx).ports(&mut m, true);

    let f = |name: &str| id(format!("perm_{name}_i"));
    let transpose = f("func").eq(func_lit(ctx, PermFunc::Transpose));
    // A transpose streams count * N rows; N is a power of two.
    let cb = 16 + lb;
    let rows = m.wire("rows", cb);
    m.assign(
        rows.clone(),
        mux(
            transpose.clone(),
            cat(vec![f("count"), zero(lb)]),
            cat(vec![zero(lb), f("count")]),
        ),
    );
    let src = add_stream(
        &mut m,
        "src",
        rb,
        StreamSpec {
            start: id("perm_issue_i"),
            base: f("src_row"),
            step: f("src_step"),
            count: rows.clone(),
            count_bits: cb,
            tag: f("src_bank"),
            tag_bits: bb,
        },
    );
    let src_last = drive_read(&mut m, &PERM_READ, src);
    // Destination tag: {transpose, func, amount, bank, pc}.
    let fbits = ctx.func_bits(Opcode::Perm);
    let tag_bits = 1 + fbits + lb + bb + pcb;
    let dst = add_stream(
        &mut m,
        "dst",
        rb,
        StreamSpec {
            start: id("perm_issue_i"),
            base: f("dst_row"),
            step: f("dst_step"),
            count: rows,
            count_bits: cb,
            tag: cat(vec![
                transpose,
                f("func"),
                f("amount"),
                f("dst_bank"),
                id("issue_pc_i"),
            ]),
            tag_bits,
        },
    );
    let (valid, row, tag, last) = (dst.valid, dst.row, dst.tag, dst.last);
    sink(&mut m, "src_last", vec![src_last]);
    let is_transpose = tag.clone().bit(tag_bits - 1);
    let func = tag.clone().bits(tag_bits - 2, tag_bits - 1 - fbits);
    let amount = tag.clone().bits(bb + pcb + lb - 1, bb + pcb);
    let bank = tag.clone().bits(bb + pcb - 1, pcb);
    let pc = tag.clone().bits(pcb - 1, 0);

    // Row m of a transpose is row k = m mod N of tile m / N, which fills buffer (m / N) mod 2.
    m.comment("Transpose: the row's place {buffer, k} counts rows modulo 2N.");
    let (md, mq) = m.flop("tile_pos", lb + 1, true);
    let pos = m.wire("pos", lb + 1);
    m.assign(
        pos.clone(),
        mux(id("perm_issue_i"), zero(lb + 1), mq.clone()),
    );
    m.assign(md, mux(valid.clone(), pos.clone() + lit(lb + 1, 1), mq));

    // Rotate and shift: stage 1 permutes, stage 2 writes.
    m.comment("Rotate/shift: control to stage 1; permuted row registered for the write.");
    // {valid, last, bank, row, pc, func, amount}
    let rot_ctl = cat(vec![
        valid.clone().land(is_transpose.clone().lnot()),
        last.clone(),
        bank.clone(),
        row.clone(),
        pc.clone(),
        func,
        amount,
    ]);
    let rc_bits = 2 + bb + rb + pcb + fbits + lb;
    let (r1d, r1) = m.flop("rot_s1", rc_bits, true);
    m.assign(r1d, rot_ctl);
    let r1_amount = r1.clone().bits(lb - 1, 0);
    let r1_func = r1.clone().bits(lb + fbits - 1, lb);
    let data = id("perm_rd_data_i");
    let sh = m.wire("lane_shift", lb + 3);
    m.assign(sh.clone(), cat(vec![r1_amount, lit(3, 0)]));
    let rotated = m.wire("rotated", 8 * n);
    m.assign(
        rotated.clone(),
        data.clone().shr(sh.clone())
            | data
                .clone()
                .shl(lit(lb + 4, 8 * n as u64) - cat(vec![lit(1, 0), sh.clone()])),
    );
    let permuted = m.wire("permuted", 8 * n);
    m.assign(
        permuted.clone(),
        mux(
            r1_func.clone().eq(func_lit(ctx, PermFunc::Rotate)),
            rotated,
            mux(
                r1_func.eq(func_lit(ctx, PermFunc::ShiftDown)),
                data.clone().shr(sh.clone()),
                data.clone().shl(sh),
            ),
        ),
    );
    let r2_bits = rc_bits - fbits - lb;
    let (r2d, r2) = m.flop("rot_s2", r2_bits, true);
    m.assign(r2d, r1.bits(rc_bits - 1, fbits + lb));
    let (r2xd, r2x) = m.flop("rot_data", 8 * n, true);
    m.assign(r2xd, permuted);

    m.comment("Transpose: stage 1 stores the row in its tile buffer.");
    let (t1d, t1) = m.flop("tr_s1", 1 + lb + 1, true);
    m.assign(
        t1d,
        cat(vec![valid.clone().land(is_transpose.clone()), pos.clone()]),
    );
    let t1_valid = t1.clone().bit(lb + 1);
    let t1_buf = t1.clone().bit(lb);
    let t1_k = t1.bits(lb - 1, 0);
    let tile = 8 * n * n;
    for b in 0..2u32 {
        let (bd, bq) = m.flop(&format!("tile{b}"), tile, false);
        let load = t1_valid.clone().land(t1_buf.clone().eq(lit(1, b as u64)));
        m.comb(vec![
            set(bd.clone(), bq),
            if_(
                load,
                vec![set(
                    bd.part(cat(vec![t1_k.clone(), zero(3 + lb)]), 8 * n),
                    data.clone(),
                )],
            ),
        ]);
    }
    m.comment("Transpose: the write control waits N + 1 cycles behind the read.");
    // {valid, last, buffer, j, bank, row, pc}
    let tw_bits = 2 + 1 + lb + bb + rb + pcb;
    let tw = m.wire("tr_write", tw_bits);
    m.instance(
        Instance::new("mtn_delay", "u_tr_write")
            .param("Width", int(tw_bits as i64))
            .param("Depth", int(transpose_latency(n) as i64))
            .clocked()
            .conn(
                "d_i",
                cat(vec![valid.land(is_transpose), last, pos, bank, row, pc]),
            )
            .conn("q_o", tw.clone()),
    );
    let tw_valid = tw.clone().bit(tw_bits - 1);
    let tw_last = tw.clone().bit(tw_bits - 2);
    let tw_buf = tw.clone().bit(tw_bits - 3);
    let tw_j = tw.clone().bits(tw_bits - 4, tw_bits - 3 - lb);
    let tw_rest = tw.bits(bb + rb + pcb - 1, 0);
    let tsel = m.wire("tile_out", tile);
    m.assign(tsel.clone(), mux(tw_buf, id("tile1_q"), id("tile0_q")));
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

    m.comment(&format!(
        "One write port: rotate/shift rows {COPY_LATENCY} cycles after the read, transposed rows N + 1."
    ));
    let r2_valid = r2.clone().bit(r2_bits - 1);
    let r2_last = r2.clone().bit(r2_bits - 2);
    let r2_rest = r2.bits(bb + rb + pcb - 1, 0);
    let rest = m.wire("wr_rest", bb + rb + pcb);
    m.assign(rest.clone(), mux(r2_valid.clone(), r2_rest, tw_rest));
    m.assign(id("perm_wr_en_o"), r2_valid.clone() | tw_valid.clone());
    m.assign(id("perm_wr_data_o"), mux(r2_valid.clone(), r2x, column));
    m.assign(
        cat(vec![
            id("perm_wr_bank_o"),
            id("perm_wr_row_o"),
            id("perm_retire_pc_o"),
        ]),
        rest,
    );
    m.assign(
        id("perm_retire_o"),
        r2_valid.land(r2_last) | tw_valid.land(tw_last),
    );
    m
}

/// `mtn_move`: `MOV`, row `i` read at `t + i` and written at `t + i + 2`.
pub fn move_unit(ctx: &Ctx) -> Module {
    let n = ctx.n;
    let (rb, bb, pcb) = (ctx.row_bits, ctx.bank_bits, ctx.pc_bits);
    let mut m = Module::clocked(
        "mtn_move",
        &["Memory unit: MOV copies row i (read at t + i) to its destination at t + i + 2."],
    );
    issue_bundle(ctx).ports(&mut m, false);
    op_bundle(ctx, Opcode::Mov).ports(&mut m, false);
    for port in move_ports() {
        port.bundle(ctx).ports(&mut m, true);
    }
    retire_bundle("mov", ctx).ports(&mut m, true);
    let f = |name: &str| id(format!("mov_{name}_i"));
    let src = add_stream(
        &mut m,
        "src",
        rb,
        StreamSpec::operand(
            "mov",
            "src",
            cat(vec![f("src_space"), f("src_bank")]),
            1 + bb,
        ),
    );
    let src_last = drive_read(&mut m, &MOV_READ, src);
    sink(&mut m, "src_last", vec![src_last]);
    let tag_bits = 1 + bb + pcb;
    let dst = add_stream(
        &mut m,
        "dst",
        rb,
        StreamSpec::operand(
            "mov",
            "dst",
            cat(vec![f("dst_space"), f("dst_bank"), id("issue_pc_i")]),
            tag_bits,
        ),
    );
    let (valid, row, tag, last) = (dst.valid, dst.row, dst.tag, dst.last);
    // {valid, last, acc, bank, row, pc}
    let cb = 2 + 1 + bb + rb + pcb;
    let (s1d, s1) = m.flop("s1_ctl", cb, true);
    m.assign(
        s1d,
        cat(vec![
            valid,
            last,
            tag.clone().bits(tag_bits - 1, pcb),
            row,
            tag.bits(pcb - 1, 0),
        ]),
    );
    let (s2d, s2) = m.flop("s2_ctl", cb, true);
    m.assign(s2d, s1);
    let (xd, xq) = m.flop("s2_data", 32 * n, true);
    m.assign(xd, id("mov_rd_data_i"));
    m.assign(
        cat(vec![
            id("mov_wr_en_o"),
            id("mov_retire_o"),
            id("mov_wr_acc_o"),
            id("mov_wr_bank_o"),
            id("mov_wr_row_o"),
            id("mov_retire_pc_o"),
        ]),
        cat(vec![
            s2.clone().bit(cb - 1),
            s2.clone().bit(cb - 1).land(s2.clone().bit(cb - 2)),
            s2.bits(cb - 3, 0),
        ]),
    );
    m.assign(id("mov_wr_data_o"), xq);
    m
}
