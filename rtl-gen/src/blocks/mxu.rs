//! The matrix unit: a weight-stationary `N x N` systolic array with a shadow weight buffer
//! (`LDW` fills it while the active weights compute; `MMA ... swap` makes it active as its
//! first vector enters), input skew, output de-skew and the accumulator write-back.
//!
//! Timing ([`isa::timing`]): `MMA` reads input row `i` at `t + i`; lane `k` enters array row
//! `k` after `k` cycles of skew, so PE `(k, j)` computes row `i` in cycle `t + i + 1 + k + j`;
//! column `j` is de-skewed by `N - 1 - j` cycles, so every lane of the result is there in
//! cycle `t + i + 2N`, the write (the accumulate read is one cycle earlier). `LDW` reads
//! weight row `k` at `t + k` and writes shadow row `k` at `t + k + 1`.

use isa::ops::Opcode;
use isa::timing::mma_latency;

use super::bus::{drive_read, retire_bundle, sink, MemPort, Reach};
use super::prims::{add_stream, StreamSpec};
use super::seq::{issue_bundle, op_bundle};
use crate::ast::*;
use crate::ctx::Ctx;

pub const LDW_READ: MemPort = MemPort::read("ldw", Reach::Sram, 8);
pub const MMA_READ: MemPort = MemPort::read("mma", Reach::Sram, 8);
pub const MMA_ACC_READ: MemPort = MemPort::read("mma_acc", Reach::Acc, 32);
pub const MMA_WRITE: MemPort = MemPort::write("mma", Reach::Acc, 32);

/// `mtn_pe`: one processing element.
pub fn pe() -> Module {
    let mut m = Module::clocked(
        "mtn_pe",
        &[
            "Processing element: psum_o = psum_i + x_i * w, registered; x_i and swap_i pass",
            "right one cycle later. swap_i (with the first vector of an MMA ... swap) makes the",
            "shadow weight active for this and every later vector.",
        ],
    );
    m.input("x_i", 8);
    m.input("swap_i", 1);
    m.input("psum_i", 32);
    m.input("shadow_we_i", 1);
    m.input("shadow_i", 8);
    m.output("x_o", 8);
    m.output("swap_o", 1);
    m.output("psum_o", 32);
    let (xd, xq) = m.flop("x", 8, true);
    let (sd, sq) = m.flop("swap", 1, true);
    let (pd, pq) = m.flop("psum", 32, true);
    let (ad, aq) = m.flop("active", 8, true);
    let (shd, shq) = m.flop("shadow", 8, true);
    let weight = m.wire("weight", 8);
    let product = m.wire("product", 16);
    m.assign(weight.clone(), mux(id("swap_i"), shq.clone(), aq));
    m.comment("Signed operands are sign-extended to the 16-bit product's width.");
    m.assign(
        product.clone(),
        id("x_i").signed().mul(weight.clone().signed()),
    );
    m.assign(pd, id("psum_i") + sext(product, 16, 32));
    m.assign(xd, id("x_i"));
    m.assign(sd, id("swap_i"));
    m.assign(ad, weight);
    m.assign(shd, mux(id("shadow_we_i"), id("shadow_i"), shq));
    m.assign(id("x_o"), xq);
    m.assign(id("swap_o"), sq);
    m.assign(id("psum_o"), pq);
    m
}

/// `e` (a name or a select of one, `from` bits wide) sign-extended to `to` bits.
pub fn sext(e: Expr, from: u32, to: u32) -> Expr {
    if from == to {
        return e;
    }
    let sign = match &e {
        Expr::Id(_) => e.clone().bit(from - 1),
        Expr::Range(base, hi, _) => (**base).clone().bit(*hi),
        Expr::Part(base, at, _) => match **at {
            Expr::Int(lo) => (**base).clone().bit(lo as u32 + from - 1),
            ref at => (**base).clone().at(at.clone() + int(from as i64 - 1)),
        },
        other => panic!("cannot sign-extend {other:?}: name it first"),
    };
    cat(vec![repeat(to - from, sign), e])
}

