//! The matrix unit: a weight-stationary `N x N` systolic array with a shadow weight buffer
//! (`LDW` fills it while the active weights compute; `MMA ... swap` makes it active as its
//! first vector enters), input skew, output de-skew and the accumulator write-back.
//!
//! Timing ([`isa::timing`]): `MMA` reads input row `i` at `t + i`; lane `k` enters array row
//! `k` after `k` cycles of skew, so PE `(k, j)` computes row `i` in cycle `t + i + 1 + k + j`;
//! column `j` is de-skewed by `N - 1 - j` cycles, so every lane of the result is there in
//! cycle `t + i + 2N`, the write (the accumulate read is one cycle earlier). Registered
//! products (`chip.registered_products`) add their two registers to every column; a
//! registered accumulate (`chip.registered_accumulate`) reads two cycles before the write. `LDW` reads
//! weight row `k` at `t + k` and writes shadow row `k` at `t + k + 1`.

use isa::encoding::COUNT_BITS;
use isa::ops::{Opcode, Unit};
use isa::timing::{read_registers, Datapath};

use super::bus::{drive_read, retire, retire_bundle, retire_pc, sink, MemPort, Reach};
use super::prims::{add_stream, StreamSpec};
use super::seq::{decoded, issue_bundle, issued, op_bundle, operand, ops_of};
use crate::ast::*;
use crate::ctx::Ctx;
use crate::packed::{fields, Packed};
use crate::pipeline::{await_read, delay_line, Pipeline};

pub const LDW_READ: MemPort = MemPort::read("ldw", Reach::Sram, 8);
pub const MMA_READ: MemPort = MemPort::read("mma", Reach::Sram, 8);
pub const MMA_ACC_READ: MemPort = MemPort::read("mma_acc", Reach::Acc, 32);
pub const MMA_WRITE: MemPort = MemPort::write("mma", Reach::Acc, 32);

