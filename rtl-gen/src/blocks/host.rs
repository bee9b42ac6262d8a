//! The host port: 32-bit registers and a staging row that moves whole rows between the host
//! and any memory of the chip. See [`crate::host_map`] for the register map.

use isa::timing::read_registers;
use isa::Opcode;

use super::bus::{Bundle, MemPort, Reach};
use super::tables::host_tables_bundle;
use crate::ast::*;
use crate::ctx::{param_layout, Ctx};
use crate::host_map::{
    control_layout, param_stage_words, row_command_layout, shape_layout, status_layout, Control,
    ParamField, Reg, Region, RowCommand, Shape, Status,
};
use crate::packed::Enum;
use crate::pipeline::await_read;

pub const HOST_READ: MemPort = MemPort::read("host", Reach::Any, 32);
pub const HOST_WRITE: MemPort = MemPort::write("host", Reach::Any, 32);

/// The host's writes of instruction memory lines (the host is the producer).
pub fn imem_bundle(ctx: &Ctx) -> Bundle {
    Bundle::default()
        .fwd("imem_we", 1)
        .fwd("imem_addr", ctx.line_addr_bits)
        .fwd("imem_wdata", ctx.line_bits)
}

/// The host port pins.
pub fn pins_bundle(ctx: &Ctx) -> Bundle {
    Bundle::default()
        .fwd("host_req", 1)
        .fwd("host_we", 1)
        .fwd("host_addr", ctx.host_addr_bits)
        .fwd("host_wdata", 32)
        .back("host_rdata", 32)
}