/// `mtn_array`: the systolic array with its skew and de-skew.
pub fn array(ctx: &Ctx) -> Module {
    let n = ctx.n;
    let mut m = Module::clocked(
        "mtn_array",
        &[
            "Weight-stationary systolic array: x_i (one int8 vector a cycle) is skewed so lane k",
            "enters row k after k cycles; partial sums flow down, and column j is de-skewed by",
            "N-1-j cycles, so y_o is x_i times the weights 2N-1 cycles later.",
        ],
    );
    m.input("x_i", 8 * n);
    m.input("swap_i", 1);
    m.doc_port("with x_i: make the shadow weights active from this vector on");
    m.input("shadow_we_i", n);
    m.doc_port("one-hot: load shadow row k from shadow_i");
    m.input("shadow_i", 8 * n);
    m.output("y_o", 32 * n);

    let xh = m.wire("x_h", 8 * n * (n + 1));
    let sh = m.wire("swap_h", n * (n + 1));
    let pv = m.wire("psum_v", 32 * n * (n + 1));
    m.comment("Input skew: lane k (and the swap flag) is delayed k cycles.");
    for k in 0..n {
        let lane = cat(vec![id("swap_i"), id("x_i").part(int(8 * k as i64), 8)]);
        let (x_at, s_at) = (
            xh.clone().part(int((8 * k * (n + 1)) as i64), 8),
            sh.clone().bit(k * (n + 1)),
        );
        if k == 0 {
            m.assign(cat(vec![s_at, x_at]), lane);
        } else {
            m.instance(
                Instance::new("mtn_delay", &format!("u_skew_{k}"))
                    .param("Width", int(9))
                    .param("Depth", int(k as i64))
                    .clocked()
                    .conn("d_i", lane)
                    .conn("q_o", cat(vec![s_at, x_at])),
            );
        }
    }
    m.assign(pv.clone().part(int(0), 32 * n), zero(32 * n));

    m.comment("PE (k, j): x and swap enter from the left, partial sums from above.");
    let k = || id("k");
    let j = || id("j");
    let h_at = |col: Expr| k().mul(int(n as i64 + 1)) + col;
    let v_at = |row: Expr| row.mul(int(n as i64)) + j();
    let pe = Instance::new("mtn_pe", "u_pe")
        .clocked()
        .conn("x_i", xh.clone().lane(h_at(j()), 8))
        .conn("swap_i", sh.clone().at(h_at(j())))
        .conn("psum_i", pv.clone().lane(v_at(k()), 32))
        .conn("shadow_we_i", id("shadow_we_i").at(k()))
        .conn("shadow_i", id("shadow_i").lane(j(), 8))
        .conn("x_o", xh.clone().lane(h_at(j() + int(1)), 8))
        .conn("swap_o", sh.clone().at(h_at(j() + int(1))))
        .conn("psum_o", pv.clone().lane(v_at(k() + int(1)), 32));
    m.items.push(Item::Generate {
        genvar: "k".into(),
        count: int(n as i64),
        label: "g_row".into(),
        items: vec![Item::Generate {
            genvar: "j".into(),
            count: int(n as i64),
            label: "g_col".into(),
            items: vec![Item::Instance(pe)],
        }],
    });

    m.comment("Output de-skew: column j waits N-1-j cycles.");
    for col in 0..n {
        let bottom = pv.clone().part(int((32 * (n * n + col)) as i64), 32);
        let out = id("y_o").part(int((32 * col) as i64), 32);
        let wait = n - 1 - col;
        if wait == 0 {
            m.assign(out, bottom);
        } else {
            m.instance(
                Instance::new("mtn_delay", &format!("u_deskew_{col}"))
                    .param("Width", int(32))
                    .param("Depth", int(wait as i64))
                    .clocked()
                    .conn("d_i", bottom)
                    .conn("q_o", out),
            );
        }
    }
    m.comment("The right edge's x and swap and the last row's inner partial sums go nowhere.");
    let mut edge = Vec::new();
    for k in 0..n {
        let at = k * (n + 1) + n;
        edge.push(xh.clone().part(int(8 * at as i64), 8));
        edge.push(sh.clone().bit(at));
    }
    sink(&mut m, "edge", edge);
    m
}