/// `mtn_pe`: one processing element. With registered products it multiplies nothing itself:
/// its operands leave on `x_mul_o` and `w_mul_o` for the array's `mtn_mul8x8x2` cells, and
/// their product returns [`isa::config::PRODUCT_REGISTERS`] cycles later on `product_i`.
pub fn pe(ctx: &Ctx) -> Module {
    let registered = ctx.cfg.chip.registered_products;
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
    if registered {
        m.input("product_i", 16);
        m.doc_port("x_mul_o * w_mul_o, the registered product of two cycles before");
    }
    m.output("x_o", 8);
    m.output("swap_o", 1);
    m.output("psum_o", 32);
    if registered {
        m.output("x_mul_o", 8);
        m.output("w_mul_o", 8);
    }
    let (xd, xq) = m.flop("x", 8, true);
    let (sd, sq) = m.flop("swap", 1, true);
    let (pd, pq) = m.flop("psum", 32, true);
    let (ad, aq) = m.flop("active", 8, true);
    let (shd, shq) = m.flop("shadow", 8, true);
    let weight = m.wire("weight", 8);
    m.assign(weight.clone(), mux(id("swap_i"), shq.clone(), aq));
    let product = if registered {
        m.assign(id("x_mul_o"), id("x_i"));
        m.assign(id("w_mul_o"), weight.clone());
        id("product_i")
    } else {
        let product = m.wire("product", 16);
        m.comment("Signed operands are sign-extended to the 16-bit product's width.");
        m.assign(
            product.clone(),
            id("x_i").signed().mul(weight.clone().signed()),
        );
        product
    };
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
            "N-1-j cycles, so y_o is x_i times the weights 2N-1 cycles later (2N+1 with",
            "registered products).",
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
    // The registers each lane and column passes, counted as built: the array's latency.
    let mut skew = vec![0u64; n as usize];
    let mut deskew = vec![0u64; n as usize];
    for k in 0..n {
        skew[k as usize] = k as u64;
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
    let registered = ctx.cfg.chip.registered_products;
    let pe_at = || k().mul(int(n as i64)) + j();
    let mut pe = Instance::new("mtn_pe", "u_pe")
        .clocked()
        .conn("x_i", xh.clone().lane(h_at(j()), 8))
        .conn("swap_i", sh.clone().at(h_at(j())))
        .conn("psum_i", pv.clone().lane(v_at(k()), 32))
        .conn("shadow_we_i", id("shadow_we_i").at(k()))
        .conn("shadow_i", id("shadow_i").lane(j(), 8))
        .conn("x_o", xh.clone().lane(h_at(j() + int(1)), 8))
        .conn("swap_o", sh.clone().at(h_at(j() + int(1))))
        .conn("psum_o", pv.clone().lane(v_at(k() + int(1)), 32));
    if registered {
        pe = pe
            .conn("product_i", id("products").lane(pe_at(), 16))
            .conn("x_mul_o", id("mul_x").lane(pe_at(), 8))
            .conn("w_mul_o", id("mul_w").lane(pe_at(), 8));
        m.wire("mul_x", 8 * n * n);
        m.wire("mul_w", 8 * n * n);
        m.wire("products", 16 * n * n);
    }
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

    if registered {
        m.comment("The products, registered: one mtn_mul8x8x2 for PEs 2p and 2p + 1 (k * N + j).");
        let pair = Instance::new("mtn_mul8x8x2", "u_mul")
            .clocked()
            .conn("a_i", id("mul_x").lane(id("p"), 16))
            .conn("b_i", id("mul_w").lane(id("p"), 16))
            .conn("p_o", id("products").lane(id("p"), 32));
        m.items.push(Item::Generate {
            genvar: "p".into(),
            count: int((n * n / 2) as i64),
            label: "g_mul".into(),
            items: vec![Item::Instance(pair)],
        });
    }

    m.comment("Output de-skew: column j waits N-1-j cycles.");
    for col in 0..n {
        let bottom = pv.clone().part(int((32 * (n * n + col)) as i64), 32);
        let out = id("y_o").part(int((32 * col) as i64), 32);
        let wait = n - 1 - col;
        deskew[col as usize] = wait as u64;
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
    // Column j's result: lane N-1's skew, one x register per column to its left, the
    // product's registers, the bottom PE's partial-sum register, then the column's de-skew.
    // The input row arrives one cycle after its read (and the read registers' after that),
    // so the data path from read to write is as many more.
    let last = (n - 1) as usize;
    let arrival = 1 + read_registers(&ctx.cfg);
    let products = ctx.cfg.chip.product_registers() as u64;
    let mut columns: Vec<u64> = (0..n as usize)
        .map(|j| skew[last] + j as u64 + products + 1 + deskew[j])
        .collect();
    columns.dedup();
    for latency in columns {
        let mut pipe = Pipeline::new(Datapath::Mma);
        pipe.built_elsewhere(arrival + latency);
        pipe.finish(&mut m);
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

fields! {
    /// What `LDW`'s row stream holds for the whole op.
    enum LoadTag {
        Pc = "pc",
        Bank = "bank",
    }
}

fields! {
    /// What `LDW`'s stage 1 holds for the weight row whose data is arriving.
    enum LoadCtl {
        Valid = "valid",
        Last = "last",
        K = "k",
        Pc = "pc",
    }
}

fields! {
    /// What `MMA`'s destination stream holds for the whole op.
    enum MmaTag {
        Accumulate = "accumulate",
        Pc = "pc",
        Bank = "bank",
    }
}

fields! {
    /// What `MMA`'s pipeline carries for each row, from the read to the write.
    enum MmaCtl {
        Valid = "valid",
        Last = "last",
        Accumulate = "accumulate",
        Pc = "pc",
        Bank = "bank",
        Row = "row",
    }
}

/// `mtn_mxu`: `LDW` and `MMA` around the array.
pub fn mxu(ctx: &Ctx) -> Module {
    let n = ctx.n;
    let (rb, bb, pcb) = (ctx.row_bits, ctx.bank_bits, ctx.pc_bits);
    let mma_latency = Datapath::Mma.latency(&ctx.cfg);
    let mut m = Module::clocked(
        "mtn_mxu",
        &[
            "Matrix unit: LDW streams a weight tile into the shadow buffer; MMA streams vectors",
            &format!(
                "through the array and writes (or accumulates) int32 rows {mma_latency} cycles \
                 after each read."
            ),
        ],
    );
    issue_bundle(ctx).ports(&mut m, false);
    let units = [Unit::MxuLoad, Unit::MxuArray];
    for op in ops_of(ctx, &units) {
        op_bundle(ctx, op).ports(&mut m, false);
    }
    for port in mem_ports() {
        port.bundle(ctx).ports(&mut m, true);
    }
    for unit in units {
        retire_bundle(unit, ctx).ports(&mut m, true);
    }

    m.comment(&format!(
        "LDW: weight row k is read at t + k and loaded into shadow row k at t + k + {}.",
        Datapath::WeightLoad.latency(&ctx.cfg)
    ));
    let src = operand(ctx, Opcode::Ldw, "src");
    let load_tag = Packed::new("LoadTag", |f| match f {
        LoadTag::Pc => pcb,
        LoadTag::Bank => bb,
    });
    let ldw = add_stream(
        &mut m,
        "ldw",
        rb,
        StreamSpec {
            start: issued(Opcode::Ldw),
            base: src.row,
            step: src.step,
            count: lit(COUNT_BITS, n as u64),
            count_bits: COUNT_BITS,
            tag: load_tag.pack(|f| match f {
                LoadTag::Pc => id("issue_pc_i"),
                LoadTag::Bank => src.bank.clone(),
            }),
            tag_bits: load_tag.bits(),
        },
    );
    let (ldw_valid, ldw_tag, ldw_last) = (ldw.valid, ldw.tag, ldw.last);
    m.assign(id("ldw_rd_en_o"), ldw_valid.clone());
    m.assign(id("ldw_rd_row_o"), ldw.row);
    m.assign(id("ldw_rd_bank_o"), load_tag.get(&ldw_tag, LoadTag::Bank));
    let lb = isa::encoding::bits_for(n);
    let (kd, kq) = m.flop("ldw_k", lb, true);
    m.assign(
        kd,
        mux(
            ldw_valid.clone(),
            mux(issued(Opcode::Ldw), lit(lb, 1), kq.clone() + lit(lb, 1)),
            kq.clone(),
        ),
    );
    let load = Packed::new("Load", |f| match f {
        LoadCtl::Valid | LoadCtl::Last => 1,
        LoadCtl::K => lb,
        LoadCtl::Pc => pcb,
    });
    let mut load_pipe = Pipeline::new(Datapath::WeightLoad);
    let s1 = load_pipe.stage(
        &mut m,
        vec![(
            "load",
            load.bits(),
            load.pack(|f| match f {
                LoadCtl::Valid => ldw_valid.clone(),
                LoadCtl::Last => ldw_last.clone(),
                LoadCtl::K => mux(issued(Opcode::Ldw), zero(lb), kq.clone()),
                LoadCtl::Pc => load_tag.get(&ldw_tag, LoadTag::Pc),
            }),
        )],
    );
    let s1 = load_pipe.await_read(
        &mut m,
        &ctx.cfg,
        vec![("load_read", load.bits(), s1[0].clone())],
    );
    load_pipe.finish(&mut m);
    let s1 = &s1[0];
    let s1_valid = load.get(s1, LoadCtl::Valid);
    let shadow_we = m.wire("shadow_we", n);
    m.assign(
        shadow_we.clone(),
        mux(
            s1_valid.clone(),
            lit(n, 1).shl(load.get(s1, LoadCtl::K)),
            zero(n),
        ),
    );
    m.assign(
        retire(Unit::MxuLoad),
        s1_valid.land(load.get(s1, LoadCtl::Last)),
    );
    m.assign(retire_pc(Unit::MxuLoad), load.get(s1, LoadCtl::Pc));

    m.comment(&format!(
        "MMA: input row i is read at t + i; its control rides a {mma_latency}-stage pipeline."
    ));
    let src = add_stream(
        &mut m,
        "mma_src",
        rb,
        StreamSpec::operand(
            ctx,
            Opcode::Mma,
            "src",
            decoded(ctx, Opcode::Mma, "src_bank"),
            bb,
        ),
    );
    let src_last = drive_read(&mut m, &MMA_READ, src);
    let ctl = Packed::new("Ctl", |f| match f {
        MmaCtl::Valid | MmaCtl::Last | MmaCtl::Accumulate => 1,
        MmaCtl::Pc => pcb,
        MmaCtl::Bank => bb,
        MmaCtl::Row => rb,
    });
    let tag = Packed::new("Tag", |f| match f {
        MmaTag::Accumulate => 1,
        MmaTag::Pc => pcb,
        MmaTag::Bank => bb,
    });
    let dst = add_stream(
        &mut m,
        "mma_dst",
        rb,
        StreamSpec::operand(
            ctx,
            Opcode::Mma,
            "dst",
            tag.pack(|f| match f {
                MmaTag::Accumulate => decoded(ctx, Opcode::Mma, "accumulate"),
                MmaTag::Pc => id("issue_pc_i"),
                MmaTag::Bank => decoded(ctx, Opcode::Mma, "dst_bank"),
            }),
            tag.bits(),
        ),
    );
    let ctl0 = ctl.pack(|f| match f {
        MmaCtl::Valid => dst.valid.clone(),
        MmaCtl::Last => dst.last.clone(),
        MmaCtl::Accumulate => tag.get(&dst.tag, MmaTag::Accumulate),
        MmaCtl::Pc => tag.get(&dst.tag, MmaTag::Pc),
        MmaCtl::Bank => tag.get(&dst.tag, MmaTag::Bank),
        MmaCtl::Row => dst.row.clone(),
    });
    // The control follows isa::timing; the array records the depth its data path was
    // built to, which the check compares with the same number.
    let ahead = ctx.cfg.chip.accumulate_read_ahead() as u64;
    let ctl_read = &delay_line(
        &mut m,
        "mma_ctl_read",
        ctl.bits(),
        ctl0,
        mma_latency - ahead,
    );
    let ctl_write = &delay_line(&mut m, "mma_ctl_write", ctl.bits(), ctl_read.clone(), ahead);
    m.comment(if ahead == 1 {
        "Accumulate: the old row is read one cycle before the write."
    } else {
        "Accumulate: the old row is read two cycles before the write, and held in a register."
    });
    m.assign(
        id("mma_acc_rd_en_o"),
        ctl.get(ctl_read, MmaCtl::Valid)
            .land(ctl.get(ctl_read, MmaCtl::Accumulate)),
    );
    m.assign(id("mma_acc_rd_bank_o"), ctl.get(ctl_read, MmaCtl::Bank));
    m.assign(id("mma_acc_rd_row_o"), ctl.get(ctl_read, MmaCtl::Row));
    sink(
        &mut m,
        "mma_ctl_read",
        vec![
            ctl.get(ctl_read, MmaCtl::Last),
            ctl.get(ctl_read, MmaCtl::Pc),
            src_last,
        ],
    );

    m.comment("The swap flag travels with the first vector of an MMA ... swap.");
    let (swd, swq) = m.flop("mma_swap", 1, true);
    m.assign(
        swd,
        issued(Opcode::Mma).land(decoded(ctx, Opcode::Mma, "swap")),
    );
    let swq = await_read(&mut m, &ctx.cfg, "mma_swap_read", 1, swq);
    let y = m.wire("y", 32 * n);
    m.instance(
        Instance::new("mtn_array", "u_array")
            .clocked()
            .conn("x_i", MMA_READ.data())
            .conn("swap_i", swq)
            .conn("shadow_we_i", shadow_we)
            .conn("shadow_i", LDW_READ.data())
            .conn("y_o", y.clone()),
    );

    m.comment(&format!(
        "Write (or accumulate into) the destination row {mma_latency} cycles after the read."
    ));
    let valid = ctl.get(ctl_write, MmaCtl::Valid);
    m.assign(id("mma_wr_en_o"), valid.clone());
    m.assign(id("mma_wr_bank_o"), ctl.get(ctl_write, MmaCtl::Bank));
    m.assign(id("mma_wr_row_o"), ctl.get(ctl_write, MmaCtl::Row));
    let accumulate = m.wire("accumulate", 1);
    m.assign(accumulate.clone(), ctl.get(ctl_write, MmaCtl::Accumulate));
    // A registered accumulate holds the old row, read a cycle earlier, in a register.
    let old_row = if ctx.cfg.chip.registered_accumulate {
        let (d, q) = m.flop("mma_acc_old", 32 * n, true);
        m.assign(d, MMA_ACC_READ.data());
        q
    } else {
        MMA_ACC_READ.data()
    };
    m.items.push(Item::Generate {
        genvar: "l".into(),
        count: int(n as i64),
        label: "g_lane".into(),
        items: vec![Item::Assign(
            id("mma_wr_data_o").lane(id("l"), 32),
            y.lane(id("l"), 32) + mux(accumulate, old_row.lane(id("l"), 32), lit(32, 0)),
        )],
    });
    m.assign(
        retire(Unit::MxuArray),
        valid.land(ctl.get(ctl_write, MmaCtl::Last)),
    );
    m.assign(retire_pc(Unit::MxuArray), ctl.get(ctl_write, MmaCtl::Pc));
    load_tag.declare(&mut m, "LDW's stream tag");
    load.declare(&mut m, "LDW's control as the weight row arrives");
    tag.declare(&mut m, "MMA's destination stream tag");
    ctl.declare(&mut m, "MMA's control, from read to write");
    m
}

/// Bundles the chip joins to this block.
pub fn mem_ports() -> [MemPort; 4] {
    [LDW_READ, MMA_READ, MMA_ACC_READ, MMA_WRITE]
}
