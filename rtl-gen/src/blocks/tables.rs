//! Lookup tables and requantization parameters: the memories the vector unit reads beside
//! the banks, loaded by the host.

use super::bus::Bundle;
use super::vector::tables_bundle;
use isa::encoding::bits_for;
use isa::Opcode;

use crate::ast::*;
use crate::ctx::{param_entry_bits, param_layout, Ctx, ParamMemory, LUT_ENTRIES};

/// The host's access to the tables the chip has (the host is the producer).
pub fn host_tables_bundle(ctx: &Ctx) -> Bundle {
    let pb = param_entry_bits(ctx.n);
    let luts = Bundle::default()
        .fwd("lut_host_we", 1)
        .fwd("lut_host_re", 1)
        .fwd("lut_host_addr", ctx.lut_addr_bits)
        .fwd("lut_host_wdata", 32)
        .back("lut_host_rdata", 32);
    let tables = if ctx.has(Opcode::Lut) {
        luts
    } else {
        Bundle::default()
    };
    tables
        .fwd("param_host_we", 1)
        .fwd("param_host_re", 1)
        .fwd("param_host_addr", ctx.param_addr_bits)
        .fwd("param_host_wdata", pb)
        .back("param_host_rdata", pb)
}

/// `mtn_tables`: the parameter memory and one copy of the lookup tables per lane, so every
/// lane looks up its own entry in the same cycle. The host writes every copy at once and
/// reads copy 0; it only does so while the chip is idle.
pub fn tables(ctx: &Ctx) -> Module {
    let c = &ctx.cfg.chip;
    let n = ctx.n;
    let mut m = Module::new(
        "mtn_tables",
        &[
            "Requantization parameters and lookup tables. Each lane has its own copy of the",
            "tables (one lookup per lane per cycle); the host writes all copies, reads copy 0.",
        ],
    );
    m.input("clk_i", 1);
    tables_bundle(ctx).ports(&mut m, true);
    host_tables_bundle(ctx).ports(&mut m, false);

    m.comment("The parameter memories: each holds some fields of every entry (the host moves");
    m.comment("whole entries), read by the vector unit at the stage that computes with them.");
    let host_param = id("param_host_we_i") | id("param_host_re_i");
    let entry = param_layout(n);
    let mut read_back = Vec::new();
    for mem in ParamMemory::ALL {
        let (port, layout) = (mem.port(), mem.layout(n));
        let rdata = id(format!("{port}_rd_data_o"));
        m.instance(
            Instance::new("mtn_ram_sp", &format!("u_{port}"))
                .param("Width", int(layout.bits() as i64))
                .param("Depth", int(c.param_depth as i64))
                .param("AddrBits", int(ctx.param_addr_bits as i64))
                .conn("clk_i", id("clk_i"))
                .conn("en_i", id(format!("{port}_rd_en_i")) | host_param.clone())
                .conn("we_i", id("param_host_we_i"))
                .conn(
                    "addr_i",
                    mux(
                        host_param.clone(),
                        id("param_host_addr_i"),
                        id(format!("{port}_rd_addr_i")),
                    ),
                )
                .conn(
                    "wdata_i",
                    layout.pack(|f| entry.get(&id("param_host_wdata_i"), f)),
                )
                .conn("rdata_o", rdata.clone()),
        );
        read_back.push((mem, layout, rdata));
    }
    m.assign(
        id("param_host_rdata_o"),
        entry.pack(|f| {
            let (_, layout, rdata) = read_back
                .iter()
                .find(|(mem, ..)| *mem == ParamMemory::of(f))
                .expect("every field has a memory");
            layout.get(rdata, f)
        }),
    );
    if ctx.has(Opcode::Lut) {
        lookup_tables(ctx, &mut m);
    }
    entry.declare(&mut m, "A parameter entry");
    for (_, layout, _) in &read_back {
        layout.declare(&mut m, "A parameter memory's word");
    }
    m
}

/// One copy of the lookup tables per lane the vector unit computes at once.
fn lookup_tables(ctx: &Ctx, m: &mut Module) {
    let (c, lanes) = (&ctx.cfg.chip, ctx.vector_lanes);

    let ab = ctx.lut_addr_bits;
    // The RAM needs only the bits its depth does: with one table, the table field of the
    // address ({table, entry}) is always 0.
    let depth = c.lut_tables * LUT_ENTRIES;
    let ram_ab = bits_for(depth);
    let l = || id("l");
    let host_lut = id("lut_host_we_i") | id("lut_host_re_i").land(l().eq(int(0)));
    let mut lane = Items::default();
    let addr = lane.wire(
        "addr",
        ab,
        mux(
            host_lut.clone(),
            id("lut_host_addr_i"),
            id("lut_rd_addr_i").lane(l(), ab),
        ),
    );
    let ram_addr = if ram_ab < ab {
        lane.wire(
            "unused_addr",
            1,
            addr.clone().bits(ab - 1, ram_ab).reduce_xor(),
        );
        addr.bits(ram_ab - 1, 0)
    } else {
        addr
    };
    lane.push(Item::Instance(
        Instance::new("mtn_ram_sp", "u_lut")
            .param("Width", int(32))
            .param("Depth", int(depth as i64))
            .param("AddrBits", int(ram_ab as i64))
            .conn("clk_i", id("clk_i"))
            .conn("en_i", id("lut_rd_en_i") | host_lut)
            .conn("we_i", id("lut_host_we_i"))
            .conn("addr_i", ram_addr)
            .conn("wdata_i", id("lut_host_wdata_i"))
            .conn("rdata_o", id("lut_rd_data_o").lane(l(), 32)),
    ));
    m.items.push(lane.generate("l", lanes, "g_lane"));
    m.assign(id("lut_host_rdata_o"), id("lut_rd_data_o").bits(31, 0));
}