/// The per-row control the `MMA` pipeline carries to its write: valid, last, accumulate,
/// pc, bank, row.
fn mma_ctl_bits(ctx: &Ctx) -> u32 {
    3 + ctx.pc_bits + ctx.bank_bits + ctx.row_bits
}

/// `mtn_mxu`: `LDW` and `MMA` around the array.
pub fn mxu(ctx: &Ctx) -> Module {
    let n = ctx.n;
    let (rb, bb, pcb) = (ctx.row_bits, ctx.bank_bits, ctx.pc_bits);
    let mut m = Module::clocked(
        "mtn_mxu",
        &[
            "Matrix unit: LDW streams a weight tile into the shadow buffer; MMA streams vectors",
            "through the array and writes (or accumulates) int32 rows 2N cycles after each read.",
        ],
    );
    issue_bundle(ctx).ports(&mut m, false);
    op_bundle(ctx, Opcode::Ldw).ports(&mut m, false);
    op_bundle(ctx, Opcode::Mma).ports(&mut m, false);
    for port in mem_ports() {
        port.bundle(ctx).ports(&mut m, true);
    }
    retire_bundle("ldw", ctx).ports(&mut m, true);
    retire_bundle("mma", ctx).ports(&mut m, true);

    // LDW: rows k = 0..N-1 at t + k; shadow row k written when its data arrives.
    m.comment("LDW: weight row k is read at t + k and loaded into shadow row k at t + k + 1.");
    let ldw = add_stream(
        &mut m,
        "ldw",
        rb,
        StreamSpec {
            start: id("ldw_issue_i"),
            base: id("ldw_src_row_i"),
            step: id("ldw_src_step_i"),
            count: lit(16, n as u64),
            count_bits: 16,
            tag: cat(vec![id("issue_pc_i"), id("ldw_src_bank_i")]),
            tag_bits: pcb + bb,
        },
    );
    let (ldw_valid, ldw_tag, ldw_last) = (ldw.valid, ldw.tag, ldw.last);
    m.assign(id("ldw_rd_en_o"), ldw_valid.clone());
    m.assign(id("ldw_rd_row_o"), ldw.row);
    m.assign(id("ldw_rd_bank_o"), ldw_tag.clone().bits(bb - 1, 0));
    let lb = isa::encoding::bits_for(n);
    let (kd, kq) = m.flop("ldw_k", lb, true);
    m.assign(
        kd,
        mux(
            ldw_valid.clone(),
            mux(id("ldw_issue_i"), lit(lb, 1), kq.clone() + lit(lb, 1)),
            kq.clone(),
        ),
    );
    // Stage 1: the row index, last flag and pc of the row whose data is arriving.
    let s1_bits = 2 + lb + pcb;
    let (s1d, s1q) = m.flop("ldw_s1", s1_bits, true);
    m.assign(
        s1d,
        cat(vec![
            ldw_valid,
            ldw_last,
            mux(id("ldw_issue_i"), zero(lb), kq),
            ldw_tag.bits(pcb + bb - 1, bb),
        ]),
    );
    let s1_valid = s1q.clone().bit(s1_bits - 1);
    let s1_last = s1q.clone().bit(s1_bits - 2);
    let s1_k = s1q.clone().bits(pcb + lb - 1, pcb);
    let shadow_we = m.wire("shadow_we", n);
    m.assign(
        shadow_we.clone(),
        mux(s1_valid.clone(), lit(n, 1).shl(s1_k), zero(n)),
    );
    m.assign(id("ldw_retire_o"), s1_valid.land(s1_last));
    m.assign(id("ldw_retire_pc_o"), s1q.bits(pcb - 1, 0));

    // MMA.
    m.comment("MMA: input row i is read at t + i; its control rides a 2N-stage pipeline.");
    let src = add_stream(
        &mut m,
        "mma_src",
        rb,
        StreamSpec::operand("mma", "src", id("mma_src_bank_i"), bb),
    );
    let src_last = drive_read(&mut m, &MMA_READ, src);
    let dst = add_stream(
        &mut m,
        "mma_dst",
        rb,
        StreamSpec::operand(
            "mma",
            "dst",
            cat(vec![
                id("mma_accumulate_i"),
                id("issue_pc_i"),
                id("mma_dst_bank_i"),
            ]),
            1 + pcb + bb,
        ),
    );
    let (dst_valid, dst_row, dst_tag, dst_last) = (dst.valid, dst.row, dst.tag, dst.last);
    let cb = mma_ctl_bits(ctx);
    // {valid, last, accumulate, pc, bank, row}
    let ctl0 = cat(vec![dst_valid, dst_last, dst_tag, dst_row]);
    let ctl_read = m.wire("mma_ctl_read", cb);
    let ctl_write = m.wire("mma_ctl_write", cb);
    m.instance(
        Instance::new("mtn_delay", "u_mma_ctl")
            .param("Width", int(cb as i64))
            .param("Depth", int(mma_latency(n) as i64 - 1))
            .clocked()
            .conn("d_i", ctl0)
            .conn("q_o", ctl_read.clone()),
    );
    m.instance(
        Instance::new("mtn_delay", "u_mma_ctl_write")
            .param("Width", int(cb as i64))
            .param("Depth", int(1))
            .clocked()
            .conn("d_i", ctl_read.clone())
            .conn("q_o", ctl_write.clone()),
    );
    let field = |ctl: &Expr, what: &str| -> Expr {
        let c = ctl.clone();
        match what {
            "valid" => c.bit(cb - 1),
            "last" => c.bit(cb - 2),
            "acc" => c.bit(cb - 3),
            "pc" => c.bits(bb + rb + pcb - 1, bb + rb),
            "bank" => c.bits(bb + rb - 1, rb),
            _ => c.bits(rb - 1, 0),
        }
    };
    m.comment("Accumulate: the old row is read one cycle before the write.");
    m.assign(
        id("mma_acc_rd_en_o"),
        field(&ctl_read, "valid").land(field(&ctl_read, "acc")),
    );
    m.assign(id("mma_acc_rd_bank_o"), field(&ctl_read, "bank"));
    m.assign(id("mma_acc_rd_row_o"), field(&ctl_read, "row"));
    sink(
        &mut m,
        "mma_ctl_read",
        vec![field(&ctl_read, "last"), field(&ctl_read, "pc"), src_last],
    );

    m.comment("The swap flag travels with the first vector of an MMA ... swap.");
    let (swd, swq) = m.flop("mma_swap", 1, true);
    m.assign(swd, id("mma_issue_i").land(id("mma_swap_i")));
    let y = m.wire("y", 32 * n);
    m.instance(
        Instance::new("mtn_array", "u_array")
            .clocked()
            .conn("x_i", id("mma_rd_data_i"))
            .conn("swap_i", swq)
            .conn("shadow_we_i", shadow_we)
            .conn("shadow_i", id("ldw_rd_data_i"))
            .conn("y_o", y.clone()),
    );

    m.comment("Write (or accumulate into) the destination row 2N cycles after the read.");
    let acc_on = field(&ctl_write, "acc");
    m.assign(id("mma_wr_en_o"), field(&ctl_write, "valid"));
    m.assign(id("mma_wr_bank_o"), field(&ctl_write, "bank"));
    m.assign(id("mma_wr_row_o"), field(&ctl_write, "row"));
    m.items.push(Item::Generate {
        genvar: "l".into(),
        count: int(n as i64),
        label: "g_lane".into(),
        items: vec![Item::Assign(
            id("mma_wr_data_o").lane(id("l"), 32),
            y.lane(id("l"), 32)
                + mux(
                    acc_on,
                    id("mma_acc_rd_data_i").lane(id("l"), 32),
                    lit(32, 0),
                ),
        )],
    });
    m.assign(
        id("mma_retire_o"),
        field(&ctl_write, "valid").land(field(&ctl_write, "last")),
    );
    m.assign(id("mma_retire_pc_o"), field(&ctl_write, "pc"));
    m
}

/// Bundles the chip joins to this block.
pub fn mem_ports() -> [MemPort; 4] {
    [LDW_READ, MMA_READ, MMA_ACC_READ, MMA_WRITE]
}