/// `mtn_host`.
pub fn host(ctx: &Ctx) -> Module {
    let n = ctx.n;
    let s = ctx.stage_words;
    let ab = ctx.host_addr_bits;
    let idx_bits = ab - 1;
    let mut m = Module::clocked(
        "mtn_host",
        &[
            "Host port: 32-bit registers (control, status, cycle count, config hash, row",
            "command) and a staging row. A row command copies one row between the staging row",
            "and a memory; the host writes rows into and reads rows from the staging row one",
            "32-bit word at a time. Row commands and memory writes are ignored while running.",
        ],
    );
    pins_bundle(ctx).ports(&mut m, false);
    m.input("running_i", 1);
    m.input("halted_i", 1);
    m.input("cycle_i", 64);
    m.output("start_o", 1);
    HOST_READ.bundle(ctx).ports(&mut m, true);
    HOST_WRITE.bundle(ctx).ports(&mut m, true);
    host_tables_bundle(ctx).ports(&mut m, true);
    imem_bundle(ctx).ports(&mut m, true);

    let req = id("host_req_i");
    let we = id("host_we_i");
    let addr = id("host_addr_i");
    let is_stage = addr.clone().bit(ab - 1);
    // Registers are decoded on every address bit, so nothing aliases them.
    let low = addr.clone().bits(idx_bits - 1, 0);
    let stage_idx = low.clone();
    let regs = Enum::new(
        "REG",
        idx_bits,
        Reg::ALL.iter().map(|r| (*r, r.name(), *r as u64)),
    );
    let reg_is = |r: Reg| is_stage.clone().lnot().land(low.clone().eq(regs.of(r)));
    let write = req.clone().land(we.clone());
    let running = id("running_i");

    m.comment("Start and row commands are registered, then carried out, in the order written.");
    let control = control_layout();
    let (start_d, start_q) = m.flop("start", 1, true);
    m.assign(
        start_d,
        write
            .clone()
            .land(reg_is(Reg::Control))
            .land(control.get(&id("host_wdata_i"), Control::Start)),
    );
    m.assign(id("start_o"), start_q);
    let (cmd_d, cmd_q) = m.flop("cmd", 32, true);
    let (cv_d, cv_q) = m.flop("cmd_valid", 1, true);
    let take = write
        .clone()
        .land(reg_is(Reg::RowCommand))
        .land(running.clone().lnot());
    m.assign(cv_d, take.clone());
    m.assign(cmd_d, mux(take, id("host_wdata_i"), cmd_q.clone()));
    let cmd = row_command_layout();
    let is_write = cmd.get(&cmd_q, RowCommand::Write);
    let cmd_write = is_write.clone().land(cv_q.clone());
    let cmd_read = is_write.lnot().land(cv_q.clone());
    let region = m.wire("region", cmd.width(RowCommand::Region));
    m.assign(region.clone(), cmd.get(&cmd_q, RowCommand::Region));
    // The low bits of the command's bank (or table) and row.
    let bank = |bits: u32| cmd.low(&cmd_q, RowCommand::Bank, bits);
    let row = |bits: u32| cmd.low(&cmd_q, RowCommand::Row, bits);
    let region_width = cmd.width(RowCommand::Region);
    let regions = Enum::new(
        "REGION",
        region_width,
        Region::ALL.iter().map(|r| (*r, r.name(), *r as u64)),
    );
    let region_is = |r: Region| region.clone().eq(regions.of(r));
    let mem_region = region_is(Region::Sram) | region_is(Region::Acc);

    m.comment("The staging row, 32-bit words.");
    let sb = 32 * s;
    let (stage_d, stage_q) = m.flop("stage", sb, true);
    let (rdp_d, rdp_q) = m.flop("read_pending", 1, true);
    let (rdr_d, rdr_q) = m.flop("read_region", region_width, true);
    m.assign(rdp_d, cmd_read.clone());
    m.assign(rdr_d, mux(cmd_read.clone(), region.clone(), rdr_q.clone()));
    // The memories' data passes their read registers; the tables' reads wait as long, so
    // that every region's row arrives in the same cycle (the command stays put meanwhile).
    let arrives = await_read(&mut m, &ctx.cfg, "read_arrives", 1, rdp_q.clone());
    let table_read = await_read(&mut m, &ctx.cfg, "table_read", 1, cmd_read.clone());
    let busy = if read_registers(&ctx.cfg) == 0 {
        cv_q.clone() | rdp_q.clone()
    } else {
        // Busy until the row arrives, however many registers it passes.
        let (flight_d, flight_q) = m.flop("read_in_flight", 1, true);
        m.assign(
            flight_d,
            (flight_q.clone() | rdp_q.clone()).land(arrives.clone().lnot()),
        );
        cv_q.clone() | rdp_q.clone() | flight_q
    };
    let rdr_is = |r: Region| rdr_q.clone().eq(regions.of(r));

    // What a finished read puts in the staging row, by region: a parameter entry is staged
    // one int32 word per value.
    let entry = param_layout(n);
    let pdata = id("param_host_rdata_i");
    let param_words: Vec<Expr> = param_stage_words(n)
        .into_iter()
        .map(|(field, lane)| {
            let bits = field.value_bits();
            let value = entry.element(&pdata, field, int(lane as i64), bits);
            super::mxu::sext(value, bits, 32)
        })
        .collect();
    let staged = |words: Vec<Expr>| -> Expr {
        let used = words.len() as u32;
        let mut parts: Vec<Expr> = words.into_iter().rev().collect();
        if used < s {
            parts.insert(0, zero(32 * (s - used)));
        }
        cat(parts)
    };
    let captured = m.wire("captured", sb);
    let mut row_read = staged(
        (0..n)
            .map(|l| id("host_rd_data_i").part(int((32 * l) as i64), 32))
            .collect(),
    );
    if ctx.has(Opcode::Lut) {
        let entry = staged(vec![id("lut_host_rdata_i")]);
        row_read = mux(rdr_is(Region::Lut), entry, row_read);
    }
    m.assign(
        captured.clone(),
        mux(rdr_is(Region::Param), staged(param_words), row_read),
    );
    // Each word decodes its own write (a one-hot of the index), so no shifter stands
    // between the host's address and the row; a host write wins over a read's capture.
    let word_we = m.wire_of(
        "stage_word_we",
        s,
        mux(
            write.clone().land(is_stage.clone()),
            lit(s, 1).shl(stage_idx.clone()),
            zero(s),
        ),
    );
    let word = |row: &Expr| row.clone().lane(id("w"), 32);
    let mut words = Items::default();
    words.push(Item::Assign(
        word(&stage_d),
        mux(
            word_we.at(id("w")),
            id("host_wdata_i"),
            mux(arrives.clone(), word(&captured), word(&stage_q)),
        ),
    ));
    m.items.push(words.generate("w", s, "g_stage_word"));

    m.comment("Row commands: one access to the addressed memory the cycle after the command.");
    let rb = ctx.row_bits;
    let bbits = ctx.bank_bits;
    m.assign(
        id("host_rd_en_o"),
        cmd_read.clone().land(mem_region.clone()),
    );
    m.assign(id("host_wr_en_o"), cmd_write.clone().land(mem_region));
    for p in ["host_rd", "host_wr"] {
        m.assign(id(format!("{p}_acc_o")), region_is(Region::Acc));
        m.assign(id(format!("{p}_bank_o")), bank(bbits));
        m.assign(id(format!("{p}_row_o")), row(rb));
    }
    m.assign(id("host_wr_data_o"), stage_q.clone().bits(32 * n - 1, 0));

    if ctx.has(Opcode::Lut) {
        let tb = ctx.layout.table_bits;
        m.assign(
            id("lut_host_we_o"),
            cmd_write.clone().land(region_is(Region::Lut)),
        );
        m.assign(
            id("lut_host_re_o"),
            table_read.clone().land(region_is(Region::Lut)),
        );
        m.assign(id("lut_host_addr_o"), cat(vec![bank(tb), row(8)]));
        m.assign(id("lut_host_wdata_o"), stage_q.clone().bits(31, 0));
    }
    m.assign(
        id("param_host_we_o"),
        cmd_write.clone().land(region_is(Region::Param)),
    );
    m.assign(
        id("param_host_re_o"),
        table_read.land(region_is(Region::Param)),
    );
    m.assign(id("param_host_addr_o"), row(ctx.param_addr_bits));
    // The entry from its staging words, each value cut to its width in the entry.
    let stage_words = param_stage_words(n);
    let word_of = |field: ParamField, lane: u32| {
        let w = stage_words
            .iter()
            .position(|x| *x == (field, lane))
            .expect("every value of the entry is staged") as u32;
        stage_q
            .clone()
            .part(int((32 * w) as i64), field.value_bits())
    };
    m.assign(
        id("param_host_wdata_o"),
        entry.pack(|field| {
            let lanes = if field.per_lane() { n } else { 1 };
            cat((0..lanes).rev().map(|l| word_of(field, l)).collect())
        }),
    );
    m.assign(id("imem_we_o"), cmd_write.land(region_is(Region::Imem)));
    m.assign(id("imem_addr_o"), row(ctx.line_addr_bits));
    m.assign(
        id("imem_wdata_o"),
        stage_q.clone().bits(ctx.line_bits - 1, 0),
    );

    m.comment("Register reads, registered: the data is there the cycle after the request.");
    let hash = ctx.cfg.hash().0;
    let status_word = status_layout();
    let status = status_word.pack(|f| match f {
        Status::Reserved => zero(29),
        Status::Busy => busy.clone(),
        Status::Halted => id("halted_i"),
        Status::Running => running.clone(),
    });
    let stage_word = m.wire("stage_word", 32);
    let word_at = stage_q
        .clone()
        .part(cat(vec![stage_idx.clone(), lit(5, 0)]), 32);
    if s == 1 << idx_bits {
        m.assign(stage_word.clone(), word_at);
    } else {
        m.assign(
            stage_word.clone(),
            mux(stage_idx.lt(lit(idx_bits, s as u64)), word_at, lit(32, 0)),
        );
    }
    let reg_value = |r: Reg| -> Expr {
        match r {
            Reg::Control => status.clone(),
            Reg::CycleLow => id("cycle_i").bits(31, 0),
            Reg::CycleHigh => id("cycle_i").bits(63, 32),
            Reg::RowCommand => cmd_q.clone(),
            Reg::HashLow => lit(32, hash & 0xffff_ffff),
            Reg::HashHigh => lit(32, hash >> 32),
            Reg::Shape => lit(
                32,
                shape_layout().value(|f| match f {
                    Shape::StageWords => s as u64,
                    Shape::SramBanks => ctx.cfg.chip.sram_banks as u64,
                    Shape::Lanes => n as u64,
                }),
            ),
        }
    };
    let (rd_d, rd_q) = m.flop("rdata", 32, false);
    let arms = Reg::ALL
        .iter()
        .map(|r| (vec![regs.of(*r)], vec![set(rd_d.clone(), reg_value(*r))]))
        .collect();
    m.comb(vec![
        set(rd_d.clone(), rd_q.clone()),
        if_(
            req.land(we.lnot()),
            vec![if_else(
                is_stage,
                vec![set(rd_d.clone(), stage_word)],
                vec![Stmt::Case(low, arms, vec![set(rd_d.clone(), lit(32, 0))])],
            )],
        ),
    ]);
    m.assign(id("host_rdata_o"), rd_q);

    control.declare(&mut m, "The control register, written");
    entry.declare(&mut m, "A parameter entry");
    cmd.declare(&mut m, "The row command");
    status_word.declare(&mut m, "The status");
    regions.declare(&mut m, "Row command regions.");
    regs.declare(&mut m, "Register word addresses.");
    m
}
